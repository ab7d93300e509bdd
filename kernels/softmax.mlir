// Softmax over the last dimension (linalg.softmax, decomposed by pengc).
func.func @softmax_13x67(%x: tensor<13x67xf32>) -> tensor<13x67xf32> {
  %e = tensor.empty() : tensor<13x67xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<13x67xf32>) outs(%e : tensor<13x67xf32>) -> tensor<13x67xf32>
  return %r : tensor<13x67xf32>
}

func.func @softmax_1x1(%x: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %e = tensor.empty() : tensor<1x1xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<1x1xf32>) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

func.func @softmax_4x1000(%x: tensor<4x1000xf32>) -> tensor<4x1000xf32> {
  %e = tensor.empty() : tensor<4x1000xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<4x1000xf32>) outs(%e : tensor<4x1000xf32>) -> tensor<4x1000xf32>
  return %r : tensor<4x1000xf32>
}
