// RUN: peng-opt %s -peng-decompose-aggregates | FileCheck %s

// softmax = max-reduce, exp(x - max), sum-reduce, divide: structured ops only.
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: linalg.softmax
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: arith.maxnumf
// CHECK: math.exp
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %e = tensor.empty() : tensor<2x5xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<2x5xf32>) outs(%e : tensor<2x5xf32>) -> tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// tensor.pack becomes pad + expand_shape + transpose; tensor.unpack becomes
// transpose + collapse_shape + extract_slice (nothing pack-shaped is left for
// bufferization, which has no pattern for them).
// CHECK-LABEL: func.func @pack
// CHECK-NOT: tensor.pack
// CHECK: tensor.pad
// CHECK: tensor.expand_shape
// CHECK: linalg.transpose
func.func @pack(%a: tensor<37x45xf32>) -> tensor<5x3x8x16xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3x8x16xf32>
  %p = tensor.pack %a padding_value(%z : f32) inner_dims_pos = [0, 1] inner_tiles = [8, 16] into %e : tensor<37x45xf32> -> tensor<5x3x8x16xf32>
  return %p : tensor<5x3x8x16xf32>
}

// CHECK-LABEL: func.func @unpack
// CHECK-NOT: tensor.unpack
// CHECK: linalg.transpose
// CHECK: tensor.collapse_shape
// CHECK: tensor.extract_slice
func.func @unpack(%a: tensor<5x3x8x16xf32>) -> tensor<37x45xf32> {
  %e = tensor.empty() : tensor<37x45xf32>
  %u = tensor.unpack %a inner_dims_pos = [0, 1] inner_tiles = [8, 16] into %e : tensor<5x3x8x16xf32> -> tensor<37x45xf32>
  return %u : tensor<37x45xf32>
}
