// RUN: peng-opt %s -split-input-file -peng-allocate-workspace | FileCheck %s
// RUN: peng-opt %s -split-input-file -peng-allocate-workspace="max-stack-temporary=0" | FileCheck %s --check-prefix=NONE

// A 4 MiB temporary leaves the stack for a workspace argument before the
// workgroup id; the small one stays.
// CHECK-LABEL: func.func @big
// CHECK-SAME: (%[[A:.+]]: memref<1024x1024xf32>, %[[WS:.+]]: memref<4194304xi8>, %[[ID:.+]]: index)
// CHECK-SAME: peng.workspace = 4194304 : i64
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<16xf32>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[C0]]][] : memref<4194304xi8> to memref<1024x1024xf32>
// CHECK-NOT: memref.alloca() {alignment = 64 : i64} : memref<1024x1024xf32>
func.func @big(%a: memref<1024x1024xf32>, %id: index) attributes {peng.kernel} {
  %small = memref.alloca() {alignment = 64 : i64} : memref<16xf32>
  %t = memref.alloca() {alignment = 64 : i64} : memref<1024x1024xf32>
  memref.copy %a, %t : memref<1024x1024xf32> to memref<1024x1024xf32>
  memref.copy %t, %a : memref<1024x1024xf32> to memref<1024x1024xf32>
  return
}
// NONE-LABEL: func.func @big
// NONE-SAME: memref<4194368xi8>
// NONE-SAME: peng.workspace = 4194368 : i64

// -----

// Two large temporaries get disjoint slices at 64-byte aligned offsets.
// CHECK-LABEL: func.func @two
// CHECK-SAME: memref<40064xi8>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: memref.view %{{.+}}[%[[C0]]][] : memref<40064xi8> to memref<5001xf32>
// CHECK: %[[C1:.+]] = arith.constant 20032 : index
// CHECK: memref.view %{{.+}}[%[[C1]]][] : memref<40064xi8> to memref<5001xf32>
func.func @two(%a: memref<5001xf32>, %id: index) attributes {peng.kernel} {
  %t = memref.alloca() {alignment = 64 : i64} : memref<5001xf32>
  %u = memref.alloca() {alignment = 64 : i64} : memref<5001xf32>
  memref.copy %a, %t : memref<5001xf32> to memref<5001xf32>
  memref.copy %t, %u : memref<5001xf32> to memref<5001xf32>
  memref.copy %u, %a : memref<5001xf32> to memref<5001xf32>
  return
}

// -----

// Small temporaries only: no workspace, the signature is unchanged.
// CHECK-LABEL: func.func @small
// CHECK-SAME: (%{{.+}}: memref<8xf32>, %{{.+}}: index)
// CHECK-NOT: peng.workspace
func.func @small(%a: memref<8xf32>, %id: index) attributes {peng.kernel} {
  %t = memref.alloca() {alignment = 64 : i64} : memref<8xf32>
  memref.copy %a, %t : memref<8xf32> to memref<8xf32>
  return
}

// -----

// A tile-sized temporary (dynamic, at most 5000 rows by affine.min) is
// bounded: 5000 x 4 bytes exceed 16 KiB, so it moves, keeping its size.
// CHECK-LABEL: func.func @tile
// CHECK-SAME: memref<20032xi8>
// CHECK: %[[N:.+]] = affine.min
// CHECK: memref.view %{{.+}}[%{{.+}}][%[[N]]] : memref<20032xi8> to memref<?xf32>
#tile = affine_map<(d0) -> (-d0 + 12000, 5000)>
func.func @tile(%a: memref<12000xf32>, %id: index) attributes {peng.kernel} {
  %c5000 = arith.constant 5000 : index
  %off = arith.muli %id, %c5000 : index
  %n = affine.min #tile(%off)
  %t = memref.alloca(%n) {alignment = 64 : i64} : memref<?xf32>
  %s = memref.subview %a[%off] [%n] [1] : memref<12000xf32> to memref<?xf32, strided<[1], offset: ?>>
  memref.copy %s, %t : memref<?xf32, strided<[1], offset: ?>> to memref<?xf32>
  return
}

// -----

// A small temporary inside a loop still moves: on the stack, every iteration
// would take another 64 bytes.
// CHECK-LABEL: func.func @in_loop
// CHECK-SAME: memref<64xi8>
// CHECK: scf.for
// CHECK: memref.view %{{.+}}[%{{.+}}][] : memref<64xi8> to memref<16xf32>
// CHECK-NOT: memref.alloca
func.func @in_loop(%a: memref<100x16xf32>, %id: index) attributes {peng.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  scf.for %i = %c0 to %c100 step %c1 {
    %t = memref.alloca() {alignment = 64 : i64} : memref<16xf32>
    %row = memref.subview %a[%i, 0] [1, 16] [1, 1] : memref<100x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    memref.copy %row, %t : memref<16xf32, strided<[1], offset: ?>> to memref<16xf32>
  }
  return
}
