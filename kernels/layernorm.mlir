// Layer normalisation over the last dimension, with scale (gamma) and shift
// (beta): y = (x - mean) / sqrt(var + 1e-5) * gamma + beta.
#id2 = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (i)>
#row = affine_map<(i, j) -> (j)>

func.func @layernorm_7x129(%x: tensor<7x129xf32>, %gamma: tensor<129xf32>, %beta: tensor<129xf32>) -> tensor<7x129xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 129.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e1 = tensor.empty() : tensor<7xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<7xf32>) -> tensor<7xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<7x129xf32>) outs(%z1 : tensor<7xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<7xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #col, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x, %sum : tensor<7x129xf32>, tensor<7xf32>) outs(%z1 : tensor<7xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %mean = arith.divf %s, %n : f32
    %d = arith.subf %v, %mean : f32
    %d2 = arith.mulf %d, %d : f32
    %a = arith.addf %d2, %acc : f32
    linalg.yield %a : f32
  } -> tensor<7xf32>
  %e2 = tensor.empty() : tensor<7x129xf32>
  %y = linalg.generic {indexing_maps = [#id2, #col, #col, #row, #row, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum, %sq, %gamma, %beta : tensor<7x129xf32>, tensor<7xf32>, tensor<7xf32>, tensor<129xf32>, tensor<129xf32>)
      outs(%e2 : tensor<7x129xf32>) {
  ^bb0(%v: f32, %s: f32, %q: f32, %g: f32, %b: f32, %o: f32):
    %mean = arith.divf %s, %n : f32
    %var = arith.divf %q, %n : f32
    %ve = arith.addf %var, %eps : f32
    %r = math.rsqrt %ve : f32
    %d = arith.subf %v, %mean : f32
    %nd = arith.mulf %d, %r : f32
    %sc = arith.mulf %nd, %g : f32
    %out = arith.addf %sc, %b : f32
    linalg.yield %out : f32
  } -> tensor<7x129xf32>
  return %y : tensor<7x129xf32>
}

func.func @layernorm_1x64(%x: tensor<1x64xf32>, %gamma: tensor<64xf32>, %beta: tensor<64xf32>) -> tensor<1x64xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e1 = tensor.empty() : tensor<1xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1xf32>) -> tensor<1xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<1x64xf32>) outs(%z1 : tensor<1xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #col, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x, %sum : tensor<1x64xf32>, tensor<1xf32>) outs(%z1 : tensor<1xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %mean = arith.divf %s, %n : f32
    %d = arith.subf %v, %mean : f32
    %d2 = arith.mulf %d, %d : f32
    %a = arith.addf %d2, %acc : f32
    linalg.yield %a : f32
  } -> tensor<1xf32>
  %e2 = tensor.empty() : tensor<1x64xf32>
  %y = linalg.generic {indexing_maps = [#id2, #col, #col, #row, #row, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum, %sq, %gamma, %beta : tensor<1x64xf32>, tensor<1xf32>, tensor<1xf32>, tensor<64xf32>, tensor<64xf32>)
      outs(%e2 : tensor<1x64xf32>) {
  ^bb0(%v: f32, %s: f32, %q: f32, %g: f32, %b: f32, %o: f32):
    %mean = arith.divf %s, %n : f32
    %var = arith.divf %q, %n : f32
    %ve = arith.addf %var, %eps : f32
    %r = math.rsqrt %ve : f32
    %d = arith.subf %v, %mean : f32
    %nd = arith.mulf %d, %r : f32
    %sc = arith.mulf %nd, %g : f32
    %out = arith.addf %sc, %b : f32
    linalg.yield %out : f32
  } -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}

func.func @layernorm_3x1(%x: tensor<3x1xf32>, %gamma: tensor<1xf32>, %beta: tensor<1xf32>) -> tensor<3x1xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 1.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e1 = tensor.empty() : tensor<3xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<3xf32>) -> tensor<3xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<3x1xf32>) outs(%z1 : tensor<3xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #col, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x, %sum : tensor<3x1xf32>, tensor<3xf32>) outs(%z1 : tensor<3xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %mean = arith.divf %s, %n : f32
    %d = arith.subf %v, %mean : f32
    %d2 = arith.mulf %d, %d : f32
    %a = arith.addf %d2, %acc : f32
    linalg.yield %a : f32
  } -> tensor<3xf32>
  %e2 = tensor.empty() : tensor<3x1xf32>
  %y = linalg.generic {indexing_maps = [#id2, #col, #col, #row, #row, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum, %sq, %gamma, %beta : tensor<3x1xf32>, tensor<3xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>)
      outs(%e2 : tensor<3x1xf32>) {
  ^bb0(%v: f32, %s: f32, %q: f32, %g: f32, %b: f32, %o: f32):
    %mean = arith.divf %s, %n : f32
    %var = arith.divf %q, %n : f32
    %ve = arith.addf %var, %eps : f32
    %r = math.rsqrt %ve : f32
    %d = arith.subf %v, %mean : f32
    %nd = arith.mulf %d, %r : f32
    %sc = arith.mulf %nd, %g : f32
    %out = arith.addf %sc, %b : f32
    linalg.yield %out : f32
  } -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
