// RUN: peng-opt %s -split-input-file -verify-diagnostics -peng-opencl-check-supported | FileCheck %s
// peng-opencl-check-supported: kernels after pengc's kernel pipeline pass
// unchanged when every op is one the opencl target compiles.

// CHECK-LABEL: func.func @copy_8
// CHECK: linalg.copy
func.func @copy_8(%a: memref<8xf32>, %out: memref<8xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  linalg.copy ins(%a : memref<8xf32>) outs(%out : memref<8xf32>)
  return
}

// -----

// A reduction whose outputs are indexed by its parallel loops passes (it is
// lowered by peng-opencl-lower-reductions); one that is not is refused.
// CHECK-LABEL: func.func @sum_8
// CHECK: linalg.generic
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

// -----

// Temporaries of static shape pass (they become __local arrays), up to
// 16 KiB in all.
// CHECK-LABEL: func.func @temp_8
// CHECK: memref.alloca() : memref<8xf32>
func.func @temp_8(%a: memref<8xf32>, %out: memref<8xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %t = memref.alloca() : memref<8xf32>
  linalg.copy ins(%a : memref<8xf32>) outs(%t : memref<8xf32>)
  linalg.copy ins(%t : memref<8xf32>) outs(%out : memref<8xf32>)
  return
}

// -----

// expected-error @+1 {{'func.func' op needs 20480 bytes of temporaries, more than the 16384 bytes of __local memory target opencl gives a kernel}}
func.func @temp_big(%a: memref<8xf32>, %out: memref<8xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %t = memref.alloca() : memref<4096xf32>
  %u = memref.alloca() : memref<1024xf32>
  return
}

// -----

func.func @temp_dynamic(%a: memref<8xf32>, %out: memref<8xf32>, %n: index, %wg: index) attributes {peng.kernel, peng.grid = []} {
  // expected-error @+1 {{'memref.alloca' op is not supported on target opencl: temporaries of dynamic shape or strided layout come in a later version}}
  %t = memref.alloca(%n) : memref<?xf32>
  return
}

// -----

func.func @workspace_dynamic(%a: memref<8xf32>, %out: memref<8xf32>, %ws: memref<4096xi8>, %n: index, %wg: index) attributes {peng.kernel, peng.grid = [], peng.workspace = 4096 : i64} {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.view' op is not supported on target opencl: temporaries of dynamic shape come in a later version}}
  %t = memref.view %ws[%c0][%n] : memref<4096xi8> to memref<?xf32>
  return
}

// -----

func.func @vector_8(%a: memref<8xf32>, %out: memref<8xf32>, %wg: index) attributes {peng.kernel, peng.grid = []} {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  // expected-error @+1 {{'vector.transfer_read' op is not supported on target opencl: the OpenCL C printer has no translation for it}}
  %v = vector.transfer_read %a[%c0], %z : memref<8xf32>, vector<8xf32>
  return
}
