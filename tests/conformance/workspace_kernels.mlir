// A kernel with a workspace (a 36 KiB temporary shared by two results), for
// the CPU targets alone: pengc's opencl target does not place temporaries in
// a workspace yet. The reference is in compiled_kernels_test.cpp.
func.func @shared_temp_96x96(%a: tensor<96x96xf32>, %b: tensor<96x96xf32>) -> (tensor<96x96xf32>, tensor<96x96xf32>) {
  %e = tensor.empty() : tensor<96x96xf32>
  %s = linalg.add ins(%a, %b : tensor<96x96xf32>, tensor<96x96xf32>) outs(%e : tensor<96x96xf32>) -> tensor<96x96xf32>
  %m = linalg.mul ins(%s, %a : tensor<96x96xf32>, tensor<96x96xf32>) outs(%e : tensor<96x96xf32>) -> tensor<96x96xf32>
  %d = linalg.sub ins(%s, %b : tensor<96x96xf32>, tensor<96x96xf32>) outs(%e : tensor<96x96xf32>) -> tensor<96x96xf32>
  return %m, %d : tensor<96x96xf32>, tensor<96x96xf32>
}
