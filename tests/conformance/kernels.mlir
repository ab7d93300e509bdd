// Kernels the conformance suite dispatches through each backend as pengc
// compiled them for every target (host, rvv, opencl): a split elementwise
// op, a matmul and a kernel with a workspace (a 36 KiB temporary shared by
// two results). References are in compiled_kernels_test.cpp.
func.func @add_37x29(%a: tensor<37x29xf32>, %b: tensor<37x29xf32>) -> tensor<37x29xf32> {
  %e = tensor.empty() : tensor<37x29xf32>
  %r = linalg.add ins(%a, %b : tensor<37x29xf32>, tensor<37x29xf32>) outs(%e : tensor<37x29xf32>) -> tensor<37x29xf32>
  return %r : tensor<37x29xf32>
}

func.func @matmul_13x17x19(%a: tensor<13x17xf32>, %b: tensor<17x19xf32>) -> tensor<13x19xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<13x19xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<13x19xf32>) -> tensor<13x19xf32>
  %r = linalg.matmul ins(%a, %b : tensor<13x17xf32>, tensor<17x19xf32>) outs(%c : tensor<13x19xf32>) -> tensor<13x19xf32>
  return %r : tensor<13x19xf32>
}

func.func @shared_temp_96x96(%a: tensor<96x96xf32>, %b: tensor<96x96xf32>) -> (tensor<96x96xf32>, tensor<96x96xf32>) {
  %e = tensor.empty() : tensor<96x96xf32>
  %s = linalg.add ins(%a, %b : tensor<96x96xf32>, tensor<96x96xf32>) outs(%e : tensor<96x96xf32>) -> tensor<96x96xf32>
  %m = linalg.mul ins(%s, %a : tensor<96x96xf32>, tensor<96x96xf32>) outs(%e : tensor<96x96xf32>) -> tensor<96x96xf32>
  %d = linalg.sub ins(%s, %b : tensor<96x96xf32>, tensor<96x96xf32>) outs(%e : tensor<96x96xf32>) -> tensor<96x96xf32>
  return %m, %d : tensor<96x96xf32>, tensor<96x96xf32>
}
