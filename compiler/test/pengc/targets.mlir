// RUN: pengc-test %s --targets=dummy --dummy-flavor=plain,fancy --emit=text | FileCheck %s --check-prefix=EMIT
// RUN: pengc-test %s --targets=host,dummy -o %t.peng && peng-info --module=%t.peng | FileCheck %s --check-prefix=MODULE
// RUN: not pengc %s --targets=dummy -o %t2.peng 2>&1 | FileCheck %s --check-prefix=ABSENT
// RUN: not pengc-test %s --targets=dummy --dummy-flavor=odd -o %t3.peng 2>&1 | FileCheck %s --check-prefix=BADOPT
// RUN: not pengc-test %s --targets=host,dummy --emit=asm 2>&1 | FileCheck %s --check-prefix=STAGE
// RUN: not pengc %s --targets=host,host -o %t4.peng 2>&1 | FileCheck %s --check-prefix=TWICE
// Targets come from the registry: the dummy target (compiler/test/dummy-target,
// its folder plus one peng_add_compiler_target line) is in pengc-test, not in
// pengc, and brings its option, its --emit stage and its own workgroup split.

// EMIT: // ---- pengc target dummy (plain) ----
// EMIT: // dummy text plain
// EMIT: func.func @add
// EMIT: // ---- pengc target dummy (fancy) ----
// MODULE: kernel add (in f32[10], in f32[10], out f32[10])
// MODULE: executable host elf x86-64-v3 arch=x86_64 features=sse4.2,popcnt,avx,avx2,fma,bmi,bmi2 (
// MODULE-NEXT: entry add: symbol add, grid 2:0/6, workgroup 1x1x1, workspace 0
// MODULE: executable dummy text plain (
// MODULE-NEXT: entry add: symbol add, grid 2:0/4, workgroup 1x1x1, workspace 0
// ABSENT: pengc: unknown target 'dummy' (targets: host, rvv, opencl)
// BADOPT: pengc: --dummy-flavor: 'odd' is not plain or fancy
// STAGE: pengc: --emit=asm: target dummy prints text
// TWICE: pengc: target 'host' is named twice
func.func @add(%a: tensor<10xf32>, %b: tensor<10xf32>) -> tensor<10xf32> {
  %e = tensor.empty() : tensor<10xf32>
  %r = linalg.add ins(%a, %b : tensor<10xf32>, tensor<10xf32>) outs(%e : tensor<10xf32>) -> tensor<10xf32>
  return %r : tensor<10xf32>
}
