#!/usr/bin/env python3
"""Writes quant_dot_{int8,int4}_2x{1,2,3,4}.s into the folder given (scripts/assemble-kernels.sh does so and
assembles them): the AVX512-VNNI micro-kernels of VnniGemv, in GNU as syntax, for 2 weight rows of the packed
int8/int4 layout (QuantLayout: quads of 64, group j's four columns at slots 4j..4j+3) and 1-4 activation rows
quantized to int8 per group. Every variant computes a row exactly the same way (same instructions, same order per
accumulator), so a row's result does not depend on how many rows share its step. This file is their source: edit
it, then run scripts/assemble-kernels.sh."""
import pathlib
import sys

HEADER = """# quant_dot_{F}_2x{T}: for weight rows o, o+1 and {T} activation row(s), y[t, o+r] before the row factor (the
# caller multiplies by it), with AVX512-VNNI vpdpbusd (64 u8 x s8
# products per instruction into the 16 group lanes of a super-block). .NET exposes no AVX512-VNNI intrinsics, so
# this is assembled (scripts/gen-quant-dot.py wrote it; scripts/assemble-kernels.sh puts its bytes in
# Native/QuantDotCode.g.cs) and loaded into executable memory at run time.
#
# {NOTE}
#
# Argument block (8-byte fields) at rax: an OS-specific prologue moves the first argument (rdi on SysV, rcx on
# Windows) there. Only registers volatile in both ABIs are used: rax rcx rdx r8-r11, zmm0-5, zmm16-31. The kernel
# runs `pairs` consecutive pairs of weight rows (o, o+1), (o+2, o+3), ... against the same activations, so one call
# covers many rows; it advances the pointers in the block and uses [rax+96..136] as scratch (the caller sets the
# block for every call). Strides of 0 make a single row (read twice).
#   [rax+0]   w: weight row o, super-block 0 (packed bytes)
#   [rax+8]   weight row stride in bytes
#   [rax+16]  scales of row o (int8: 16 f16 per super-block; int4: f32 d, dmin)   [rax+24] their row stride
#   [rax+32]  sub-scales of row o (int4: 16 u8 scales, 16 u8 mins per super-block) [rax+40] their row stride
#   [rax+48]  x: packed activations; per super-block, per unit ({UNIT} bytes of a row), rows 0-3 in turn
#   [rax+56]  g: per super-block 512 bytes: 4 rows x 16 f32 group scales, then 4 rows x 16 corrections
#             (int8: int32 -128 * sum of the group's int8 activations; int4: f32 scale * that sum)
#   [rax+64]  super-blocks (>= 1)
#   [rax+72]  units per super-block (int8: G/4 quads; int4: G/8 chunks)
#   [rax+80]  out: per pair 16 f32; the dot product of activation row t and weight row r (k = 2t + r) at 4k for
#             k < 4, at 4(k-4)+2 for k >= 4
#   [rax+88]  pairs (>= 1)
#   [rax+96]  scratch: the current pair's scales (rows o, o+1), sub-scales (o, o+1), super-blocks left
#   [rax+136] prefetch distance in bytes: rows w+d and w+d+stride are fetched into L2 while a pair streams
.intel_syntax noprefix
.text
.globl quant_dot_{F}_2x{T}
quant_dot_{F}_2x{T}:"""

NOTES = {
    "int8": "int8: weights are signed; XOR 0x80 makes them w+128 as u8, and each accumulator starts at -128 times its "
            "group's activation sum, so it ends at the signed dot product.",
    "int4": "int4: a 64-byte chunk holds quad 2m in its low nibbles and quad 2m+1 in its high nibbles, values 0..15 "
            "(already unsigned); weight = d*sc*q - dmin*mn, the min term from the groups' activation sums.",
}


