// RUN: peng-opt %s -split-input-file -peng-cpu-matmul-microkernel="scalable=true auto-width=true k-unroll=1" | FileCheck %s --check-prefix=RVV
// RUN: peng-opt %s -split-input-file -peng-cpu-matmul-microkernel="rows=6 vector-width=8 vectors-per-row=2 k-unroll=2 pack-kc=256" | FileCheck %s --check-prefix=HOST

// rvv, N = 45: LMUL 4 (vector<[8]xf32>), 6 rows of accumulators carried
// through the K loop, one B row load and 6 broadcast-FMAs per k; the column
// tail is masked, the row tail runs one row at a time.
// RVV-LABEL: func.func @matmul
// RVV: vector.vscale
// RVV: scf.for
// RVV: vector.load %{{.+}} : memref<37x45xf32>, vector<[8]xf32>
// RVV-COUNT-6: vector.fma {{.*}} : vector<[8]xf32>
// RVV: scf.yield
// RVV-COUNT-6: vector.store {{.*}} vector<[8]xf32>
// RVV: vector.create_mask {{.*}} : vector<[8]xi1>
// RVV: vector.maskedload
// RVV: vector.maskedstore
// RVV-NOT: linalg.matmul
// HOST-LABEL: func.func @matmul
// HOST: memref.alloca() {alignment = 64 : i64} : memref<256x16xf32>
// HOST: vector.load %{{.+}} : memref<29x45xf32>, vector<8xf32>
// HOST: vector.store %{{.+}} : memref<256x16xf32>, vector<8xf32>
// HOST-COUNT-24: vector.fma {{.*}} : vector<8xf32>
// HOST-NOT: linalg.matmul
func.func @matmul(%a: memref<37x29xf32>, %b: memref<29x45xf32>, %c: memref<37x45xf32>) {
  linalg.matmul ins(%a, %b : memref<37x29xf32>, memref<29x45xf32>) outs(%c : memref<37x45xf32>)
  return
}

// -----

// rvv, N = 5: LMUL 1 (vector<[2]xf32>), 8 rows.
// RVV-LABEL: func.func @narrow
// HOST-LABEL: func.func @narrow
// RVV-COUNT-8: vector.fma {{.*}} : vector<[2]xf32>
func.func @narrow(%a: memref<16x3xf32>, %b: memref<3x5xf32>, %c: memref<16x5xf32>) {
  linalg.matmul ins(%a, %b : memref<16x3xf32>, memref<3x5xf32>) outs(%c : memref<16x5xf32>)
  return
}

// -----

// batch_matmul: a loop over the batch of rank-reduced matrices.
// RVV-LABEL: func.func @batched
// HOST-LABEL: func.func @batched
// RVV: scf.for %[[I:.+]] =
// RVV: memref.subview %{{.+}}[%[[I]], 0, 0] [1, 17, 19] [1, 1, 1] : memref<3x17x19xf32> to memref<17x19xf32, strided<[19, 1], offset: ?>>
// RVV: vector.fma
// RVV-NOT: linalg.batch_matmul
func.func @batched(%a: memref<3x17x19xf32>, %b: memref<3x19x23xf32>, %c: memref<3x17x23xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x17x19xf32>, memref<3x19x23xf32>) outs(%c : memref<3x17x23xf32>)
  return
}

// -----

// Not f32, or on tensors: left alone.
// RVV-LABEL: func.func @f64
// RVV: linalg.matmul
// HOST-LABEL: func.func @f64
// HOST: linalg.matmul
func.func @f64(%a: memref<4x4xf64>, %b: memref<4x4xf64>, %c: memref<4x4xf64>) {
  linalg.matmul ins(%a, %b : memref<4x4xf64>, memref<4x4xf64>) outs(%c : memref<4x4xf64>)
  return
}
