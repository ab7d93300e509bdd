// RUN: peng-opt %s -split-input-file -peng-annotate-cost | FileCheck %s

// 2 * 64 * 16 * 32 FLOPs; (64*32 + 32*16 + 64*16 + 64*16) * 4 bytes.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: peng.bytes = 18432 : i64
// CHECK-SAME: peng.flops = 65536 : i64
func.func @matmul(%a: tensor<64x32xf32>, %b: tensor<32x16xf32>, %c: tensor<64x16xf32>) -> tensor<64x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x32xf32>, tensor<32x16xf32>) outs(%c : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %0 : tensor<64x16xf32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME: peng.flops = 2310 : i64
func.func @batch_matmul(%a: tensor<3x5x7xf32>, %b: tensor<3x7x11xf32>, %c: tensor<3x5x11xf32>) -> tensor<3x5x11xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<3x5x7xf32>, tensor<3x7x11xf32>) outs(%c : tensor<3x5x11xf32>) -> tensor<3x5x11xf32>
  return %0 : tensor<3x5x11xf32>
}

// -----

// One FLOP per element of an elementwise op; two ops add up.
// CHECK-LABEL: func.func @add_relu
// CHECK-SAME: peng.flops = 2048 : i64
func.func @add_relu(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %e = tensor.empty() : tensor<32x32xf32>
  %0 = linalg.add ins(%a, %b : tensor<32x32xf32>, tensor<32x32xf32>) outs(%e : tensor<32x32xf32>) -> tensor<32x32xf32>
  %zero = arith.constant 0.0 : f32
  %1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%0 : tensor<32x32xf32>) outs(%e : tensor<32x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  } -> tensor<32x32xf32>
  return %1 : tensor<32x32xf32>
}

