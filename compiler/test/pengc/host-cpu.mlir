// RUN: pengc %s --targets=host --emit=mlir | FileCheck %s --check-prefix=DEFAULT
// RUN: pengc %s --targets=host --host-cpu=x86-64-v3 --emit=asm | FileCheck %s --check-prefix=V3
// RUN: pengc %s --targets=host --host-cpu=x86-64-v4 --emit=asm | FileCheck %s --check-prefix=V4
// RUN: pengc %s --targets=host --host-cpu=x86-64-v4,x86-64-v3 --emit=mlir | FileCheck %s --check-prefix=BOTH
// RUN: not pengc %s --host-cpu=no-such-cpu -o %t.peng 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not pengc %s --host-cpu=x86-64-v3,x86-64-v3 -o %t.peng 2>&1 | FileCheck %s --check-prefix=TWICE
// Host code is for named CPUs, x86-64-v4 (AVX-512) and x86-64-v3 (AVX2) unless
// told otherwise, never silently the machine pengc runs on; a list makes one
// variant per CPU.

// DEFAULT: pengc target host (x86-64-v4)
// DEFAULT: pengc target host (x86-64-v3)
// V3: pengc target host (x86-64-v3)
// V3-NOT: zmm
// V3: ymm
// V4: pengc target host (x86-64-v4)
// V4: zmm
// BOTH: pengc target host (x86-64-v4)
// BOTH: pengc target host (x86-64-v3)
// BAD-NOT: not a recognized processor
// BAD: pengc: --host-cpu: 'no-such-cpu' is not a CPU LLVM knows for x86_64-unknown-linux-gnu
// TWICE: pengc: two host variants for x86-64-v3
func.func @scale(%a: tensor<1000xf32>) -> tensor<1000xf32> {
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<1000xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<1000xf32>) outs(%e : tensor<1000xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %two : f32
    linalg.yield %y : f32
  } -> tensor<1000xf32>
  return %r : tensor<1000xf32>
}
