// RUN: peng-opt %s -split-input-file -peng-cpu-entry-points -verify-diagnostics

// expected-error @+1 {{is not a kernel body: expected buffer pointers, an i64 workgroup id and no result}}
llvm.func @no_id(%a: !llvm.ptr) attributes {peng.kernel} {
  llvm.return
}

// -----

// expected-error @+1 {{parameter 0 is not a pointer}}
llvm.func @descriptor(%a: i64, %wg: i64) attributes {peng.kernel} {
  llvm.return
}

// -----

// expected-error @+1 {{has a malformed peng.workspace}}
llvm.func @bad_workspace(%a: !llvm.ptr, %wg: i64) attributes {peng.kernel, peng.workspace = 0 : i64} {
  llvm.return
}
