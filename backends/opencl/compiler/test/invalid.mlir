// RUN: not pengc %s --targets=host,opencl -o %t.peng 2>&1 | FileCheck %s
// RUN: pengc %s --targets=host -o %t.host.peng
// What target opencl cannot compile yet is refused with the op's location,
// naming the target; the same kernels still compile for host. Softmax needs
// its row maximum and sum as temporaries between ops.

// CHECK: invalid.mlir:[[@LINE+3]]:8: error: 'memref.alloca' op is not supported on target opencl: temporaries between ops come in a later version
func.func @softmax_4x8(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
