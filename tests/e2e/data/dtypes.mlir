// One add per element type that pengc compiles for the host, for peng-run's
// --random-inputs and summary tests (tests/e2e/CMakeLists.txt).
func.func @add_i8(%a: tensor<37x5xi8>, %b: tensor<37x5xi8>) -> tensor<37x5xi8> {
  %e = tensor.empty() : tensor<37x5xi8>
  %r = linalg.add ins(%a, %b : tensor<37x5xi8>, tensor<37x5xi8>) outs(%e : tensor<37x5xi8>) -> tensor<37x5xi8>
  return %r : tensor<37x5xi8>
}

func.func @add_i16(%a: tensor<37x5xi16>, %b: tensor<37x5xi16>) -> tensor<37x5xi16> {
  %e = tensor.empty() : tensor<37x5xi16>
  %r = linalg.add ins(%a, %b : tensor<37x5xi16>, tensor<37x5xi16>) outs(%e : tensor<37x5xi16>) -> tensor<37x5xi16>
  return %r : tensor<37x5xi16>
}

func.func @add_i32(%a: tensor<37x5xi32>, %b: tensor<37x5xi32>) -> tensor<37x5xi32> {
  %e = tensor.empty() : tensor<37x5xi32>
  %r = linalg.add ins(%a, %b : tensor<37x5xi32>, tensor<37x5xi32>) outs(%e : tensor<37x5xi32>) -> tensor<37x5xi32>
  return %r : tensor<37x5xi32>
}

func.func @add_i64(%a: tensor<37x5xi64>, %b: tensor<37x5xi64>) -> tensor<37x5xi64> {
  %e = tensor.empty() : tensor<37x5xi64>
  %r = linalg.add ins(%a, %b : tensor<37x5xi64>, tensor<37x5xi64>) outs(%e : tensor<37x5xi64>) -> tensor<37x5xi64>
  return %r : tensor<37x5xi64>
}

func.func @add_f16(%a: tensor<37x5xf16>, %b: tensor<37x5xf16>) -> tensor<37x5xf16> {
  %e = tensor.empty() : tensor<37x5xf16>
  %r = linalg.add ins(%a, %b : tensor<37x5xf16>, tensor<37x5xf16>) outs(%e : tensor<37x5xf16>) -> tensor<37x5xf16>
  return %r : tensor<37x5xf16>
}
