// Kernels with several results: each result must land in its own output
// buffer, whatever the shapes, the order of return, or how the results
// depend on one another.
#id2 = affine_map<(i, j) -> (i, j)>
#rows = affine_map<(i, j) -> (i)>

// Two results of one shape from independent ops (they share nothing but the
// shape, so CSE gives them one tensor.empty).
func.func @add_mul_17x9(%a: tensor<17x9xf32>, %b: tensor<17x9xf32>) -> (tensor<17x9xf32>, tensor<17x9xf32>) {
  %e = tensor.empty() : tensor<17x9xf32>
  %s = linalg.add ins(%a, %b : tensor<17x9xf32>, tensor<17x9xf32>) outs(%e : tensor<17x9xf32>) -> tensor<17x9xf32>
  %e2 = tensor.empty() : tensor<17x9xf32>
  %m = linalg.mul ins(%a, %b : tensor<17x9xf32>, tensor<17x9xf32>) outs(%e2 : tensor<17x9xf32>) -> tensor<17x9xf32>
  return %s, %m : tensor<17x9xf32>, tensor<17x9xf32>
}

// Three results, returned in another order than computed: (a-b, a+b, a*b).
func.func @sub_add_mul_17x9(%a: tensor<17x9xf32>, %b: tensor<17x9xf32>) -> (tensor<17x9xf32>, tensor<17x9xf32>, tensor<17x9xf32>) {
  %e = tensor.empty() : tensor<17x9xf32>
  %s = linalg.add ins(%a, %b : tensor<17x9xf32>, tensor<17x9xf32>) outs(%e : tensor<17x9xf32>) -> tensor<17x9xf32>
  %m = linalg.mul ins(%a, %b : tensor<17x9xf32>, tensor<17x9xf32>) outs(%e : tensor<17x9xf32>) -> tensor<17x9xf32>
  %d = linalg.sub ins(%a, %b : tensor<17x9xf32>, tensor<17x9xf32>) outs(%e : tensor<17x9xf32>) -> tensor<17x9xf32>
  return %d, %s, %m : tensor<17x9xf32>, tensor<17x9xf32>, tensor<17x9xf32>
}

// One result computed from the other, returned consumer first: ((a+b)^2, a+b).
func.func @square_sum_31x5(%a: tensor<31x5xf32>, %b: tensor<31x5xf32>) -> (tensor<31x5xf32>, tensor<31x5xf32>) {
  %e = tensor.empty() : tensor<31x5xf32>
  %s = linalg.add ins(%a, %b : tensor<31x5xf32>, tensor<31x5xf32>) outs(%e : tensor<31x5xf32>) -> tensor<31x5xf32>
  %t = linalg.mul ins(%s, %s : tensor<31x5xf32>, tensor<31x5xf32>) outs(%e : tensor<31x5xf32>) -> tensor<31x5xf32>
  return %t, %s : tensor<31x5xf32>, tensor<31x5xf32>
}

// Results of different shapes: (row sums of a, a+b).
func.func @rowsum_add_13x7(%a: tensor<13x7xf32>, %b: tensor<13x7xf32>) -> (tensor<13xf32>, tensor<13x7xf32>) {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<13xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e1 : tensor<13xf32>) -> tensor<13xf32>
  %r = linalg.generic {indexing_maps = [#id2, #rows], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<13x7xf32>) outs(%z : tensor<13xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %acc, %x : f32
    linalg.yield %y : f32
  } -> tensor<13xf32>
  %e2 = tensor.empty() : tensor<13x7xf32>
  %s = linalg.add ins(%a, %b : tensor<13x7xf32>, tensor<13x7xf32>) outs(%e2 : tensor<13x7xf32>) -> tensor<13x7xf32>
  return %r, %s : tensor<13xf32>, tensor<13x7xf32>
}

// One value returned twice, and an input returned as it is: (a+b, a+b, a).
func.func @dup_pass_6x5(%a: tensor<6x5xf32>, %b: tensor<6x5xf32>) -> (tensor<6x5xf32>, tensor<6x5xf32>, tensor<6x5xf32>) {
  %e = tensor.empty() : tensor<6x5xf32>
  %s = linalg.add ins(%a, %b : tensor<6x5xf32>, tensor<6x5xf32>) outs(%e : tensor<6x5xf32>) -> tensor<6x5xf32>
  return %s, %s, %a : tensor<6x5xf32>, tensor<6x5xf32>, tensor<6x5xf32>
}

// A full-size intermediate shared by two results: s = a+b is a 4 MiB
// temporary, more than a worker's stack holds, so it lives in the workspace.
// Results: (s*a, s-b).
func.func @shared_temp_1024x1024(%a: tensor<1024x1024xf32>, %b: tensor<1024x1024xf32>) -> (tensor<1024x1024xf32>, tensor<1024x1024xf32>) {
  %e = tensor.empty() : tensor<1024x1024xf32>
  %s = linalg.add ins(%a, %b : tensor<1024x1024xf32>, tensor<1024x1024xf32>) outs(%e : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %m = linalg.mul ins(%s, %a : tensor<1024x1024xf32>, tensor<1024x1024xf32>) outs(%e : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %d = linalg.sub ins(%s, %b : tensor<1024x1024xf32>, tensor<1024x1024xf32>) outs(%e : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  return %m, %d : tensor<1024x1024xf32>, tensor<1024x1024xf32>
}

// Two 12 KiB intermediates (s = a+b, t = a*b), each shared by both results
// (s*t, s-t): small enough for a worker's stack, more than an OpenCL
// kernel's __local budget together (the second goes to the workspace there).
func.func @two_temps_48x64(%a: tensor<48x64xf32>, %b: tensor<48x64xf32>) -> (tensor<48x64xf32>, tensor<48x64xf32>) {
  %e = tensor.empty() : tensor<48x64xf32>
  %s = linalg.add ins(%a, %b : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  %t = linalg.mul ins(%a, %b : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  %m = linalg.mul ins(%s, %t : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  %d = linalg.sub ins(%s, %t : tensor<48x64xf32>, tensor<48x64xf32>) outs(%e : tensor<48x64xf32>) -> tensor<48x64xf32>
  return %m, %d : tensor<48x64xf32>, tensor<48x64xf32>
}
