// RUN: not pengc %s -o %t.peng 2>&1 | FileCheck %s
// A TOSA op without a lowering to linalg is named in the error.

// CHECK: unsupported-tosa.mlir:[[@LINE+2]]:8: error: {{.*}}tosa.custom
func.func @k(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = tosa.custom %a {domain_name = "x", identifier = "y", implementation_attrs = ""} : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
