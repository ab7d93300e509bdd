// RUN: peng-opt %s -split-input-file -peng-prepare-kernel-abi -peng-distribute-workgroups=max-workgroups=4 -canonicalize | FileCheck %s

// 37 rows over at most 4 workgroups: tiles of 10 rows, the fill fused in.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: peng.grid = [2, 0, 10]
// CHECK: scf.forall (%[[I:.+]]) = (0) to (37) step (10)
// CHECK: %[[ROWS:.+]] = affine.min
// CHECK: linalg.fill {{.*}} -> tensor<?x45xf32>
// CHECK: linalg.matmul {{.*}} -> tensor<?x45xf32>
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.matmul
// CHECK: bufferization.materialize_in_destination
func.func @matmul(%a: tensor<37x29xf32>, %b: tensor<29x45xf32>) -> tensor<37x45xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x45xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<37x45xf32>) -> tensor<37x45xf32>
  %r = linalg.matmul ins(%a, %b : tensor<37x29xf32>, tensor<29x45xf32>) outs(%c : tensor<37x45xf32>) -> tensor<37x45xf32>
  return %r : tensor<37x45xf32>
}

// -----

// The output's split dimension follows the root's first parallel loop, here
// through a transposing output map: loop d0 writes dimension 1.
// CHECK-LABEL: func.func @transpose
// CHECK-SAME: peng.grid = [1, 1, 2]
// CHECK: scf.forall
func.func @transpose(%a: tensor<8x6xf32>) -> tensor<6x8xf32> {
  %e = tensor.empty() : tensor<6x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j, i)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<8x6xf32>) outs(%e : tensor<6x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<6x8xf32>
  return %r : tensor<6x8xf32>
}

// -----

// Nothing to split (one row): one workgroup, no loop.
// CHECK-LABEL: func.func @single
// CHECK-SAME: peng.grid = []
// CHECK-NOT: scf.forall
func.func @single(%a: tensor<1x5xf32>, %b: tensor<1x5xf32>) -> tensor<1x5xf32> {
  %e = tensor.empty() : tensor<1x5xf32>
  %r = linalg.add ins(%a, %b : tensor<1x5xf32>, tensor<1x5xf32>) outs(%e : tensor<1x5xf32>) -> tensor<1x5xf32>
  return %r : tensor<1x5xf32>
}
