// RUN: peng-opt %s -split-input-file -peng-cpu-entry-points | FileCheck %s

// The body keeps its code under a private name; the entry point checks the
// dispatch state and reads the bindings and the workgroup id.
// CHECK-LABEL: llvm.func @add(
// CHECK-SAME: %[[D:.+]]: !llvm.ptr, %[[W:.+]]: !llvm.ptr) -> i32
// CHECK: %[[VP:.+]] = llvm.getelementptr %[[D]][0] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: %[[V:.+]] = llvm.load %[[VP]] : !llvm.ptr -> i32
// CHECK: %[[NP:.+]] = llvm.getelementptr %[[D]][16]
// CHECK: %[[N:.+]] = llvm.load %[[NP]] : !llvm.ptr -> i32
// CHECK: llvm.icmp "eq" %[[V]]
// CHECK: llvm.icmp "eq" %[[N]]
// CHECK: llvm.cond_br
// CHECK: llvm.getelementptr %[[D]][24]
// CHECK: %[[B:.+]] = llvm.load {{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.getelementptr %[[B]][0]
// CHECK: llvm.getelementptr %[[B]][8]
// CHECK: llvm.getelementptr %[[B]][16]
// CHECK: %[[ID:.+]] = llvm.load %{{.+}} : !llvm.ptr -> i32
// CHECK: %[[ID64:.+]] = llvm.zext %[[ID]] : i32 to i64
// CHECK: llvm.call @add.impl(%{{.+}}, %{{.+}}, %{{.+}}, %[[ID64]])
// CHECK: llvm.return %{{.+}} : i32
// CHECK: llvm.return %{{.+}} : i32
// CHECK-LABEL: llvm.func internal @add.impl
llvm.func @add(%a: !llvm.ptr, %b: !llvm.ptr, %c: !llvm.ptr, %wg: i64) attributes {peng.kernel} {
  llvm.return
}

// -----

// Functions without peng.kernel are not touched.
// CHECK-LABEL: llvm.func @helper(%{{.+}}: i64)
// CHECK-NOT: .impl
llvm.func @helper(%x: i64) {
  llvm.return
}

// -----

// A kernel with a workspace: the entry point also checks
// dispatch->workspace_size (offset 72) against what the body uses, and passes
// workgroup->workspace (offset 24) before the id.
// CHECK-LABEL: llvm.func @scratch(
// CHECK-SAME: %[[D:.+]]: !llvm.ptr, %[[W:.+]]: !llvm.ptr) -> i32
// CHECK: llvm.icmp "eq"
// CHECK: llvm.icmp "eq"
// CHECK: %[[SP:.+]] = llvm.getelementptr %[[D]][72]
// CHECK: %[[S:.+]] = llvm.load %[[SP]] : !llvm.ptr -> i64
// CHECK: %[[NEED:.+]] = llvm.mlir.constant(4096 : i64) : i64
// CHECK: llvm.icmp "uge" %[[S]], %[[NEED]]
// CHECK: llvm.cond_br
// CHECK: %[[WSP:.+]] = llvm.getelementptr %[[W]][24]
// CHECK: %[[WS:.+]] = llvm.load %[[WSP]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @scratch.impl(%{{.+}}, %{{.+}}, %[[WS]], %{{.+}})
// CHECK-LABEL: llvm.func internal @scratch.impl
// CHECK-NOT: peng.workspace
llvm.func @scratch(%a: !llvm.ptr, %b: !llvm.ptr, %ws: !llvm.ptr, %wg: i64) attributes {peng.kernel, peng.workspace = 4096 : i64} {
  llvm.return
}
