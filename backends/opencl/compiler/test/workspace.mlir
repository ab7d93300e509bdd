// RUN: pengc %s --targets=opencl --emit=opencl | FileCheck %s
// RUN: pengc %s --targets=host,opencl -o %t.peng && peng-info --module=%t.peng | FileCheck %s --check-prefix=MODULE
// Temporaries beyond __local memory (16 KiB a kernel) live in the
// workspace: global scratch memory that the runtime passes last, one slice
// per work-group along z; the kernel runs whole-group, a barrier between loops.

// A 64 KiB temporary (s = a + b, shared by both results), which the host
// pipeline already put in the workspace.
// CHECK-LABEL: __kernel void shared_temp_256x64(
// CHECK-SAME: long out1_d1, __global uchar* workspace) {
// CHECK-NEXT: __global uchar* const ws = workspace + (long)get_group_id(2) * 65536L;
// CHECK: __global float* const [[T:temp[0-9]+]] = (__global float*)(ws + 0L);
// CHECK: [[T]][{{.*}}] = {{v[0-9]+}};
// CHECK: barrier(
// CHECK: = [[T]][
func.func @shared_temp_256x64(%a: tensor<256x64xf32>, %b: tensor<256x64xf32>) -> (tensor<256x64xf32>, tensor<256x64xf32>) {
  %e = tensor.empty() : tensor<256x64xf32>
  %s = linalg.add ins(%a, %b : tensor<256x64xf32>, tensor<256x64xf32>) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  %m = linalg.mul ins(%s, %a : tensor<256x64xf32>, tensor<256x64xf32>) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  %d = linalg.sub ins(%s, %b : tensor<256x64xf32>, tensor<256x64xf32>) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  return %m, %d : tensor<256x64xf32>, tensor<256x64xf32>
}

// Two 12 KiB temporaries, on the host's stack both: the first fits __local
// memory, the second goes to the workspace (the opencl target's own budget).
// CHECK-LABEL: __kernel void two_temps_48x64(
// CHECK-SAME: __global uchar* workspace) {
// CHECK-NEXT: __global uchar* const ws = workspace + (long)get_group_id(2) * 12288L;
// CHECK-NEXT: __local float {{local[0-9]+}}[3072];
func.func @two_temps_48x64(%a: tensor<48x64xf32>, %b: tensor<48x64xf32>) -> (tensor<48x64xf32>, tensor<48x64xf32>) {
  %e = tensor.empty() : tensor<48x64xf32>
  %s = linalg.add ins(%a, %b : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  %t = linalg.mul ins(%a, %b : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  %m = linalg.mul ins(%s, %t : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  %d = linalg.sub ins(%s, %t : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  return %m, %d : tensor<48x64xf32>, tensor<48x64xf32>
}

// The opencl entries carry their workspace: the host's, or the target's own.
// MODULE: executable opencl opencl-c
// MODULE-NEXT: entry shared_temp_256x64: {{.*}}workspace 65536
// MODULE-NEXT: entry two_temps_48x64: {{.*}}workspace 12288
