// RUN: not pengc %s -o %t.peng 2>&1 | FileCheck %s
// RUN: not test -e %t.peng
// A kernel using an op pengc cannot compile: the error names the op and
// where it is, and no module is written.

// CHECK: unsupported-op.mlir:[[@LINE+4]]:8: error: 'func.call' op is not supported by pengc
// CHECK-NOT: Stack dump
func.func private @helper(tensor<4xf32>) -> tensor<4xf32>
func.func @k(%a: tensor<4xf32>) -> tensor<4xf32> {
  %t = func.call @helper(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %t : tensor<4xf32>
}
