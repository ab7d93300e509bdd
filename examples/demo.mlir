// The demo's kernels (scripts/demo.sh compiles them with pengc for the host,
// RVV and OpenCL into one module.peng; peng-demo runs them). One request of a
// small quantized model:
//   x = dequantize(q, scale)      data plane: marked for a DPU
//   h = relu(x · W + b)           compute: an NPU, a GPU or the CPU
//   p = softmax(h)                compute

// int8 activations to f32 with one scale for the tensor.
func.func @dequantize_64x128(%q: tensor<64x128xi8>, %s: tensor<1xf32>) -> tensor<64x128xf32>
    attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (0)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%q, %s : tensor<64x128xi8>, tensor<1xf32>) outs(%e : tensor<64x128xf32>) {
  ^bb0(%v: i8, %scale: f32, %out: f32):
    %f = arith.sitofp %v : i8 to f32
    %y = arith.mulf %f, %scale : f32
    linalg.yield %y : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

func.func @dense_relu_64x128x64(%x: tensor<64x128xf32>, %w: tensor<128x64xf32>, %b: tensor<64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %m = linalg.matmul ins(%x, %w : tensor<64x128xf32>, tensor<128x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m, %b : tensor<64x64xf32>, tensor<64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%v: f32, %bv: f32, %out: f32):
    %s = arith.addf %v, %bv : f32
    %y = arith.maximumf %s, %zero : f32
    linalg.yield %y : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

func.func @softmax_64x64(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %e = tensor.empty() : tensor<64x64xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}
