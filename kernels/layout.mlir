// Padding, convolution with "same" padding, and transposes of several ranks
// and permutations: ops whose bufferized form copies between strided views.

// Zero padding around a [4,5] matrix.
func.func @pad_4x5(%a: tensor<4x5xf32>) -> tensor<6x7xf32> {
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %a low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %z : f32
  } : tensor<4x5xf32> to tensor<6x7xf32>
  return %p : tensor<6x7xf32>
}

// Uneven padding with a non-zero value, on a longer row (vector tails).
func.func @pad_value_3x37(%a: tensor<3x37xf32>) -> tensor<6x40xf32> {
  %v = arith.constant 1.5 : f32
  %p = tensor.pad %a low[2, 0] high[1, 3] {
  ^bb0(%i: index, %j: index):
    tensor.yield %v : f32
  } : tensor<3x37xf32> to tensor<6x40xf32>
  return %p : tensor<6x40xf32>
}

// The usual "same" 3x3 convolution in TOSA: NHWC input, OHWI weights, bias.
func.func @conv2d_same_2x9x7x3x4(%x: tensor<2x9x7x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x9x7x4xf32> {
  %y = tosa.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x9x7x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x9x7x4xf32>
  return %y : tensor<2x9x7x4xf32>
}

// Transposes: 2-D, 3-D with the innermost dimension moved outermost, 4-D.
func.func @transpose_01_37x29(%a: tensor<37x29xf32>) -> tensor<29x37xf32> {
  %e = tensor.empty() : tensor<29x37xf32>
  %t = linalg.transpose ins(%a : tensor<37x29xf32>) outs(%e : tensor<29x37xf32>) permutation = [1, 0]
  return %t : tensor<29x37xf32>
}

func.func @transpose_201_4x6x5(%a: tensor<4x6x5xf32>) -> tensor<5x4x6xf32> {
  %e = tensor.empty() : tensor<5x4x6xf32>
  %t = linalg.transpose ins(%a : tensor<4x6x5xf32>) outs(%e : tensor<5x4x6xf32>) permutation = [2, 0, 1]
  return %t : tensor<5x4x6xf32>
}

func.func @transpose_120_4x6x5(%a: tensor<4x6x5xf32>) -> tensor<6x5x4xf32> {
  %e = tensor.empty() : tensor<6x5x4xf32>
  %t = linalg.transpose ins(%a : tensor<4x6x5xf32>) outs(%e : tensor<6x5x4xf32>) permutation = [1, 2, 0]
  return %t : tensor<6x5x4xf32>
}

func.func @transpose_3102_2x3x4x5(%a: tensor<2x3x4x5xf32>) -> tensor<5x3x2x4xf32> {
  %e = tensor.empty() : tensor<5x3x2x4xf32>
  %t = linalg.transpose ins(%a : tensor<2x3x4x5xf32>) outs(%e : tensor<5x3x2x4xf32>) permutation = [3, 1, 0, 2]
  return %t : tensor<5x3x2x4xf32>
}

// TOSA's transpose, with its permutation as a constant operand.
func.func @transpose_021_3x4x33(%a: tensor<3x4x33xf32>) -> tensor<3x33x4xf32> {
  %p = "tosa.const"() {value = dense<[0, 2, 1]> : tensor<3xi32>} : () -> tensor<3xi32>
  %t = tosa.transpose %a, %p : (tensor<3x4x33xf32>, tensor<3xi32>) -> tensor<3x33x4xf32>
  return %t : tensor<3x33x4xf32>
}
