// RUN: pengc %s --targets=opencl --emit=opencl | FileCheck %s
// RUN: pengc %s --targets=host,opencl -o %t.peng
// Reductions print as one work-item per output element: a private
// accumulator, initialised from the fill, updated in a sequential loop over
// the reduced dimension, stored once. pengc's split gives each workgroup
// (group z) one row here; the work-items of y > 0 stay idle.
#id2 = affine_map<(i, j) -> (i, j)>
#rows = affine_map<(i, j) -> (i)>

// CHECK-LABEL: __kernel void rowsum_13x7(__global const float* in0, __global float* out0, long in0_d0, long in0_d1, long out0_d0) {
// CHECK: for (long [[ROW:i[0-9]+]] = {{.*}}) {
// CHECK-NEXT: float [[ACC:acc[0-9]+]] = 0.0f;
// CHECK-NEXT: for (long [[COL:i[0-9]+]] = 0L; [[COL]] < 7L; [[COL]] += 1L) {
// CHECK: const float [[X:v[0-9]+]] = in0[({{v[0-9]+}}) * 7 + [[COL]]];
// CHECK-NEXT: const float [[S:v[0-9]+]] = ([[ACC]] + [[X]]);
// CHECK-NEXT: const float [[T:t[0-9]+]] = [[S]];
// CHECK-NEXT: [[ACC]] = [[T]];
// CHECK-NEXT: }
// CHECK: out0[{{v[0-9]+}}] = [[ACC]];
func.func @rowsum_13x7(%a: tensor<13x7xf32>) -> tensor<13xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<13xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<13xf32>) -> tensor<13xf32>
  %r = linalg.generic {indexing_maps = [#id2, #rows], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<13x7xf32>) outs(%z : tensor<13xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %acc, %x : f32
    linalg.yield %y : f32
  } -> tensor<13xf32>
  return %r : tensor<13xf32>
}

// A matrix-vector product: the contraction loop runs in each work-item
// (a matmul is the tiled kernel instead: emit-gemm.mlir).
// CHECK-LABEL: __kernel void matvec_5x3(
// CHECK: float [[MACC:acc[0-9]+]] = 0.0f;
// CHECK-NEXT: for (long [[K:i[0-9]+]] = 0L; [[K]] < 3L; [[K]] += 1L) {
// CHECK: = ([[MACC]] + {{v[0-9]+}});
func.func @matvec_5x3(%a: tensor<5x3xf32>, %x: tensor<3xf32>) -> tensor<5xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<5xf32>) -> tensor<5xf32>
  %r = linalg.matvec ins(%a, %x : tensor<5x3xf32>, tensor<3xf32>) outs(%c : tensor<5xf32>) -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// Softmax rows: the row maximum, the exponentials and their sum are
// temporaries between ops, __local arrays at kernel scope. One work-group
// runs each of pengc's workgroups (a row here), a barrier after each loop.
// The row's max and sum are work-group reductions: each work-item reduces a
// strided share from the identity, a tree over a __local array of the
// group's size folds the shares (a step per halving, inactive past the
// runtime's group size), and work-item 0 folds in the fill value and stores.
// CHECK-LABEL: __kernel void softmax_3x40(
// CHECK-NEXT: __local float [[MAX:local[0-9]+]][1];
// CHECK-NEXT: __local float [[SHARE:local[0-9]+]][64];
// CHECK-NEXT: __local float [[EXP:local[0-9]+]][40];
// CHECK-NEXT: __local float [[SUM:local[0-9]+]][1];
// CHECK-NEXT: __local float [[SHARE2:local[0-9]+]][64];
// CHECK: if ({{v[0-9]+}}) {
// CHECK: float [[MACC:acc[0-9]+]] = (-INFINITY);
// CHECK-NEXT: for (long [[K:i[0-9]+]] = local_x; [[K]] < 40L; [[K]] += local_size_x) {
// CHECK: fmax(
// CHECK: [[SHARE]][local_x] = [[MACC]];
// CHECK-NEXT: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
// CHECK-NEXT: const long [[S:v[0-9]+]] = (long)((ulong)local_size_x >> (ulong)1L);
// CHECK-NEXT: const bool [[ACTIVE:v[0-9]+]] = ((ulong)local_x < (ulong)[[S]]);
// CHECK-NEXT: if ([[ACTIVE]]) {
// CHECK-NEXT: const float [[A:v[0-9]+]] = [[SHARE]][local_x];
// CHECK-NEXT: const long [[UP:v[0-9]+]] = (local_x + [[S]]);
// CHECK-NEXT: const float [[B:v[0-9]+]] = [[SHARE]][[[UP]]];
// CHECK-NEXT: const float [[M:v[0-9]+]] = fmax([[B]], [[A]]);
// CHECK-NEXT: [[SHARE]][local_x] = [[M]];
// CHECK-NEXT: }
// CHECK-NEXT: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
// CHECK: (ulong)6L);
// CHECK: const bool [[FIRST:v[0-9]+]] = (local_x == 0L);
// CHECK-NEXT: if ([[FIRST]]) {
// CHECK-NEXT: const float [[T:v[0-9]+]] = [[SHARE]][0L];
// CHECK-NEXT: const float [[R:v[0-9]+]] = fmax([[T]], -3.40282347e+38f);
// CHECK-NEXT: [[MAX]][0L] = [[R]];
// CHECK-NEXT: }
// CHECK-NEXT: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
// CHECK: exp(
// CHECK: [[EXP]][
// CHECK: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
// CHECK: [[SHARE2]][local_x] =
// CHECK: [[SUM]][0L] =
// CHECK: out0[
// CHECK: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
func.func @softmax_3x40(%x: tensor<3x40xf32>) -> tensor<3x40xf32> {
  %e = tensor.empty() : tensor<3x40xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<3x40xf32>) outs(%e : tensor<3x40xf32>) -> tensor<3x40xf32>
  return %r : tensor<3x40xf32>
}
