#!/usr/bin/env python3
"""Writes bf16_dot_4x{1,2,4}.s into the folder given (scripts/assemble-kernels.sh does so and assembles them): the
AVX512-BF16 micro-kernels of Bf16DotGemv, in GNU as syntax, for 4 weight rows and 1, 2 or 4 activation rows. Every variant keeps accumulator k = 4r + t and runs
the same 16-way transpose-sum (missing rows' accumulators stay zero, and x + 0 = x), so a row gets the same bits
whichever variant computed it. This file is their source: edit it, then run scripts/assemble-kernels.sh."""
import pathlib

HEADER = """# bf16_dot_4x{T}: y[t, o..o+3] = sum_i x[t, i] * w[o+r, i] for 4 weight rows and {T} activation row(s), with
# AVX512-BF16 vdpbf16ps (32 bf16 products per instruction, f32 accumulation). .NET exposes no AVX512-BF16
# intrinsics, so this is assembled (scripts/gen-bf16-dot.py wrote it; scripts/assemble-kernels.sh puts its bytes
# in Native/Bf16DotCode.g.cs) and loaded into executable memory at run time.
#
# Argument block (8-byte fields) at rax: an OS-specific prologue moves the first argument (rdi on SysV, rcx on
# Windows) there. Only registers volatile in both ABIs are used: rax rcx rdx r8-r11, zmm0-5, zmm16-31.
#   [rax+0]  w: weight row o (bf16, row-major)
#   [rax+8]  weight row stride in bytes
#   [rax+16] x: packed activations; per 32-element step 4 rows of 32 bf16 (256 bytes; rows past {T} unread)
#   [rax+24] steps: n / 32 (>= 1)
#   [rax+32] y: &y[t0, o] (f32)
#   [rax+40] y row stride in bytes
#   [rax+48] activation rows to store (1..{T})
#   [rax+56] the weight rows to prefetch into L2 meanwhile (the next block's row 0)
.intel_syntax noprefix
.text
.globl bf16_dot_4x{T}
bf16_dot_4x{T}:
  mov rcx, [rax]
  mov rdx, [rax+8]
  lea r8, [rdx+rdx*2]
  mov r9, [rax+16]
  mov r10, [rax+24]
  mov r11, [rax+56]"""

def kernel(T):
    acc = lambda k: f"zmm{16 + k}"
    out = [HEADER.format(T=T)]
    a = out.append
    for k in range(16):
        a(f"  vpxord {acc(k)}, {acc(k)}, {acc(k)}")
    a("1:")
    for t in range(T):
        a(f"  vmovdqu16 zmm{t}, [r9+{64 * t}]")
    a("  vmovdqu16 zmm4, [rcx]")
    a("  vmovdqu16 zmm5, [rcx+rdx]")
    a("  prefetcht1 [r11]")
    a("  prefetcht1 [r11+rdx]")
    dp = lambda r, reg: [a(f"  vdpbf16ps {acc(4 * r + t)}, {reg}, zmm{t}") for t in range(T)]
    dp(0, "zmm4")
    a("  vmovdqu16 zmm4, [rcx+rdx*2]")
    dp(1, "zmm5")
    a("  vmovdqu16 zmm5, [rcx+r8]")
    a("  prefetcht1 [r11+rdx*2]")
    a("  prefetcht1 [r11+r8]")
    dp(2, "zmm4")
    dp(3, "zmm5")
    a("  add rcx, 64")
    a("  add r11, 64")
    a("  add r9, 256")
    a("  dec r10")
    a("  jnz 1b")
    a("# Transpose-sum of the 16 accumulators (k = 4r + t): every sum takes the same adds in the same order, so a")
    a("# row's result does not depend on the other rows of its block. Afterwards lane 4t + r of zmm16 is y[t, o+r].")
    def stage(n, shuf, lo, hi):
        for p in range(n // 2):
            s0, s1, d = f"zmm{16 + 2 * p}", f"zmm{17 + 2 * p}", f"zmm{16 + p}"
            a(f"  {shuf} zmm0, {s0}, {s1}, {lo}")
            a(f"  {shuf} zmm1, {s0}, {s1}, {hi}")
            a(f"  vaddps {d}, zmm0, zmm1")
    stage(16, "vshuff64x2", "0x44", "0xee")
    stage(8, "vshuff64x2", "0x88", "0xdd")
    stage(4, "vshufps", "0x44", "0xee")
    stage(2, "vshufps", "0x88", "0xdd")
    a("  mov r9, [rax+32]")
    a("  mov rdx, [rax+40]")
    a("  mov r10, [rax+48]")
    a("  vmovups [r9], xmm16")
    if T >= 2:
        a("  cmp r10, 2")
        a("  jb 2f")
        a("  vextractf32x4 [r9+rdx], zmm16, 1")
    if T >= 3:
        a("  cmp r10, 3")
        a("  jb 2f")
        a("  vextractf32x4 [r9+rdx*2], zmm16, 2")
        a("  cmp r10, 4")
        a("  jb 2f")
        a("  lea r9, [r9+rdx*2]")
        a("  vextractf32x4 [r9+rdx], zmm16, 3")
    a("2:")
    a("  vzeroupper")
    a("  ret")
    return "\n".join(out) + "\n"

import sys
native = pathlib.Path(sys.argv[1])
for T in (1, 2, 4):
    (native / f"bf16_dot_4x{T}.s").write_text(kernel(T))
    print(f"wrote bf16_dot_4x{T}.s")
