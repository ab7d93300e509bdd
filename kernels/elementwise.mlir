// Elementwise kernels, with NumPy-style broadcasting. Some are written in
// linalg, some in TOSA (which pengc lowers with upstream tosa-to-linalg).
#id2 = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (j)>
#id1 = affine_map<(i) -> (i)>
#id3 = affine_map<(i, j, k) -> (i, j, k)>

func.func @add_33x47(%a: tensor<33x47xf32>, %b: tensor<33x47xf32>) -> tensor<33x47xf32> {
  %e = tensor.empty() : tensor<33x47xf32>
  %r = linalg.add ins(%a, %b : tensor<33x47xf32>, tensor<33x47xf32>) outs(%e : tensor<33x47xf32>) -> tensor<33x47xf32>
  return %r : tensor<33x47xf32>
}

// [33,47] + [47]: a bias row added to every row.
func.func @add_row_33x47(%a: tensor<33x47xf32>, %b: tensor<47xf32>) -> tensor<33x47xf32> {
  %e = tensor.empty() : tensor<33x47xf32>
  %r = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<33x47xf32>, tensor<47xf32>) outs(%e : tensor<33x47xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<33x47xf32>
  return %r : tensor<33x47xf32>
}

// [33,47] + [33,1] in TOSA.
func.func @add_col_33x47(%a: tensor<33x47xf32>, %b: tensor<33x1xf32>) -> tensor<33x47xf32> {
  %r = tosa.add %a, %b : (tensor<33x47xf32>, tensor<33x1xf32>) -> tensor<33x47xf32>
  return %r : tensor<33x47xf32>
}

// [5,7,3] * [1,7,1] in TOSA.
func.func @mul_5x7x3(%a: tensor<5x7x3xf32>, %b: tensor<1x7x1xf32>) -> tensor<5x7x3xf32> {
  %r = tosa.mul %a, %b {shift = 0 : i8} : (tensor<5x7x3xf32>, tensor<1x7x1xf32>) -> tensor<5x7x3xf32>
  return %r : tensor<5x7x3xf32>
}

func.func @mul_1(%a: tensor<1xf32>, %b: tensor<1xf32>) -> tensor<1xf32> {
  %e = tensor.empty() : tensor<1xf32>
  %r = linalg.mul ins(%a, %b : tensor<1xf32>, tensor<1xf32>) outs(%e : tensor<1xf32>) -> tensor<1xf32>
  return %r : tensor<1xf32>
}

func.func @relu_1001(%a: tensor<1001xf32>) -> tensor<1001xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1001xf32>
  %r = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : tensor<1001xf32>) outs(%e : tensor<1001xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<1001xf32>
  return %r : tensor<1001xf32>
}

// gelu(x) = x/2 * (1 + erf(x / sqrt(2)))
func.func @gelu_7x129(%a: tensor<7x129xf32>) -> tensor<7x129xf32> {
  %half = arith.constant 0.5 : f32
  %one = arith.constant 1.0 : f32
  %rsqrt2 = arith.constant 0.70710678118654752 : f32
  %e = tensor.empty() : tensor<7x129xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<7x129xf32>) outs(%e : tensor<7x129xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.mulf %x, %rsqrt2 : f32
    %erf = math.erf %s : f32
    %p = arith.addf %erf, %one : f32
    %h = arith.mulf %x, %half : f32
    %y = arith.mulf %h, %p : f32
    linalg.yield %y : f32
  } -> tensor<7x129xf32>
  return %r : tensor<7x129xf32>
}

// silu(x) = x * sigmoid(x) = x / (1 + exp(-x))
func.func @silu_3x5x31(%a: tensor<3x5x31xf32>) -> tensor<3x5x31xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<3x5x31xf32>
  %r = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<3x5x31xf32>) outs(%e : tensor<3x5x31xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %y = arith.divf %x, %d : f32
    linalg.yield %y : f32
  } -> tensor<3x5x31xf32>
  return %r : tensor<3x5x31xf32>
}
