// f32 batch_matmul: C[B,M,N] = A[B,M,K] * B[B,K,N].
func.func @batch_matmul_1x1x1x1(%a: tensor<1x1x1xf32>, %b: tensor<1x1x1xf32>) -> tensor<1x1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x1xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<1x1x1xf32>, tensor<1x1x1xf32>) outs(%c : tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  return %r : tensor<1x1x1xf32>
}

func.func @batch_matmul_3x17x19x23(%a: tensor<3x17x19xf32>, %b: tensor<3x19x23xf32>) -> tensor<3x17x23xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x17x23xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<3x17x23xf32>) -> tensor<3x17x23xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<3x17x19xf32>, tensor<3x19x23xf32>) outs(%c : tensor<3x17x23xf32>) -> tensor<3x17x23xf32>
  return %r : tensor<3x17x23xf32>
}
