// The element types each CPU target supports, as docs/compiler.md lists them:
// host compiles f32, f16, f64, i8, i16, i32 and i64; rvv all but f16
// arithmetic, which it refuses with a located error (RVV would need Zvfh),
// never an abort. f16 and bf16 in conversions and data movement compile for
// every target (peng-expand-half-floats); bf16 arithmetic is refused.
// kernels/dtypes.mlir and kernels/dataplane.mlir check the numbers end to end.
// RUN: split-file %s %t
// RUN: pengc %t/all.mlir --targets=host -o %t/host.peng
// RUN: pengc %t/no-f16.mlir --targets=host,rvv -o %t/rvv.peng
// RUN: not pengc %t/all.mlir --targets=rvv -o %t/f16.peng 2>&1 | FileCheck %s --check-prefix=RVV
// RUN: pengc %t/bf16.mlir --targets=host,rvv -o %t/bf16.peng
// RUN: not pengc %t/bf16-add.mlir --targets=host -o %t/bf16-add.peng 2>&1 | FileCheck %s --check-prefix=BF16
// The op's IR only with --verbose:
// RUN: not pengc %t/all.mlir --targets=rvv --verbose -o %t/f16.peng 2>&1 | FileCheck %s --check-prefix=VERBOSE

// RVV: all.mlir:16:1: error: 'func.func' op uses f16/bf16, which target rvv does not support
// RVV-NOT: LLVM ERROR
// RVV-NOT: see current operation
// VERBOSE: error: 'func.func' op uses f16/bf16
// VERBOSE: note: see current operation
// BF16: bf16-add.mlir:3:8: error: 'linalg.add' op computes in bf16; pengc supports bf16 only in conversions

//--- no-f16.mlir
func.func @f32(%a: tensor<37xf32>, %b: tensor<37xf32>) -> tensor<37xf32> {
  %e = tensor.empty() : tensor<37xf32>
  %r = linalg.add ins(%a, %b : tensor<37xf32>, tensor<37xf32>) outs(%e : tensor<37xf32>) -> tensor<37xf32>
  return %r : tensor<37xf32>
}
func.func @f64(%a: tensor<37xf64>, %b: tensor<37xf64>) -> tensor<37xf64> {
  %e = tensor.empty() : tensor<37xf64>
  %r = linalg.mul ins(%a, %b : tensor<37xf64>, tensor<37xf64>) outs(%e : tensor<37xf64>) -> tensor<37xf64>
  return %r : tensor<37xf64>
}
func.func @i8(%a: tensor<37xi8>, %b: tensor<37xi8>) -> tensor<37xi8> {
  %e = tensor.empty() : tensor<37xi8>
  %r = linalg.add ins(%a, %b : tensor<37xi8>, tensor<37xi8>) outs(%e : tensor<37xi8>) -> tensor<37xi8>
  return %r : tensor<37xi8>
}
func.func @i16(%a: tensor<37xi16>, %b: tensor<37xi16>) -> tensor<37xi16> {
  %e = tensor.empty() : tensor<37xi16>
  %r = linalg.add ins(%a, %b : tensor<37xi16>, tensor<37xi16>) outs(%e : tensor<37xi16>) -> tensor<37xi16>
  return %r : tensor<37xi16>
}
func.func @i32(%a: tensor<37xi32>, %b: tensor<37xi32>) -> tensor<37xi32> {
  %e = tensor.empty() : tensor<37xi32>
  %r = linalg.add ins(%a, %b : tensor<37xi32>, tensor<37xi32>) outs(%e : tensor<37xi32>) -> tensor<37xi32>
  return %r : tensor<37xi32>
}
func.func @i64(%a: tensor<37xi64>, %b: tensor<37xi64>) -> tensor<37xi64> {
  %e = tensor.empty() : tensor<37xi64>
  %r = linalg.add ins(%a, %b : tensor<37xi64>, tensor<37xi64>) outs(%e : tensor<37xi64>) -> tensor<37xi64>
  return %r : tensor<37xi64>
}

//--- all.mlir
func.func @f32(%a: tensor<37xf32>, %b: tensor<37xf32>) -> tensor<37xf32> {
  %e = tensor.empty() : tensor<37xf32>
  %r = linalg.add ins(%a, %b : tensor<37xf32>, tensor<37xf32>) outs(%e : tensor<37xf32>) -> tensor<37xf32>
  return %r : tensor<37xf32>
}
func.func @f64(%a: tensor<37xf64>, %b: tensor<37xf64>) -> tensor<37xf64> {
  %e = tensor.empty() : tensor<37xf64>
  %r = linalg.mul ins(%a, %b : tensor<37xf64>, tensor<37xf64>) outs(%e : tensor<37xf64>) -> tensor<37xf64>
  return %r : tensor<37xf64>
}
func.func @i32(%a: tensor<37xi32>, %b: tensor<37xi32>) -> tensor<37xi32> {
  %e = tensor.empty() : tensor<37xi32>
  %r = linalg.add ins(%a, %b : tensor<37xi32>, tensor<37xi32>) outs(%e : tensor<37xi32>) -> tensor<37xi32>
  return %r : tensor<37xi32>
}
func.func @f16(%a: tensor<37xf16>, %b: tensor<37xf16>) -> tensor<37xf16> {
  %e = tensor.empty() : tensor<37xf16>
  %r = linalg.add ins(%a, %b : tensor<37xf16>, tensor<37xf16>) outs(%e : tensor<37xf16>) -> tensor<37xf16>
  return %r : tensor<37xf16>
}

//--- bf16.mlir
func.func @bf16(%a: tensor<37xbf16>) -> tensor<37xbf16> {
  return %a : tensor<37xbf16>
}
func.func @bf16_to_f16(%a: tensor<37xbf16>) -> tensor<37xf16> {
  %e = tensor.empty() : tensor<37xf16>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<37xbf16>) outs(%e : tensor<37xf16>) {
  ^bb0(%x: bf16, %o: f16):
    %w = arith.extf %x : bf16 to f32
    %n = arith.truncf %w : f32 to f16
    linalg.yield %n : f16
  } -> tensor<37xf16>
  return %r : tensor<37xf16>
}

//--- bf16-add.mlir
func.func @bf16_add(%a: tensor<37xbf16>, %b: tensor<37xbf16>) -> tensor<37xbf16> {
  %e = tensor.empty() : tensor<37xbf16>
  %r = linalg.add ins(%a, %b : tensor<37xbf16>, tensor<37xbf16>) outs(%e : tensor<37xbf16>) -> tensor<37xbf16>
  return %r : tensor<37xbf16>
}
