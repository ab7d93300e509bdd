// RUN: not pengc %s --targets=host,opencl -o %t.peng 2>&1 | FileCheck %s
// RUN: pengc %s --targets=host -o %t.host.peng

// A constant tensor becomes a global, which the printer has no place for yet.
// CHECK: invalid-constant.mlir:[[@LINE+4]]:8: error: 'memref.get_global' op is not supported on target opencl: constant tensors come in a later version
func.func @add_const_4(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.add ins(%a, %c : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
