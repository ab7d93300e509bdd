// RUN: peng-opt %s -split-input-file -peng-allocate-workspace -verify-diagnostics

// expected-error @+1 {{has no trailing workgroup id (run peng-forall-to-workgroup first)}}
func.func @no_id(%a: memref<8xf32>) attributes {peng.kernel} {
  return
}

// -----

func.func @dynamic(%a: memref<8xf32>, %n: index, %id: index) attributes {peng.kernel} {
  // expected-error @+1 {{is a temporary whose size has no upper bound, which kernels do not support}}
  %t = memref.alloca(%n) : memref<?xf32>
  return
}
