// The element types besides f32 that the CPU targets support (see
// docs/compiler.md): f64 and signed integers of 8 to 64 bits, elementwise
// and in a contraction. f16 is host-only (rvv would need Zvfh), so it is
// tested in compiler/test/pengc/element-types.mlir, not here.
#id2 = affine_map<(i, j) -> (i, j)>

func.func @add_f64_33x17(%a: tensor<33x17xf64>, %b: tensor<33x17xf64>) -> tensor<33x17xf64> {
  %e = tensor.empty() : tensor<33x17xf64>
  %r = linalg.add ins(%a, %b : tensor<33x17xf64>, tensor<33x17xf64>) outs(%e : tensor<33x17xf64>) -> tensor<33x17xf64>
  return %r : tensor<33x17xf64>
}

func.func @matmul_f64_13x7x21(%a: tensor<13x7xf64>, %b: tensor<7x21xf64>) -> tensor<13x21xf64> {
  %z = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<13x21xf64>
  %f = linalg.fill ins(%z : f64) outs(%e : tensor<13x21xf64>) -> tensor<13x21xf64>
  %r = linalg.matmul ins(%a, %b : tensor<13x7xf64>, tensor<7x21xf64>) outs(%f : tensor<13x21xf64>) -> tensor<13x21xf64>
  return %r : tensor<13x21xf64>
}

func.func @add_i8_9x35(%a: tensor<9x35xi8>, %b: tensor<9x35xi8>) -> tensor<9x35xi8> {
  %e = tensor.empty() : tensor<9x35xi8>
  %r = linalg.add ins(%a, %b : tensor<9x35xi8>, tensor<9x35xi8>) outs(%e : tensor<9x35xi8>) -> tensor<9x35xi8>
  return %r : tensor<9x35xi8>
}

func.func @mul_i16_9x35(%a: tensor<9x35xi16>, %b: tensor<9x35xi16>) -> tensor<9x35xi16> {
  %e = tensor.empty() : tensor<9x35xi16>
  %r = linalg.mul ins(%a, %b : tensor<9x35xi16>, tensor<9x35xi16>) outs(%e : tensor<9x35xi16>) -> tensor<9x35xi16>
  return %r : tensor<9x35xi16>
}

func.func @sub_i32_9x35(%a: tensor<9x35xi32>, %b: tensor<9x35xi32>) -> tensor<9x35xi32> {
  %e = tensor.empty() : tensor<9x35xi32>
  %r = linalg.sub ins(%a, %b : tensor<9x35xi32>, tensor<9x35xi32>) outs(%e : tensor<9x35xi32>) -> tensor<9x35xi32>
  return %r : tensor<9x35xi32>
}

func.func @matmul_i32_10x6x19(%a: tensor<10x6xi32>, %b: tensor<6x19xi32>) -> tensor<10x19xi32> {
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<10x19xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<10x19xi32>) -> tensor<10x19xi32>
  %r = linalg.matmul ins(%a, %b : tensor<10x6xi32>, tensor<6x19xi32>) outs(%f : tensor<10x19xi32>) -> tensor<10x19xi32>
  return %r : tensor<10x19xi32>
}

func.func @add_i64_9x35(%a: tensor<9x35xi64>, %b: tensor<9x35xi64>) -> tensor<9x35xi64> {
  %e = tensor.empty() : tensor<9x35xi64>
  %r = linalg.add ins(%a, %b : tensor<9x35xi64>, tensor<9x35xi64>) outs(%e : tensor<9x35xi64>) -> tensor<9x35xi64>
  return %r : tensor<9x35xi64>
}

// i8 inputs summed in i32 (a quantized layer's matmul): linalg.matmul
// sign-extends each operand.
func.func @matmul_i8i32_10x33x19(%a: tensor<10x33xi8>, %b: tensor<33x19xi8>) -> tensor<10x19xi32> {
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<10x19xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<10x19xi32>) -> tensor<10x19xi32>
  %r = linalg.matmul ins(%a, %b : tensor<10x33xi8>, tensor<33x19xi8>) outs(%f : tensor<10x19xi32>) -> tensor<10x19xi32>
  return %r : tensor<10x19xi32>
}
