// RUN: peng-opt %s -split-input-file -verify-diagnostics -peng-opencl-map-work-items | FileCheck %s
// peng-opencl-map-work-items: the kernel body moves into one gpu.launch; each
// parallel loop becomes grid-stride loops (last dimension on x, the one
// before on y, others in sequence); the workgroup id is the group id in z.

// CHECK-LABEL: func.func @add_3x5x7
// CHECK-SAME: peng.opencl.grid = {{\[}}[1, 2, 8], [1, 1, 1], [1, 0, 1]]
// CHECK-SAME: peng.opencl.workgroup_size = [8, 1, 1]
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: gpu.launch blocks(%[[BX:[^ ,)]+]], %[[BY:[^ ,)]+]], %[[BZ:[^ ,)]+]]) in (%[[GX:[^ ,)]+]] = %[[C1]], %[[GY:[^ ,)]+]] = %[[C5]], %[[GZ:[^ ,)]+]] = %[[C3]]) threads(%[[TX:[^ ,)]+]], %[[TY:[^ ,)]+]], %[[TZ:[^ ,)]+]]) in (%[[SX:[^ ,)]+]] = %[[C8]], %[[SY:[^ ,)]+]] = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: memref.subview %{{.*}}[%[[BZ]], 0, 0]
// CHECK: %[[XID0:.*]] = arith.muli %[[BX]], %[[SX]]
// CHECK: %[[XID:.*]] = arith.addi %[[XID0]], %[[TX]]
// CHECK: %[[XSTRIDE:.*]] = arith.muli %[[GX]], %[[SX]]
// CHECK: %[[YID0:.*]] = arith.muli %[[BY]], %[[SY]]
// CHECK: %[[YID:.*]] = arith.addi %[[YID0]], %[[TY]]
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK: gpu.terminator
// CHECK: return
func.func @add_3x5x7(%a: memref<3x5x7xf32>, %out: memref<3x5x7xf32>, %wg: index) attributes {peng.kernel, peng.grid = [1, 0, 1]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %sa = memref.subview %a[%wg, 0, 0] [1, 5, 7] [1, 1, 1] : memref<3x5x7xf32> to memref<1x5x7xf32, strided<[35, 7, 1], offset: ?>>
  %so = memref.subview %out[%wg, 0, 0] [1, 5, 7] [1, 1, 1] : memref<3x5x7xf32> to memref<1x5x7xf32, strided<[35, 7, 1], offset: ?>>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c1, %c5, %c7) step (%c1, %c1, %c1) {
    %x = memref.load %sa[%i, %j, %k] : memref<1x5x7xf32, strided<[35, 7, 1], offset: ?>>
    %y = arith.addf %x, %x : f32
    memref.store %y, %so[%i, %j, %k] : memref<1x5x7xf32, strided<[35, 7, 1], offset: ?>>
    scf.reduce
  }
  return
}

// -----

// One dimension: only the y = 0 work-items run it; x shares the split's tile.
// CHECK-LABEL: func.func @neg_100
// CHECK-SAME: peng.opencl.grid = {{\[}}[1, 0, 100], [1, 0, 100], [1, 0, 25]]
// CHECK-SAME: peng.opencl.workgroup_size = [32, 1, 1]
// CHECK: %[[Y0:.*]] = arith.cmpi eq, %{{.*}}, %c0
// CHECK: scf.if %[[Y0]] {
// CHECK: scf.for
func.func @neg_100(%a: memref<100xf32>, %out: memref<100xf32>, %wg: index) attributes {peng.kernel, peng.grid = [1, 0, 25]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c25 = arith.constant 25 : index
  %base = arith.muli %wg, %c25 : index
  scf.parallel (%i) = (%c0) to (%c25) step (%c1) {
    %p = arith.addi %base, %i : index
    %x = memref.load %a[%p] : memref<100xf32>
    %y = arith.negf %x : f32
    memref.store %y, %out[%p] : memref<100xf32>
    scf.reduce
  }
  return
}

// -----

// CHECK-LABEL: func.func @chain_8
// CHECK-SAME: peng.opencl.grid = {{\[}}[2, 0, 8]]
// CHECK-SAME: peng.opencl.workgroup_size = [8, 1, 1]
// CHECK: gpu.launch blocks(%{{.*}}) in (%{{[^ ]+}} = %c1{{[_0-9]*}}, %{{[^ ]+}} = %c1{{[_0-9]*}}, %{{[^ ]+}} = %c1{{[_0-9]*}}) threads(%[[TX:[^ ,)]+]], %[[TY:[^ ,)]+]], %{{[^ ,)]+}}) in (%[[SX:[^ ,)]+]] = %c8
// CHECK: %[[FIRST:.*]] = arith.andi
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK: arith.cmpi eq, %[[TY]]
// CHECK: arith.muli %[[TX]]
// CHECK: arith.muli %[[SX]]
// CHECK: memref.store %{{.*}}, %arg1[
// CHECK: gpu.barrier
// CHECK: memref.load %arg1[
// CHECK: gpu.barrier
// CHECK-NEXT: }
// CHECK-NEXT: gpu.terminator
// A loop that reads what an earlier one wrote: one work-group runs the
// (self-contained) pengc workgroup, its work-items stride over each loop
// by their local ids, with a barrier after each loop. Only the first group
// of x and y runs it (a relaunch with smaller groups adds some).
func.func @chain_8(%a: memref<8xf32>, %out: memref<8xf32>, %out2: memref<8xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %x = memref.load %a[%i] : memref<8xf32>
    memref.store %x, %out[%i] : memref<8xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %x = memref.load %out[%i] : memref<8xf32>
    memref.store %x, %out2[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
