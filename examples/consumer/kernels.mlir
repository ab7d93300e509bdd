// The consumer example's kernels: a layer y = relu(a·b + bias), as two kernels
// so that the example builds a graph of dependent launches. Compile with
//   pengc kernels.mlir -o kernels.peng --targets=host,rvv
#row = affine_map<(i, j) -> (j)>
#id2 = affine_map<(i, j) -> (i, j)>

func.func @matmul_29x17x23(%a: tensor<29x17xf32>, %b: tensor<17x23xf32>) -> tensor<29x23xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<29x23xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<29x23xf32>) -> tensor<29x23xf32>
  %r = linalg.matmul ins(%a, %b : tensor<29x17xf32>, tensor<17x23xf32>) outs(%c : tensor<29x23xf32>) -> tensor<29x23xf32>
  return %r : tensor<29x23xf32>
}

// relu(x + bias), the bias row added to every row.
func.func @bias_relu_29x23(%x: tensor<29x23xf32>, %bias: tensor<23xf32>) -> tensor<29x23xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<29x23xf32>
  %r = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %bias : tensor<29x23xf32>, tensor<23xf32>) outs(%e : tensor<29x23xf32>) {
  ^bb0(%v: f32, %b: f32, %o: f32):
    %s = arith.addf %v, %b : f32
    %y = arith.maximumf %s, %zero : f32
    linalg.yield %y : f32
  } -> tensor<29x23xf32>
  return %r : tensor<29x23xf32>
}
