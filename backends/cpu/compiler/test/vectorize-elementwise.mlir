// RUN: peng-opt %s -split-input-file -peng-cpu-vectorize-elementwise="scalable=true vector-width=8" -canonicalize | FileCheck %s --check-prefix=RVV
// RUN: peng-opt %s -split-input-file -peng-cpu-vectorize-elementwise="vector-width=8" -canonicalize | FileCheck %s --check-prefix=HOST

// A row-broadcast add: rows one at a time, the row in vectors of vscale x 8
// lanes, the last one masked; no scalar epilogue, no transfer ops left.
// RVV-LABEL: func.func @add_row
// RVV: %[[VS:.+]] = vector.vscale
// RVV: %[[VL:.+]] = arith.muli %[[VS]], %c8
// RVV: scf.for
// RVV: scf.for %{{.+}} = %c0 to %c47 step %[[VL]]
// RVV: vector.create_mask %{{.+}} : vector<[8]xi1>
// RVV: vector.maskedload {{.*}} into vector<[8]xf32>
// RVV: vector.maskedload {{.*}} into vector<[8]xf32>
// RVV: arith.addf {{.*}} : vector<[8]xf32>
// RVV: vector.maskedstore {{.*}} vector<[8]xf32>
// RVV-NOT: vector.transfer
// RVV-NOT: linalg.generic
// HOST-LABEL: func.func @add_row
// HOST: scf.for %{{.+}} = %c0 to %c47 step %c8
// HOST: vector.create_mask %{{.+}} : vector<8xi1>
// HOST: arith.addf {{.*}} : vector<8xf32>
// HOST-NOT: vector.transfer
func.func @add_row(%a: memref<33x47xf32>, %b: memref<47xf32>, %c: memref<33x47xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : memref<33x47xf32>, memref<47xf32>) outs(%c : memref<33x47xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Reductions are left to the loop lowering.
// RVV-LABEL: func.func @row_sum
// RVV: linalg.generic
// RVV-SAME: "reduction"
func.func @row_sum(%a: memref<4x9xf32>, %c: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x9xf32>) outs(%c : memref<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %o : f32
    linalg.yield %s : f32
  }
  return
}
