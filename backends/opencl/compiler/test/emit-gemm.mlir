// RUN: pengc %s --targets=opencl --emit=opencl | FileCheck %s
// RUN: pengc %s --targets=host,opencl -o %t.peng && peng-info --module=%t.peng | FileCheck %s --check-prefix=MODULE
// The tiled matmul kernel: tile shapes are macros that the program build
// fixes from the device's limits (PENG_DEVICE_*), the work-group size is
// the kernel's own, operand layouts become strides, casts become C casts.

// CHECK: #ifndef PENG_GEMM_LOCAL
// CHECK: #if defined(PENG_DEVICE_LOCAL_MEM_DEDICATED) && !PENG_DEVICE_LOCAL_MEM_DEDICATED
// CHECK: #define PENG_GEMM_VN_float 16
// CHECK: #define PENG_GEMM_MAD_int(acc, a, b) PENG_CAT(as_, PENG_CAT(int, PENG_GEMM_VN_int))(PENG_CAT(as_, PENG_CAT(uint, PENG_GEMM_VN_int))(acc) +
// CHECK: #define PENG_GEMM_KT 16

// CHECK: __kernel __attribute__((reqd_work_group_size(PENG_GEMM_WX, PENG_GEMM_WY, 1)))
// CHECK-NEXT: void mm_tb(__global const float* in0, __global const float* in1, __global float* out0, long in0_d0, long in0_d1, long in1_d0, long in1_d1, long out0_d0, long out0_d1) {
// CHECK-NEXT: // C = 0.0f + A * B (tiled matmul; A is in0, B is in1)
// CHECK: const long M = out0_d0, N = out0_d1, K = in0_d1, batches = 1L;
// CHECK-NEXT: const long sAb = 0, sAm = in0_d1, sAk = 1;
// CHECK-NEXT: const long sBb = 0, sBk = 1, sBn = in1_d1;
// CHECK: __local float tile_a[PENG_GEMM_KT][PENG_GEMM_WY * PENG_GEMM_RM];
// CHECK: barrier(CLK_LOCAL_MEM_FENCE);
// B's columns are not contiguous: no vector loads of B from global memory.
// CHECK: if (0 && col0 + PENG_GEMM_VN_float <= N) {
// CHECK: if (1 && col0 + PENG_GEMM_VN_float <= N) {
// CHECK-NEXT: PENG_CAT(vstore, PENG_GEMM_VN_float)(acc[r], 0, cr + col0);
func.func @mm_tb(%a: tensor<37x29xf32>, %b: tensor<45x29xf32>) -> tensor<37x45xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x45xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<37x45xf32>) -> tensor<37x45xf32>
  %r = linalg.matmul_transpose_b ins(%a, %b : tensor<37x29xf32>, tensor<45x29xf32>) outs(%c : tensor<37x45xf32>) -> tensor<37x45xf32>
  return %r : tensor<37x45xf32>
}

// CHECK: void bmm_i8(__global const char* in0, __global const char* in1, __global int* out0,
// CHECK: const long M = out0_d1, N = out0_d2, K = in0_d2, batches = out0_d0;
// CHECK-NEXT: const long sAb = in0_d1 * in0_d2, sAm = in0_d2, sAk = 1;
// CHECK: tile_a[kk][mm] = m < M && k < K ? (int)(a[m * sAm + k * sAk]) : (int)0;
// CHECK: const vec_t bv = PENG_CAT(convert_, PENG_CAT(int, PENG_GEMM_VN_int))(PENG_CAT(vload, PENG_GEMM_VN_int)(0, bc + k * sBk));
// CHECK: acc[r] = PENG_GEMM_MAD_int(acc[r], (vec_t)((int)(ar[r][k * sAk])), bv);
func.func @bmm_i8(%a: tensor<2x4x6xi8>, %b: tensor<2x6x5xi8>) -> tensor<2x4x5xi32> {
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<2x4x5xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<2x4x5xi32>) -> tensor<2x4x5xi32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x4x6xi8>, tensor<2x6x5xi8>) outs(%f : tensor<2x4x5xi32>) -> tensor<2x4x5xi32>
  return %r : tensor<2x4x5xi32>
}

// MODULE: executable opencl opencl-c
// MODULE-NEXT: entry mm_tb: symbol mm_tb, grid 2:1/64 2:0/64, workgroup 0x0x0
// MODULE-NEXT: entry bmm_i8: symbol bmm_i8, grid 2:2/64 2:1/64 2:0/1, workgroup 0x0x0
