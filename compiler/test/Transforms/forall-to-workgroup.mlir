// RUN: peng-opt %s -split-input-file -peng-forall-to-workgroup | FileCheck %s

// The workgroup loop becomes a guarded body indexed by a new trailing argument.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[A:.+]]: memref<37x4xf32>, %[[WG:.+]]: index)
// CHECK-DAG: %[[STEP:.+]] = arith.constant 10 : index
// CHECK-DAG: %[[UB:.+]] = arith.constant 37 : index
// CHECK: %[[OFF:.+]] = arith.muli %[[WG]], %[[STEP]]
// CHECK: %[[IV:.+]] = arith.addi %{{.+}}, %[[OFF]]
// CHECK: %[[IN:.+]] = arith.cmpi slt, %[[IV]], %[[UB]]
// CHECK: scf.if %[[IN]] {
// CHECK:   memref.subview %[[A]][%[[IV]], 0]
// CHECK-NOT: scf.forall
func.func @rows(%a: memref<37x4xf32>) attributes {peng.kernel} {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) = (0) to (37) step (10) {
    %n = affine.min affine_map<(d0) -> (-d0 + 37, 10)>(%i)
    %s = memref.subview %a[%i, 0] [%n, 4] [1, 1] : memref<37x4xf32> to memref<?x4xf32, strided<[4, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%s : memref<?x4xf32, strided<[4, 1], offset: ?>>)
  }
  return
}

// -----

// Without a loop the kernel still takes the id, unused.
// CHECK-LABEL: func.func @whole
// CHECK-SAME: (%{{.+}}: memref<3xf32>, %{{.+}}: index)
// CHECK: arith.constant
// CHECK-NEXT: linalg.fill
func.func @whole(%a: memref<3xf32>) attributes {peng.kernel} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%a : memref<3xf32>)
  return
}
