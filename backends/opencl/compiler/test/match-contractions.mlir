// RUN: peng-opt %s -split-input-file -peng-opencl-match-contractions | FileCheck %s
// peng-opencl-match-contractions: a kernel that is one matmul (plus a fill
// of its output) on views of its arguments is described on the function and
// emptied; anything else is left alone.

// pengc's split: a 32-row view of A and C per workgroup. The description is
// of the whole arguments; the grid is a group per 64x64 block of C.
// CHECK-LABEL: func.func @matmul_split
// CHECK-SAME: peng.opencl.gemm = {a = 0 : i64, a_cast = "", a_dims = [-1, 0, -1, 1], b = 1 : i64, b_cast = "", b_dims = [-1, -1, 1, 0], c = 2 : i64, c_dims = [-1, 0, 1, -1], init = 0.000000e+00 : f32}
// CHECK-SAME: peng.opencl.grid = {{\[}}[2, 1, 64], [2, 0, 64]]
// CHECK-SAME: peng.opencl.workgroup_size = [0, 0, 0]
// CHECK-NEXT: return
func.func @matmul_split(%a: memref<128x96xf32>, %b: memref<96x80xf32>, %c: memref<128x80xf32>, %wg: index) attributes {peng.kernel, peng.grid = [2, 0, 32]} {
  %cst = arith.constant 0.0 : f32
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %0 = arith.muli %wg, %c32 : index
  %1 = arith.cmpi slt, %0, %c128 : index
  scf.if %1 {
    %va = memref.subview %a[%0, 0] [32, 96] [1, 1] : memref<128x96xf32> to memref<32x96xf32, strided<[96, 1], offset: ?>>
    %vc = memref.subview %c[%0, 0] [32, 80] [1, 1] : memref<128x80xf32> to memref<32x80xf32, strided<[80, 1], offset: ?>>
    linalg.fill ins(%cst : f32) outs(%vc : memref<32x80xf32, strided<[80, 1], offset: ?>>)
    linalg.matmul ins(%va, %b : memref<32x96xf32, strided<[96, 1], offset: ?>>, memref<96x80xf32>) outs(%vc : memref<32x80xf32, strided<[80, 1], offset: ?>>)
  }
  return
}

// -----

// batch_matmul without a fill (C += A * B); the batch loop is z.
// CHECK-LABEL: func.func @batch_accumulate
// CHECK-SAME: a_dims = [0, 1, -1, 2]
// CHECK-SAME: c = 2 : i64, c_dims = [0, 1, 2, -1]}
// CHECK-SAME: peng.opencl.grid = {{\[}}[2, 2, 64], [2, 1, 64], [2, 0, 1]]
func.func @batch_accumulate(%a: memref<3x5x7xf32>, %b: memref<3x7x9xf32>, %c: memref<3x5x9xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.batch_matmul ins(%a, %b : memref<3x5x7xf32>, memref<3x7x9xf32>) outs(%c : memref<3x5x9xf32>)
  return
}

// -----

// B transposed (N x K) and i8 operands sign-extended into an i32 sum.
// CHECK-LABEL: func.func @transposed_i8
// CHECK-SAME: a_cast = "extsi"
// CHECK-SAME: b_cast = "extsi", b_dims = [-1, -1, 0, 1]
// CHECK-SAME: init = 0 : i32
func.func @transposed_i8(%a: memref<4x6xi8>, %b: memref<5x6xi8>, %c: memref<4x5xi32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %z = arith.constant 0 : i32
  linalg.fill ins(%z : i32) outs(%c : memref<4x5xi32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x6xi8>, memref<5x6xi8>) outs(%c : memref<4x5xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// C_out = C_in + A * B: pengc copies each workgroup's tile of C_in into C
// first; the copy's source is the kernel's c_in.
// CHECK-LABEL: func.func @accumulate_from_input
// CHECK-SAME: c = 3 : i64, c_dims = [-1, 0, 1, -1], c_in = 2 : i64}
func.func @accumulate_from_input(%a: memref<4x6xf32>, %b: memref<6x5xf32>, %cin: memref<4x5xf32>, %c: memref<4x5xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.copy ins(%cin : memref<4x5xf32>) outs(%c : memref<4x5xf32>)
  linalg.matmul ins(%a, %b : memref<4x6xf32>, memref<6x5xf32>) outs(%c : memref<4x5xf32>)
  return
}

// -----

// Not one matmul: a fused epilogue (bias) after it; a body that is not
// acc + a * b; a matrix-vector product (no n loop). Left for the loop lowering.
// CHECK-LABEL: func.func @matmul_then_bias
// CHECK-NOT: peng.opencl.gemm
// CHECK: linalg.matmul
// CHECK-LABEL: func.func @max_plus
// CHECK-NOT: peng.opencl.gemm
// CHECK: linalg.generic
// CHECK-LABEL: func.func @matvec
// CHECK-NOT: peng.opencl.gemm
// CHECK: linalg.matvec
func.func @matmul_then_bias(%a: memref<4x6xf32>, %b: memref<6x5xf32>, %bias: memref<5xf32>, %c: memref<4x5xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.matmul ins(%a, %b : memref<4x6xf32>, memref<6x5xf32>) outs(%c : memref<4x5xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (n)>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<5xf32>) outs(%c : memref<4x5xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}
func.func @max_plus(%a: memref<4x6xf32>, %b: memref<6x5xf32>, %c: memref<4x5xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x6xf32>, memref<6x5xf32>) outs(%c : memref<4x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.addf %x, %y : f32
    %s = arith.maximumf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
func.func @matvec(%a: memref<4x6xf32>, %x: memref<6xf32>, %y: memref<4xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.matvec ins(%a, %x : memref<4x6xf32>, memref<6xf32>) outs(%y : memref<4xf32>)
  return
}
