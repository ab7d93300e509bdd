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
    (peng.h, kernel ABI version 2), once per workgroup.

    Input: LLVM dialect, where each kernel (an `llvm.func` carrying
    `peng.kernel`) takes one `!llvm.ptr` per buffer argument, a workspace
    `!llvm.ptr` when it carries `peng.workspace = N` (peng-allocate-workspace),
    and a trailing `i64` workgroup id (func-to-llvm with bare pointers, after
    peng-forall-to-workgroup).
    Output: the kernel renamed to `<name>.impl` with internal linkage, and a
    new external `@<name>` that checks the ABI version, the binding count and
    that `dispatch->workspace_size` is at least N (returning 1 on a mismatch),
    loads the buffer pointers from `dispatch->bindings`, the workspace from
    `workgroup->workspace` and the id from `workgroup->workgroup_id[0]`,
    calls the body and returns 0.
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

def PengCpuMatmulMicrokernel : Pass<"peng-cpu-matmul-microkernel", "func::FuncOp"> {
  let summary = "Register-blocked outer-product micro-kernel for f32 matmul and batch_matmul on buffers";
  let description = [{
    Rewrites each f32 `linalg.matmul` (and `linalg.batch_matmul`, as a loop
    of matmuls over the batch) on memrefs whose rows are contiguous into a
    register-blocked loop nest: C is processed in tiles of `rows` rows
    by `vectors-per-row` vectors of `vector-width` f32 lanes (scalable lanes,
    `vector<[w]xf32>`, when `scalable` is set: one binary for every RVV
    VLEN). Per k step a tile loads one row of B per vector, broadcasts one
    element of A per row and accumulates with `vector.fma`, so that the
    accumulators stay in registers across the whole K loop (on RVV this is
    `vfmacc.vf`; the register budget is rows*vectors*LMUL + vectors*LMUL <= 32).
    Rows that do not fill a tile run through a one-row tile; columns that do
    not fill a vector use masked loads and stores. With `pack-kc`, K is
    blocked and each block of B's columns is first copied into a contiguous
    stack panel that all row tiles then read (cache and TLB friendly).

    With `auto-width` (scalable only), the lane count, and with it the LMUL,
    is chosen per matmul from N: [8] (LMUL 4) when N >= 16, [4] (LMUL 2) when
    N >= 8, else [2] (LMUL 1), and `rows` follows the register budget.

    Input: func.func with linalg.matmul on memrefs (after bufferization).
    Output: scf/vector/memref code for those matmuls; others are untouched.
  }];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "vector::VectorDialect"];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"6", "Rows of C per register tile">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector (times vscale when scalable)">,
    Option<"vectorsPerRow", "vectors-per-row", "int64_t", /*default=*/"1",
           "Vectors per row of the register tile">,
    Option<"scalable", "scalable", "bool", /*default=*/"false",
           "Scalable vectors (RVV, any VLEN)">,
    Option<"autoWidth", "auto-width", "bool", /*default=*/"false",
           "Choose the lane count (LMUL) and rows per matmul from N">,
    Option<"kUnroll", "k-unroll", "int64_t", /*default=*/"4",
           "K steps per iteration of the inner loop">,
    Option<"packKc", "pack-kc", "int64_t", /*default=*/"0",
           "Pack B into contiguous panels of this many rows of K (0: read B "
           "in place); pays where B's rows are far apart in memory">,
  ];
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

def PengCpuVectorizeElementwise : Pass<"peng-cpu-vectorize-elementwise", "func::FuncOp"> {
  let summary = "Vectorize elementwise linalg ops on buffers, masked, at a chosen vector width";
  let description = [{
    Each linalg op on memrefs whose loops are all parallel (elementwise maps,
    broadcasts, transposes of the inputs) and whose output's innermost
    dimension is contiguous is tiled by 1 on its outer loops and by one
    vector on its innermost loop, and vectorized with a mask for the last,
    partial vector (no scalar epilogue). With `scalable`, the vector is
    `vector<[w]xT>`: on RVV that is LMUL w*32/64 for f32 at every VLEN.
    The vector ops then become 1-D masked loads, stores and arithmetic.

    Input: func.func on memrefs (after bufferization). Output: the same with
    those ops replaced by scf.for loops of vector code; other ops untouched.
  }];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "vector::VectorDialect",
                           "affine::AffineDialect"];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Lanes per vector (times vscale when scalable)">,
    Option<"scalable", "scalable", "bool", /*default=*/"false",
           "Scalable vectors (RVV, any VLEN)">,
  ];
}

#endif // PENG_CPU_PASSES_TD
