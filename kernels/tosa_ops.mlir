// TOSA ops beyond elementwise, as a framework's importer emits them:
// reductions, slicing, concatenation, pooling, strided convolution and
// batched matmul. Each lowers through upstream tosa-to-linalg.

func.func @reduce_sum_axis1_9x37(%a: tensor<9x37xf32>) -> tensor<9x1xf32> {
  %r = tosa.reduce_sum %a {axis = 1 : i32} : (tensor<9x37xf32>) -> tensor<9x1xf32>
  return %r : tensor<9x1xf32>
}

func.func @reduce_sum_axis0_9x37(%a: tensor<9x37xf32>) -> tensor<1x37xf32> {
  %r = tosa.reduce_sum %a {axis = 0 : i32} : (tensor<9x37xf32>) -> tensor<1x37xf32>
  return %r : tensor<1x37xf32>
}

// Rows 2..4 and columns 1..33 of an 8x40 matrix.
func.func @slice_8x40(%a: tensor<8x40xf32>) -> tensor<3x33xf32> {
  %r = tosa.slice %a {start = array<i64: 2, 1>, size = array<i64: 3, 33>} : (tensor<8x40xf32>) -> tensor<3x33xf32>
  return %r : tensor<3x33xf32>
}

func.func @concat_axis1_5x7(%a: tensor<5x7xf32>, %b: tensor<5x3xf32>) -> tensor<5x10xf32> {
  %r = tosa.concat %a, %b {axis = 1 : i32} : (tensor<5x7xf32>, tensor<5x3xf32>) -> tensor<5x10xf32>
  return %r : tensor<5x10xf32>
}

func.func @max_pool_2x2s2_1x8x6x3(%a: tensor<1x8x6x3xf32>) -> tensor<1x4x3x3xf32> {
  %r = tosa.max_pool2d %a {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x8x6x3xf32>) -> tensor<1x4x3x3xf32>
  return %r : tensor<1x4x3x3xf32>
}

// 3x3, stride 2, padding 1: 9x9 -> 5x5.
func.func @conv2d_s2_1x9x9x3x4(%x: tensor<1x9x9x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x5x5x4xf32> {
  %y = tosa.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>, dilation = array<i64: 1, 1>} : (tensor<1x9x9x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x5x5x4xf32>
  return %y : tensor<1x5x5x4xf32>
}

func.func @tosa_matmul_2x5x7x3(%a: tensor<2x5x7xf32>, %b: tensor<2x7x3xf32>) -> tensor<2x5x3xf32> {
  %y = tosa.matmul %a, %b : (tensor<2x5x7xf32>, tensor<2x7x3xf32>) -> tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}
