# bf16_dot_4x2: y[t, o..o+3] = sum_i x[t, i] * w[o+r, i] for 4 weight rows and 2 activation row(s), with
# AVX512-BF16 vdpbf16ps (32 bf16 products per instruction, f32 accumulation). .NET exposes no AVX512-BF16
# intrinsics, so this is assembled (scripts/gen-bf16-dot.py wrote it; scripts/assemble-kernels.sh turns it into
# bf16_dot_4x2.g.cs) and its bytes are loaded into executable memory at run time.
#
# Argument block (8-byte fields) at rax: an OS-specific prologue moves the first argument (rdi on SysV, rcx on
# Windows) there. Only registers volatile in both ABIs are used: rax rcx rdx r8-r11, zmm0-5, zmm16-31.
#   [rax+0]  w: weight row o (bf16, row-major)
#   [rax+8]  weight row stride in bytes
#   [rax+16] x: packed activations; per 32-element step 4 rows of 32 bf16 (256 bytes; rows past 2 unread)
#   [rax+24] steps: n / 32 (>= 1)
#   [rax+32] y: &y[t0, o] (f32)
#   [rax+40] y row stride in bytes
#   [rax+48] activation rows to store (1..2)
#   [rax+56] the weight rows to prefetch into L2 meanwhile (the next block's row 0)
.intel_syntax noprefix
.text
.globl bf16_dot_4x2
bf16_dot_4x2:
  mov rcx, [rax]
  mov rdx, [rax+8]
  lea r8, [rdx+rdx*2]
  mov r9, [rax+16]
  mov r10, [rax+24]
  mov r11, [rax+56]
  vpxord zmm16, zmm16, zmm16
  vpxord zmm17, zmm17, zmm17
  vpxord zmm18, zmm18, zmm18
  vpxord zmm19, zmm19, zmm19
  vpxord zmm20, zmm20, zmm20
  vpxord zmm21, zmm21, zmm21
  vpxord zmm22, zmm22, zmm22
  vpxord zmm23, zmm23, zmm23
  vpxord zmm24, zmm24, zmm24
  vpxord zmm25, zmm25, zmm25
  vpxord zmm26, zmm26, zmm26
  vpxord zmm27, zmm27, zmm27
  vpxord zmm28, zmm28, zmm28
  vpxord zmm29, zmm29, zmm29
  vpxord zmm30, zmm30, zmm30
  vpxord zmm31, zmm31, zmm31
1:
  vmovdqu16 zmm0, [r9+0]
  vmovdqu16 zmm1, [r9+64]
  vmovdqu16 zmm4, [rcx]
  vmovdqu16 zmm5, [rcx+rdx]
  prefetcht1 [r11]
  prefetcht1 [r11+rdx]
  vdpbf16ps zmm16, zmm4, zmm0
  vdpbf16ps zmm17, zmm4, zmm1
  vmovdqu16 zmm4, [rcx+rdx*2]
  vdpbf16ps zmm20, zmm5, zmm0
  vdpbf16ps zmm21, zmm5, zmm1
  vmovdqu16 zmm5, [rcx+r8]
  prefetcht1 [r11+rdx*2]
  prefetcht1 [r11+r8]
  vdpbf16ps zmm24, zmm4, zmm0
  vdpbf16ps zmm25, zmm4, zmm1
  vdpbf16ps zmm28, zmm5, zmm0
  vdpbf16ps zmm29, zmm5, zmm1
  add rcx, 64
  add r11, 64
  add r9, 256
  dec r10
  jnz 1b
# Transpose-sum of the 16 accumulators (k = 4r + t): every sum takes the same adds in the same order, so a
# row's result does not depend on the other rows of its block. Afterwards lane 4t + r of zmm16 is y[t, o+r].
  vshuff64x2 zmm0, zmm16, zmm17, 0x44
  vshuff64x2 zmm1, zmm16, zmm17, 0xee
  vaddps zmm16, zmm0, zmm1
  vshuff64x2 zmm0, zmm18, zmm19, 0x44
  vshuff64x2 zmm1, zmm18, zmm19, 0xee
  vaddps zmm17, zmm0, zmm1
  vshuff64x2 zmm0, zmm20, zmm21, 0x44
  vshuff64x2 zmm1, zmm20, zmm21, 0xee
  vaddps zmm18, zmm0, zmm1
  vshuff64x2 zmm0, zmm22, zmm23, 0x44
  vshuff64x2 zmm1, zmm22, zmm23, 0xee
  vaddps zmm19, zmm0, zmm1
  vshuff64x2 zmm0, zmm24, zmm25, 0x44
  vshuff64x2 zmm1, zmm24, zmm25, 0xee
  vaddps zmm20, zmm0, zmm1
  vshuff64x2 zmm0, zmm26, zmm27, 0x44
  vshuff64x2 zmm1, zmm26, zmm27, 0xee
  vaddps zmm21, zmm0, zmm1
  vshuff64x2 zmm0, zmm28, zmm29, 0x44
  vshuff64x2 zmm1, zmm28, zmm29, 0xee
  vaddps zmm22, zmm0, zmm1
  vshuff64x2 zmm0, zmm30, zmm31, 0x44
  vshuff64x2 zmm1, zmm30, zmm31, 0xee
  vaddps zmm23, zmm0, zmm1
  vshuff64x2 zmm0, zmm16, zmm17, 0x88
  vshuff64x2 zmm1, zmm16, zmm17, 0xdd
  vaddps zmm16, zmm0, zmm1
  vshuff64x2 zmm0, zmm18, zmm19, 0x88
  vshuff64x2 zmm1, zmm18, zmm19, 0xdd
  vaddps zmm17, zmm0, zmm1
  vshuff64x2 zmm0, zmm20, zmm21, 0x88
  vshuff64x2 zmm1, zmm20, zmm21, 0xdd
  vaddps zmm18, zmm0, zmm1
  vshuff64x2 zmm0, zmm22, zmm23, 0x88
  vshuff64x2 zmm1, zmm22, zmm23, 0xdd
  vaddps zmm19, zmm0, zmm1
  vshufps zmm0, zmm16, zmm17, 0x44
  vshufps zmm1, zmm16, zmm17, 0xee
  vaddps zmm16, zmm0, zmm1
  vshufps zmm0, zmm18, zmm19, 0x44
  vshufps zmm1, zmm18, zmm19, 0xee
  vaddps zmm17, zmm0, zmm1
  vshufps zmm0, zmm16, zmm17, 0x88
  vshufps zmm1, zmm16, zmm17, 0xdd
  vaddps zmm16, zmm0, zmm1
  mov r9, [rax+32]
  mov rdx, [rax+40]
  mov r10, [rax+48]
  vmovups [r9], xmm16
  cmp r10, 2
  jb 2f
  vextractf32x4 [r9+rdx], zmm16, 1
2:
  vzeroupper
  ret
