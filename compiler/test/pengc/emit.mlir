// RUN: pengc %s --targets=host,rvv --emit=mlir | FileCheck %s --check-prefix=MLIR
// RUN: pengc %s --targets=rvv --emit=llvm | FileCheck %s --check-prefix=LLVM
// RUN: pengc %s --targets=rvv --emit=asm | FileCheck %s --check-prefix=ASM
// RUN: pengc %s --targets=host --emit=asm | FileCheck %s --check-prefix=HOST
// --emit shows each stage of each target.

// MLIR: pengc target host
// MLIR: func.func @scale(%{{.+}}: memref<100xf32>, %{{.+}}: memref<100xf32>, %{{.+}}: index)
// MLIR: pengc target rvv
// LLVM: target triple = "riscv64-unknown-linux-gnu"
// LLVM: define {{.*}}i32 @scale(ptr
// ASM: vsetvli
// ASM: csrr {{.*}}vlenb
// HOST: scale:
func.func @scale(%a: tensor<100xf32>) -> tensor<100xf32> {
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<100xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<100xf32>) outs(%e : tensor<100xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %two : f32
    linalg.yield %y : f32
  } -> tensor<100xf32>
  return %r : tensor<100xf32>
}
