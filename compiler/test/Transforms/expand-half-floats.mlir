// RUN: peng-opt %s -split-input-file -peng-expand-half-floats -canonicalize -verify-diagnostics | FileCheck %s

// f32 -> f16 becomes integer code; the f16 result is held as i16 bits, the
// signature included.
// CHECK-LABEL: func.func @truncf_f16
// CHECK-SAME: (%{{.*}}: tensor<5xf32>) -> tensor<5xi16>
// CHECK-NOT: f16
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.trunci %{{.*}} : i32 to i16
// CHECK-NOT: f16
func.func @truncf_f16(%x: tensor<5xf32>) -> tensor<5xf16> {
  %e = tensor.empty() : tensor<5xf16>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<5xf32>) outs(%e : tensor<5xf16>) {
  ^bb0(%a: f32, %o: f16):
    %t = arith.truncf %a : f32 to f16
    linalg.yield %t : f16
  } -> tensor<5xf16>
  return %r : tensor<5xf16>
}

// -----

// bf16 -> f32 is the bits shifted up.
// CHECK-LABEL: func.func @extf_bf16
// CHECK-SAME: (%{{.*}}: tensor<5xi16>) -> tensor<5xf32>
// CHECK: ^bb0(%[[H:.*]]: i16, %{{.*}}: f32):
// CHECK: %[[W:.*]] = arith.extui %[[H]] : i16 to i32
// CHECK: %[[S:.*]] = arith.shli %[[W]], %{{.*}} : i32
// CHECK: %[[F:.*]] = arith.bitcast %[[S]] : i32 to f32
// CHECK: linalg.yield %[[F]] : f32
func.func @extf_bf16(%x: tensor<5xbf16>) -> tensor<5xf32> {
  %e = tensor.empty() : tensor<5xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<5xbf16>) outs(%e : tensor<5xf32>) {
  ^bb0(%a: bf16, %o: f32):
    %t = arith.extf %a : bf16 to f32
    linalg.yield %t : f32
  } -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// -----

// Data movement only: a transpose and a padding constant, as i16 bits
// (1.5 in bf16 is 0x3FC0 = 16320).
// CHECK-LABEL: func.func @move_bf16
// CHECK-SAME: (%{{.*}}: tensor<3x4xi16>) -> tensor<5x3xi16>
// CHECK: arith.constant 16320 : i16
// CHECK: linalg.transpose
// CHECK-NOT: bf16
func.func @move_bf16(%x: tensor<3x4xbf16>) -> tensor<5x3xbf16> {
  %v = arith.constant 1.5 : bf16
  %e = tensor.empty() : tensor<4x3xbf16>
  %t = linalg.transpose ins(%x : tensor<3x4xbf16>) outs(%e : tensor<4x3xbf16>) permutation = [1, 0]
  %p = tensor.pad %t low[1, 0] high[0, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %v : bf16
  } : tensor<4x3xbf16> to tensor<5x3xbf16>
  return %p : tensor<5x3xbf16>
}

// -----

// f16 arithmetic stays f16 (the host computes it; rvv refuses it later).
// CHECK-LABEL: func.func @add_f16
// CHECK-SAME: tensor<5xf16>
// CHECK: linalg.add ins(%{{.*}}, %{{.*}} : tensor<5xf16>, tensor<5xf16>)
func.func @add_f16(%a: tensor<5xf16>, %b: tensor<5xf16>) -> tensor<5xf16> {
  %e = tensor.empty() : tensor<5xf16>
  %r = linalg.add ins(%a, %b : tensor<5xf16>, tensor<5xf16>) outs(%e : tensor<5xf16>) -> tensor<5xf16>
  return %r : tensor<5xf16>
}

// -----

// bf16 arithmetic has no target.
func.func @add_bf16(%a: tensor<5xbf16>, %b: tensor<5xbf16>) -> tensor<5xbf16> {
  %e = tensor.empty() : tensor<5xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a, %b : tensor<5xbf16>, tensor<5xbf16>) outs(%e : tensor<5xbf16>) {
  ^bb0(%x: bf16, %y: bf16, %o: bf16):
    // expected-error @+1 {{'arith.addf' op computes in bf16; pengc supports bf16 only in conversions to and from f32 (arith.extf, arith.truncf) and in data movement}}
    %s = arith.addf %x, %y : bf16
    linalg.yield %s : bf16
  } -> tensor<5xbf16>
  return %r : tensor<5xbf16>
}
