// RUN: peng-opt %s -split-input-file -verify-diagnostics -peng-opencl-lower-reductions | FileCheck %s
// peng-opencl-lower-reductions: a linalg reduction becomes an scf.parallel
// over its parallel loops around an scf.for nest over its reduction loops;
// the accumulator is an iter_arg, initialised from the fill just before (then
// erased) or from the output, and stored once.

// CHECK-LABEL: func.func @rowsum_13x7
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[C13:.*]] = arith.constant 13 : index
// CHECK-DAG: %[[C7:.*]] = arith.constant 7 : index
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%[[C13]])
// CHECK-NEXT: %[[SUM:.*]] = scf.for %[[J:.*]] = %{{.*}} to %[[C7]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-NEXT: %[[X:.*]] = memref.load %arg0[%[[I]], %[[J]]]
// CHECK-NEXT: %[[Y:.*]] = arith.addf %[[ACC]], %[[X]] : f32
// CHECK-NEXT: scf.yield %[[Y]] : f32
// CHECK: memref.store %[[SUM]], %arg1[%[[I]]]
// CHECK-NOT: linalg.
func.func @rowsum_13x7(%a: memref<13x7xf32>, %out: memref<13xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<13xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<13x7xf32>) outs(%out : memref<13xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A column sum (reduction loop first) initialised by a generalized fill:
// the parallel loop is still the work-item loop.
// CHECK-LABEL: func.func @colsum_9x37
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel (%[[J:.*]]) =
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%{{.*}} = %cst) -> (f32)
// CHECK: memref.load %arg0[%[[I]], %[[J]]]
// CHECK: memref.store %{{.*}}, %arg1[%[[J]]]
func.func @colsum_9x37(%a: memref<9x37xf32>, %out: memref<37xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %cst = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(j) -> (j)>], iterator_types = ["parallel"]} outs(%out : memref<37xf32>) {
  ^bb0(%o: f32):
    linalg.yield %cst : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>], iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<9x37xf32>) outs(%out : memref<37xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// No fill: the accumulator starts from the output; a full reduction runs
// in a one-iteration parallel loop (one work-item).
// CHECK-LABEL: func.func @sum_8
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[ONE:c1[_0-9]*]]) step (%{{.*}})
// CHECK-NEXT: %[[INIT:.*]] = memref.load %arg1[] : memref<f32>
// CHECK-NEXT: %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (f32)
// CHECK: memref.store %[[SUM]], %arg1[] : memref<f32>
func.func @sum_8(%a: memref<8xf32>, %out: memref<f32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"]}
      ins(%a : memref<8xf32>) outs(%out : memref<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A matmul on a dynamic tile (what pengc's split makes): the ranges come
// from the views; a fill of another buffer in between does not stop the
// folding of the output's fill; linalg.index is the loop's iv.
// CHECK-LABEL: func.func @matmul_tile
// CHECK: linalg.fill ins(%cst : f32) outs(%arg3 : memref<4xf32>)
// CHECK-NOT: linalg.fill
// CHECK: %[[M:.*]] = memref.dim %arg0
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%{{.*}}, %{{.*}}) to (%[[M]], %c6)
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c5 step %{{.*}} iter_args(%{{.*}} = %cst) -> (f32)
// CHECK: memref.load %arg0[%[[I]], %[[K]]]
// CHECK: memref.load %arg1[%[[K]], %[[J]]]
// CHECK: arith.index_cast %[[K]]
func.func @matmul_tile(%a: memref<?x5xf32>, %b: memref<5x6xf32>, %out: memref<?x6xf32>, %other: memref<4xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %cst = arith.constant 0.0 : f32
  linalg.fill ins(%cst : f32) outs(%out : memref<?x6xf32>)
  linalg.fill ins(%cst : f32) outs(%other : memref<4xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x5xf32>, memref<5x6xf32>) outs(%out : memref<?x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %k = linalg.index 2 : index
    %ki = arith.index_cast %k : index to i32
    %kf = arith.sitofp %ki : i32 to f32
    %m = arith.mulf %x, %y : f32
    %m2 = arith.mulf %m, %kf : f32
    %s = arith.addf %m2, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An output not indexed by every parallel loop (several work-items would
// reduce into one element): refused at the op.
func.func @partial_out(%a: memref<4x5x6xf32>, %out: memref<4xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  // expected-error @+1 {{'linalg.generic' op is not supported on target opencl: a reduction whose outputs are not indexed by exactly its parallel loops}}
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : memref<4x5x6xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}
