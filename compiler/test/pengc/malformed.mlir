// RUN: not pengc %s --emit=mlir 2>&1 | FileCheck %s
// Malformed input: a diagnostic with file, line and column, a non-zero exit
// (`not`), and no crash (a crash would print a stack dump, not this line).

// CHECK: malformed.mlir:[[@LINE+2]]:{{[0-9]+}}: error:
func.func @broken(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = arith.addf %a, : tensor<4xf32>
  return %r : tensor<4xf32>
}
