// RUN: not pengc %s --targets=host,opencl -o %t.peng 2>&1 | FileCheck %s
// RUN: pengc %s --targets=host -o %t.host.peng

// Two results, the second computed from the first: its loop reads what the
// first loop wrote, which would need a barrier across work-groups.
// CHECK: invalid-chain.mlir:[[@LINE+5]]:8: error: 'scf.parallel' op uses a buffer that an earlier loop of the kernel writes (or writes one it reads): on target opencl that needs a barrier across work-groups, which is not supported yet
func.func @chain_7x3(%a: tensor<7x3xf32>, %b: tensor<7x3xf32>) -> (tensor<7x3xf32>, tensor<7x3xf32>) {
  %e = tensor.empty() : tensor<7x3xf32>
  %s = linalg.add ins(%a, %b : tensor<7x3xf32>, tensor<7x3xf32>) outs(%e : tensor<7x3xf32>) -> tensor<7x3xf32>
  %e2 = tensor.empty() : tensor<7x3xf32>
  %t = linalg.mul ins(%s, %s : tensor<7x3xf32>, tensor<7x3xf32>) outs(%e2 : tensor<7x3xf32>) -> tensor<7x3xf32>
  return %t, %s : tensor<7x3xf32>, tensor<7x3xf32>
}
