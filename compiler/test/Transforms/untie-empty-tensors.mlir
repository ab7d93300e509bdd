// RUN: peng-opt %s -split-input-file -peng-untie-empty-tensors | FileCheck %s

// One tensor.empty feeding two ops becomes one each, so empty-tensor
// elimination can give each result its own output buffer.
// CHECK-LABEL: func.func @two_uses
// CHECK: %[[E0:.+]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[E1:.+]] = tensor.empty() : tensor<4xf32>
// CHECK: linalg.add {{.*}} outs(%[[E1]] :
// CHECK: linalg.mul {{.*}} outs(%[[E0]] :
func.func @two_uses(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %s = linalg.add ins(%a, %b : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %m = linalg.mul ins(%a, %b : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %s, %m : tensor<4xf32>, tensor<4xf32>
}

// -----

// Dynamic sizes are kept: each clone takes the same size operands.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[N:.+]]: index
// CHECK: %[[E0:.+]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK: %[[E1:.+]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK: linalg.fill {{.*}} outs(%[[E1]] :
// CHECK: linalg.fill {{.*}} outs(%[[E0]] :
func.func @dynamic(%n: index, %x: f32) -> (tensor<?xf32>, tensor<?xf32>) {
  %e = tensor.empty(%n) : tensor<?xf32>
  %a = linalg.fill ins(%x : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %b = linalg.fill ins(%x : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  return %a, %b : tensor<?xf32>, tensor<?xf32>
}

// -----

// A single use stays as it is.
// CHECK-LABEL: func.func @one_use
// CHECK-COUNT-1: tensor.empty
// CHECK-NOT: tensor.empty
func.func @one_use(%x: f32) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %a = linalg.fill ins(%x : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  return %a : tensor<8xf32>
}
