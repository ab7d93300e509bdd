// RUN: pengc %s --targets=opencl --emit=opencl | FileCheck %s
// RUN: pengc %s --targets=host,opencl -o %t.peng
// Two results, the second computed from the first: its loop reads what the
// first loop wrote. pengc's workgroups are self-contained, so one work-group
// runs each; its work-items stride over each loop by their local ids and
// wait for each other at a barrier after each loop.
// CHECK-LABEL: __kernel void chain_7x3(
// CHECK: for (long [[R:i[0-9]+]] = local_y; [[R]] < 7L; [[R]] += local_size_y) {
// CHECK-NEXT: for (long [[C:i[0-9]+]] = local_x; [[C]] < 3L; [[C]] += local_size_x) {
// CHECK: out1[([[R]]) * 3 + [[C]]] =
// CHECK: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
// CHECK: = out1[
// CHECK: out0[
// CHECK: barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
func.func @chain_7x3(%a: tensor<7x3xf32>, %b: tensor<7x3xf32>) -> (tensor<7x3xf32>, tensor<7x3xf32>) {
  %e = tensor.empty() : tensor<7x3xf32>
  %s = linalg.add ins(%a, %b : tensor<7x3xf32>, tensor<7x3xf32>) outs(%e : tensor<7x3xf32>) -> tensor<7x3xf32>
  %e2 = tensor.empty() : tensor<7x3xf32>
  %t = linalg.mul ins(%s, %s : tensor<7x3xf32>, tensor<7x3xf32>) outs(%e2 : tensor<7x3xf32>) -> tensor<7x3xf32>
  return %t, %s : tensor<7x3xf32>, tensor<7x3xf32>
}
