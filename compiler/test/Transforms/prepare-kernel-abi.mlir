// RUN: peng-opt %s -split-input-file -peng-prepare-kernel-abi | FileCheck %s

// Inputs become read-only buffers, the result a trailing output buffer.
// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[A:.+]]: memref<4x8xf32>, %[[B:.+]]: memref<4x8xf32>, %[[OUT:.+]]: memref<4x8xf32>)
// CHECK-SAME: attributes {peng.kernel}
// CHECK: %[[TA:.+]] = bufferization.to_tensor %[[A]] restrict
// CHECK: %[[TB:.+]] = bufferization.to_tensor %[[B]] restrict
// CHECK: %[[R:.+]] = linalg.add ins(%[[TA]], %[[TB]]
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %[[OUT]]
// CHECK-NEXT: return{{$}}
func.func @add(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.add ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// Two results: two output buffers, in order. Private helpers are left alone.
// CHECK-LABEL: func.func @two
// CHECK-SAME: (%{{.+}}: memref<3xf32>, %[[O0:.+]]: memref<3xf32>, %[[O1:.+]]: memref<3xf32>)
// CHECK: bufferization.materialize_in_destination %{{.+}} in restrict writable %[[O0]]
// CHECK: bufferization.materialize_in_destination %{{.+}} in restrict writable %[[O1]]
// CHECK-LABEL: func.func private @helper(%{{.+}}: tensor<3xf32>) -> tensor<3xf32>
func.func @two(%a: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  return %a, %a : tensor<3xf32>, tensor<3xf32>
}
func.func private @helper(%a: tensor<3xf32>) -> tensor<3xf32> {
  return %a : tensor<3xf32>
}
