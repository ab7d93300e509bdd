// RUN: not pengc %s --targets=host,opencl -o %t.peng 2>&1 | FileCheck %s
// RUN: pengc %s --targets=host -o %t.host.peng
// What target opencl cannot compile yet is refused with the op's location,
// naming the target; the same kernels still compile for host.

// CHECK: invalid.mlir:[[@LINE+5]]:8: error: 'linalg.matmul' op is not supported on target opencl: reductions (matmul, softmax, layernorm, sums) come in a later version
func.func @matmul_4x5x6(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>) -> tensor<4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x6xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x6xf32>) -> tensor<4x6xf32>
  %r = linalg.matmul ins(%a, %b : tensor<4x5xf32>, tensor<5x6xf32>) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}
