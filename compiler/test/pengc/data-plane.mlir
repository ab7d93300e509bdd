// pengc records which kernels are data-plane work: `attributes
// {peng.data_plane}` on the func becomes "class": "data_plane" in the
// kernel's module.peng record, any other kernel "compute"; peng-info shows it.
// The attribute is a unit attribute; one with a value is an error.
// RUN: split-file %s %t
// RUN: pengc %t/kernels.mlir --targets=host -o %t/k.peng
// RUN: peng-info --module=%t/k.peng | FileCheck %s
// RUN: grep -a -o '"class": *"[a-z_]*"' %t/k.peng | FileCheck %s --check-prefix=JSON
// RUN: not pengc %t/valued.mlir --targets=host -o %t/v.peng 2>&1 | FileCheck %s --check-prefix=VALUED

// CHECK: kernel copy (in f32[7], out f32[7]): {{.*}} bytes, data plane
// CHECK: kernel add (in f32[7], in f32[7], out f32[7]): {{.*}} bytes{{$}}
// JSON: "class": "data_plane"
// JSON-NEXT: "class": "compute"
// VALUED: valued.mlir:1:1: error: 'func.func' op has a peng.data_plane attribute with a value; it is a unit attribute

//--- kernels.mlir
func.func @copy(%a: tensor<7xf32>) -> tensor<7xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<7xf32>
  %r = linalg.copy ins(%a : tensor<7xf32>) outs(%e : tensor<7xf32>) -> tensor<7xf32>
  return %r : tensor<7xf32>
}
func.func @add(%a: tensor<7xf32>, %b: tensor<7xf32>) -> tensor<7xf32> {
  %e = tensor.empty() : tensor<7xf32>
  %r = linalg.add ins(%a, %b : tensor<7xf32>, tensor<7xf32>) outs(%e : tensor<7xf32>) -> tensor<7xf32>
  return %r : tensor<7xf32>
}

//--- valued.mlir
func.func @copy(%a: tensor<7xf32>) -> tensor<7xf32> attributes {peng.data_plane = "yes"} {
  %e = tensor.empty() : tensor<7xf32>
  %r = linalg.copy ins(%a : tensor<7xf32>) outs(%e : tensor<7xf32>) -> tensor<7xf32>
  return %r : tensor<7xf32>
}
