// RUN: peng-opt %s -peng-annotate-cost=allow-dynamic | FileCheck %s

// allow-dynamic skips what it cannot count.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: peng.flops = 0 : i64
func.func @dynamic(%a: tensor<?x32xf32>, %b: tensor<32x16xf32>, %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x32xf32>, tensor<32x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}
