// RUN: peng-opt %s -peng-forall-to-workgroup -verify-diagnostics

// A kernel has one workgroup loop.
func.func @two_loops(%a: memref<8xf32>) attributes {peng.kernel} {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) = (0) to (8) step (4) {
    memref.store %zero, %a[%i] : memref<8xf32>
  }
  // expected-error @+1 {{'scf.forall' op is a second workgroup loop; a kernel has one}}
  scf.forall (%i) = (0) to (8) step (4) {
    memref.store %zero, %a[%i] : memref<8xf32>
  }
  return
}
