//===- Passes.td - passes of the CPU targets (host, rvv) --*- tablegen -*-===//
//
// Keep the passes in alphabetical order.
//
//===----------------------------------------------------------------------===//

#ifndef PENG_CPU_PASSES_TD
#define PENG_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def PengCpuEntryPoints : Pass<"peng-cpu-entry-points", "ModuleOp"> {
  let summary = "Wrap each kernel in the CPU kernel ABI entry point";
  let description = [{
    The runtime calls a CPU kernel as
    `int name(const peng_dispatch_state_t*, const peng_workgroup_state_t*)`
    (peng.h, kernel ABI version 1), once per workgroup.

    Input: LLVM dialect, where each kernel (an `llvm.func` carrying
    `peng.kernel`) takes one `!llvm.ptr` per buffer argument and a trailing
    `i64` workgroup id (func-to-llvm with bare pointers, after
    peng-forall-to-workgroup).
    Output: the kernel renamed to `<name>.impl` with internal linkage, and a
    new external `@<name>` that checks the ABI version and binding count
    (returning 1 on a mismatch), loads the buffer pointers from
    `dispatch->bindings` and the id from `workgroup->workgroup_id[0]`, calls
    the body and returns 0.
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

def PengCpuLowerMath : Pass<"peng-cpu-lower-math", "func::FuncOp"> {
  let summary = "Replace transcendental math ops by polynomial approximations";
  let description = [{
    Kernel code is a self-contained ELF that imports nothing, so it cannot
    call libm. exp, expm1, log, log1p, log2, tanh, erf, sin, cos, atan,
    atan2 and rsqrt become MLIR's polynomial approximations (plain arith,
    which vectorizes), as DESIGN.md §3 asks.

    Input: func.func on any level above LLVM. Output: the same with no
    remaining math op that lowers to a library call, or failure naming the
    first that would.
  }];
  let dependentDialects = ["arith::ArithDialect", "math::MathDialect",
                           "vector::VectorDialect"];
}

#endif // PENG_CPU_PASSES_TD
