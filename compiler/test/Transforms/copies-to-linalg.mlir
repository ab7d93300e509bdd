// RUN: peng-opt %s -peng-copies-to-linalg | FileCheck %s

// A copy between strided views (tensor.pad's interior) would become a call
// to memrefCopy; as linalg.copy it becomes loops.
// CHECK-LABEL: func.func @interior
// CHECK-SAME: (%[[A:.+]]: memref<4x5xf32>, %[[B:.+]]: memref<6x7xf32>)
// CHECK: %[[V:.+]] = memref.subview %[[B]][1, 1] [4, 5] [1, 1]
// CHECK: linalg.copy ins(%[[A]] : memref<4x5xf32>) outs(%[[V]] : memref<4x5xf32, strided<[7, 1], offset: 8>>)
// CHECK-NOT: memref.copy
func.func @interior(%a: memref<4x5xf32>, %b: memref<6x7xf32>) {
  %v = memref.subview %b[1, 1] [4, 5] [1, 1] : memref<6x7xf32> to memref<4x5xf32, strided<[7, 1], offset: 8>>
  memref.copy %a, %v : memref<4x5xf32> to memref<4x5xf32, strided<[7, 1], offset: 8>>
  return
}