def kernel(fmt, T):
    """Registers: zmm0 weight (one row at a time), zmm1 the XOR/nibble constant, zmm2-5 the activation rows of the
    current quad (held across both weight rows: one load each, no memory operands on the dot products),
    zmm16-23 the integer accumulators, zmm24-31 the f32 sums (vector 2t + r; unused ones stay zero)."""
    int4 = fmt == "int4"
    unit = 128 if int4 else 64
    acc = lambda r, t: f"zmm{16 + 2 * t + r}"
    fsum = lambda k: f"zmm{24 + k}"
    xr = lambda t: f"zmm{2 + t}"
    out = [HEADER.format(F=fmt, T=T, UNIT=unit, NOTE=NOTES[fmt])]
    a = out.append
    a(f"  mov r10d, {'0x0f0f0f0f' if int4 else '0x80808080'}")
    a("  vpbroadcastd zmm1, r10d")
    a("4:")
    a("  mov rcx, [rax]")
    a("  mov rdx, [rax+8]")
    a("  mov r11, rcx")
    a("  add r11, [rax+136]")
    a("  mov r8, [rax+48]")
    a("  mov r9, [rax+56]")
    a("  mov r10, [rax+16]")
    a("  mov [rax+96], r10")
    a("  add r10, [rax+24]")
    a("  mov [rax+104], r10")
    a("  mov r10, [rax+32]")
    a("  mov [rax+112], r10")
    a("  add r10, [rax+40]")
    a("  mov [rax+120], r10")
    a("  mov r10, [rax+64]")
    a("  mov [rax+128], r10")
    for k in range(8):
        a(f"  vpxord {fsum(k)}, {fsum(k)}, {fsum(k)}")
    a("3:")
    for t in range(T):
        for r in range(2):
            if int4:
                a(f"  vpxord {acc(r, t)}, {acc(r, t)}, {acc(r, t)}")
            else:
                a(f"  vmovdqu32 {acc(r, t)}, [r9+{256 + 64 * t}]")
    a("  mov r10, [rax+72]")
    a("1:")
    a("  prefetcht1 [r11]")
    a("  prefetcht1 [r11+rdx]")
    rows = ["[rcx]", "[rcx+rdx]"]
    if int4:
        # Quad 2m (low nibbles) for both rows, then quad 2m+1 (high nibbles), reloading the chunk (an L1 hit).
        for half in range(2):
            for t in range(T):
                a(f"  vmovdqu8 {xr(t)}, [r8+{128 * t + 64 * half}]")
            for r in range(2):
                if half == 0:
                    a(f"  vpandd zmm0, zmm1, {rows[r]}")
                else:
                    a(f"  vpsrlw zmm0, {rows[r]}, 4")
                    a("  vpandd zmm0, zmm0, zmm1")
                for t in range(T):
                    a(f"  vpdpbusd {acc(r, t)}, zmm0, {xr(t)}")
    else:
        for t in range(T):
            a(f"  vmovdqu8 {xr(t)}, [r8+{64 * t}]")
        for r in range(2):
            a(f"  vpxord zmm0, zmm1, {rows[r]}")
            for t in range(T):
                a(f"  vpdpbusd {acc(r, t)}, zmm0, {xr(t)}")
    a("  add rcx, 64")
    a("  add r11, 64")
    a(f"  add r8, {4 * unit}")
    a("  dec r10")
    a("  jnz 1b")
    a("# Once per super-block: lane j of an accumulator is group j's integer dot product; scale it into the f32 sums.")
    if int4:
        for r, (m, n) in enumerate([("zmm2", "zmm3"), ("zmm4", "zmm5")]):
            a(f"  mov r10, [rax+{96 + 8 * r}]")
            a("  vbroadcastss zmm0, dword ptr [r10]")
            a(f"  vbroadcastss {n}, dword ptr [r10+4]")
            a(f"  mov r10, [rax+{112 + 8 * r}]")
            a(f"  vpmovzxbd {m}, xmmword ptr [r10]")
            a(f"  vcvtdq2ps {m}, {m}")
            a(f"  vmulps {m}, {m}, zmm0")
            a("  vpmovzxbd zmm0, xmmword ptr [r10+16]")
            a("  vcvtdq2ps zmm0, zmm0")
            a(f"  vmulps {n}, {n}, zmm0")
        a("  add qword ptr [rax+96], 8")
        a("  add qword ptr [rax+104], 8")
        a("  add qword ptr [rax+112], 32")
        a("  add qword ptr [rax+120], 32")
        muls, mins = ["zmm2", "zmm4"], ["zmm3", "zmm5"]
    else:
        a("  mov r10, [rax+96]")
        a("  vcvtph2ps zmm2, ymmword ptr [r10]")
        a("  mov r10, [rax+104]")
        a("  vcvtph2ps zmm3, ymmword ptr [r10]")
        a("  add qword ptr [rax+96], 32")
        a("  add qword ptr [rax+104], 32")
        muls, mins = ["zmm2", "zmm3"], None
    for t in range(T):
        for r in range(2):
            a(f"  vcvtdq2ps {acc(r, t)}, {acc(r, t)}")
            a(f"  vmulps {acc(r, t)}, {acc(r, t)}, {muls[r]}")
            a(f"  vfmadd231ps {fsum(2 * t + r)}, {acc(r, t)}, [r9+{64 * t}]")
            if mins:
                a(f"  vfnmadd231ps {fsum(2 * t + r)}, {mins[r]}, [r9+{256 + 64 * t}]")
    a("  add r9, 512")
    a("  dec qword ptr [rax+128]")
    a("  jnz 3b")
    a("# Transpose-sum of the 8 sums (each one's lanes added in the same order whatever the others hold): afterwards")
    a("# lane 4k of zmm24 is sum k for k < 4 and lane 4(k-4)+2 is sum k for k >= 4.")
    def stage(n, shuf, lo, hi):
        for p_ in range(n // 2):
            s0, s1, d = f"zmm{24 + 2 * p_}", f"zmm{25 + 2 * p_}", f"zmm{24 + p_}"
            a(f"  {shuf} zmm0, {s0}, {s1}, {lo}")
            a(f"  {shuf} zmm2, {s0}, {s1}, {hi}")
            a(f"  vaddps {d}, zmm0, zmm2")
    stage(8, "vshuff64x2", "0x44", "0xee")
    stage(4, "vshuff64x2", "0x88", "0xdd")
    stage(2, "vshufps", "0x44", "0xee")
    a("  vshufps zmm0, zmm24, zmm24, 0xb1")
    a("  vaddps zmm24, zmm24, zmm0")
    a("  mov r10, [rax+80]")
    a("  vmovups [r10], zmm24")
    a("  add qword ptr [rax+80], 64")
    a("# Next pair: two rows on.")
    for base, stride in ((0, 8), (16, 24), (32, 40)):
        a(f"  mov r10, [rax+{stride}]")
        a("  shl r10, 1")
        a(f"  add [rax+{base}], r10")
    a("  dec qword ptr [rax+88]")
    a("  jnz 4b")
    a("  vzeroupper")
    a("  ret")
    return "\n".join(out) + "\n"


native = pathlib.Path(sys.argv[1])
for fmt in ("int8", "int4"):
    for T in (1, 2, 3, 4):
        (native / f"quant_dot_{fmt}_2x{T}.s").write_text(kernel(fmt, T))
        print(f"wrote quant_dot_{fmt}_2x{T}.s")
