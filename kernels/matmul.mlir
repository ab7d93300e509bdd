// f32 matmul: C[M,N] = A[M,K] * B[K,N]. Shapes cover 1, primes, and tails
// that fill no whole vector at any VLEN.
func.func @matmul_1x1x1(%a: tensor<1x1xf32>, %b: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %r = linalg.matmul ins(%a, %b : tensor<1x1xf32>, tensor<1x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

func.func @matmul_37x29x45(%a: tensor<37x29xf32>, %b: tensor<29x45xf32>) -> tensor<37x45xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x45xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<37x45xf32>) -> tensor<37x45xf32>
  %r = linalg.matmul ins(%a, %b : tensor<37x29xf32>, tensor<29x45xf32>) outs(%c : tensor<37x45xf32>) -> tensor<37x45xf32>
  return %r : tensor<37x45xf32>
}

func.func @matmul_1x67x131(%a: tensor<1x67xf32>, %b: tensor<67x131xf32>) -> tensor<1x131xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x131xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<1x131xf32>) -> tensor<1x131xf32>
  %r = linalg.matmul ins(%a, %b : tensor<1x67xf32>, tensor<67x131xf32>) outs(%c : tensor<1x131xf32>) -> tensor<1x131xf32>
  return %r : tensor<1x131xf32>
}

func.func @matmul_64x64x64(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// matmul + bias + relu: the elementwise consumers fuse into the matmul's tiles.
func.func @matmul_bias_relu_19x23x17(%a: tensor<19x23xf32>, %b: tensor<23x17xf32>, %bias: tensor<17xf32>) -> tensor<19x17xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<19x17xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<19x17xf32>) -> tensor<19x17xf32>
  %m = linalg.matmul ins(%a, %b : tensor<19x23xf32>, tensor<23x17xf32>) outs(%c : tensor<19x17xf32>) -> tensor<19x17xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m, %bias : tensor<19x17xf32>, tensor<17xf32>) outs(%e : tensor<19x17xf32>) {
  ^bb0(%x: f32, %bv: f32, %out: f32):
    %s = arith.addf %x, %bv : f32
    %y = arith.maximumf %s, %zero : f32
    linalg.yield %y : f32
  } -> tensor<19x17xf32>
  return %r : tensor<19x17xf32>
}

// K above the host's packing block (256), and not a multiple of it.
func.func @matmul_13x517x35(%a: tensor<13x517xf32>, %b: tensor<517x35xf32>) -> tensor<13x35xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<13x35xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<13x35xf32>) -> tensor<13x35xf32>
  %r = linalg.matmul ins(%a, %b : tensor<13x517xf32>, tensor<517x35xf32>) outs(%c : tensor<13x35xf32>) -> tensor<13x35xf32>
  return %r : tensor<13x35xf32>
}

// Several output tiles and tails in both dimensions on every target's tiling
// (opencl: 64-row by 128-column tiles on a CPU device, 64 by 64 on a GPU).
func.func @matmul_130x70x200(%a: tensor<130x70xf32>, %b: tensor<70x200xf32>) -> tensor<130x200xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<130x200xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<130x200xf32>) -> tensor<130x200xf32>
  %r = linalg.matmul ins(%a, %b : tensor<130x70xf32>, tensor<70x200xf32>) outs(%c : tensor<130x200xf32>) -> tensor<130x200xf32>
  return %r : tensor<130x200xf32>
}

// B stored transposed (N x K), as a linear layer's weights are.
func.func @matmul_tb_37x29x45(%a: tensor<37x29xf32>, %b: tensor<45x29xf32>) -> tensor<37x45xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x45xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<37x45xf32>) -> tensor<37x45xf32>
  %r = linalg.matmul_transpose_b ins(%a, %b : tensor<37x29xf32>, tensor<45x29xf32>) outs(%c : tensor<37x45xf32>) -> tensor<37x45xf32>
  return %r : tensor<37x45xf32>
}

// C_out = C + A * B, accumulating into an input: each workgroup copies its
// own tile of C (a split of the whole copy would race between workgroups).
func.func @matmul_acc_130x21x70(%a: tensor<130x21xf32>, %b: tensor<21x70xf32>, %c: tensor<130x70xf32>) -> tensor<130x70xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<130x21xf32>, tensor<21x70xf32>) outs(%c : tensor<130x70xf32>) -> tensor<130x70xf32>
  return %r : tensor<130x70xf32>
}
