// RUN: peng-opt %s -split-input-file -peng-check-supported -verify-diagnostics

// expected-error @+2 {{'func.func' op argument #0 has type 'tensor<?x4xf32>'; dynamic shapes are not supported yet}}
// expected-error @+1 {{'func.func' op result #0 has type 'tensor<?x4xf32>'; dynamic shapes are not supported yet}}
func.func @dynamic(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %a : tensor<?x4xf32>
}

// -----

func.func @unknown_op(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'memref.alloc' op is not supported by pengc}}
  %m = memref.alloc() : memref<4xf32>
  return %a : tensor<4xf32>
}

// -----

// expected-error @+2 {{'func.func' op argument #0 has element type 'complex<f32>', which pengc does not support}}
// expected-error @+1 {{'func.func' op result #0 has element type 'complex<f32>', which pengc does not support}}
func.func @complex(%a: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  return %a : tensor<4xcomplex<f32>>
}

// -----

// expected-error @+1 {{'func.func' op returns nothing; a kernel returns its output tensors}}
func.func @nothing(%a: tensor<4xf32>) {
  return
}
