// RUN: not pengc %s --targets=host,opencl -o %t.peng 2>&1 | FileCheck %s
// RUN: pengc %s --targets=host -o %t.host.peng
// What target opencl cannot compile yet is refused with the op's location,
// naming the target; the same kernels still compile for host. Here: a
// 64 KiB temporary (s = a + b, shared by both results), which pengc puts in
// the workspace, too large for __local memory.

// CHECK: invalid.mlir:[[@LINE+1]]:1: error: 'func.func' op needs a workspace for its temporaries, which is not supported on target opencl yet
func.func @shared_temp_256x64(%a: tensor<256x64xf32>, %b: tensor<256x64xf32>) -> (tensor<256x64xf32>, tensor<256x64xf32>) {
  %e = tensor.empty() : tensor<256x64xf32>
  %s = linalg.add ins(%a, %b : tensor<256x64xf32>, tensor<256x64xf32>) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  %m = linalg.mul ins(%s, %a : tensor<256x64xf32>, tensor<256x64xf32>) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  %d = linalg.sub ins(%s, %b : tensor<256x64xf32>, tensor<256x64xf32>) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  return %m, %d : tensor<256x64xf32>, tensor<256x64xf32>
}
