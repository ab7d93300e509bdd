//===- Passes.td - Peng compiler passes --------------------*- tablegen -*-===//
//
// Keep the passes in alphabetical order.
//
//===----------------------------------------------------------------------===//

#ifndef PENG_COMPILER_PASSES_TD
#define PENG_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def PengAllocateWorkspace : Pass<"peng-allocate-workspace", "func::FuncOp"> {
  let summary = "Move temporaries too large for a worker's stack into the workspace";
  let description = [{
    Bufferization puts a kernel's temporaries on the stack (kernel images
    import no allocator). A worker thread's stack is small, so a temporary
    above `max-stack-temporary` bytes, one that would take the kernel's
    stack use above `max-stack-total`, or one inside a loop (which would take
    new stack on every iteration) becomes a slice of the per-workgroup
    workspace that the runtime passes through the workgroup state instead.
    A dynamically sized (tile-sized) temporary counts at its constant upper
    bound; one without a bound is an error.

    Input: a bufferized kernel (`peng.kernel`) whose last argument is the
    workgroup id (after peng-forall-to-workgroup).
    Output: each moved `memref.alloca` is a `memref.view` at a 64-byte aligned
    offset of a new `memref<Nxi8>` argument inserted before the workgroup id,
    and the function carries `peng.workspace = N` (bytes). A kernel whose
    temporaries all fit is left unchanged, with no workspace argument. A
    kernel that has a workspace already (`peng.workspace`; a target running
    the pass again with its own, smaller budget) keeps its argument, grown
    by the new slices.
  }];
  let dependentDialects = ["memref::MemRefDialect", "arith::ArithDialect"];
  let options = [
    Option<"maxStackTemporary", "max-stack-temporary", "int64_t", /*default=*/"16384",
           "Largest single temporary (bytes) left on the stack">,
    Option<"maxStackTotal", "max-stack-total", "int64_t", /*default=*/"65536",
           "Bytes of temporaries a kernel may keep on the stack in all">,
  ];
}

def PengAnnotateCost : Pass<"peng-annotate-cost", "func::FuncOp"> {
  let summary = "Attach a kernel's static FLOP and byte counts for the runtime's cost models";
  let description = [{
    module.peng records, per kernel, the FLOP and byte counts that the
    runtime's cost-model scheduler starts from before it has measurements.

    Input: a func.func whose linalg ops have static shapes.
    Output: the same func with `peng.flops` and `peng.bytes` (i64) attributes:
    2 FLOPs per multiply-accumulate of a contraction (matmul, batch_matmul),
    one per iteration of any other linalg op; bytes are the sizes of the
    function's tensor arguments and results. A linalg op with dynamic loop
    ranges is an error unless `allow-dynamic` is set, in which case it is
    left out of the count.
  }];
  let dependentDialects = ["linalg::LinalgDialect"];
  let options = [
    Option<"allowDynamic", "allow-dynamic", "bool", /*default=*/"false",
           "Skip linalg ops with dynamic loop ranges instead of failing">,
  ];
}

def PengCheckSupported : Pass<"peng-check-supported", "ModuleOp"> {
  let summary = "Reject kernels pengc cannot compile, naming the op or type";
  let description = [{
    Runs first, so a user hears about an unsupported op from the frontend with
    its source location rather than from a lowering pass deep in a pipeline.

    Input: a module of func.func kernels (after TOSA has become linalg).
    Checks: every op belongs to func, linalg, tensor, arith, math, affine,
    bufferization (to_tensor only) or is tosa-free; every kernel argument and
    result is a statically shaped ranked tensor of f32, f16, f64, i8, i16,
    i32 or i64. Output: the module unchanged, or failure with one error per
    offending op.
  }];
}

def PengCopiesToLinalg : Pass<"peng-copies-to-linalg", "func::FuncOp"> {
  let summary = "Rewrite memref.copy as linalg.copy";
  let description = [{
    Bufferization copies between buffers with `memref.copy` (tensor.pad's
    interior, a result that is also an input, a temporary into an output).
    LLVM lowering turns a copy of strided views into a call to the
    `memrefCopy` runtime function, which a self-contained kernel image does
    not have. As `linalg.copy` the copy becomes loops (vectorized on CPU
    targets) like any other elementwise op.

    Input: a bufferized function. Output: no `memref.copy` left; a
    `linalg.copy` with the same source and target in place of each.
  }];
  let dependentDialects = ["linalg::LinalgDialect"];
}

def PengDecomposeAggregates : Pass<"peng-decompose-aggregates", "func::FuncOp"> {
  let summary = "Decompose aggregate ops (softmax, tensor.pack/unpack) into structured ops";
  let description = [{
    linalg.softmax and other ops implementing AggregatedOpInterface are not
    structured ops that tiling, fusion and loop lowering handle. This pass
    replaces each by its decomposition (reductions and elementwise generics)
    so the rest of the pipeline sees only structured ops. tensor.pack and
    tensor.unpack (blocked layouts) likewise become tensor.pad,
    tensor.expand_shape and linalg.transpose, and linalg.transpose,
    tensor.collapse_shape and tensor.extract_slice (linalg::lowerPack,
    linalg::lowerUnPack).

    Input: func.func on tensors. Output: no AggregatedOpInterface op, no
    tensor.pack or tensor.unpack left.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "arith::ArithDialect",
                           "math::MathDialect", "tensor::TensorDialect"];
}

def PengDistributeWorkgroups : Pass<"peng-distribute-workgroups", "func::FuncOp"> {
  let summary = "Split a kernel's work into workgroups along the output's first dimension";
  let description = [{
    The CPU runtime runs a kernel as a grid of workgroups spread over its
    threads. This pass tiles the op that writes the kernel's output
    (`bufferization.materialize_in_destination` source) along its outermost
    parallel loop into an `scf.forall`, fusing its producers into the tile, and
    records the grid rule as `peng.grid = [output_arg, dim, tile]` on the
    function.

    Input: a func.func after peng-prepare-kernel-abi, on tensors.
    Output: the same with one top-level `scf.forall` (the workgroup loop), or
    unchanged with `peng.grid = []` (one workgroup) when the output has rank 0,
    there are several outputs, or the root cannot be tiled.
  }];
  let dependentDialects = ["scf::SCFDialect", "tensor::TensorDialect", "affine::AffineDialect"];
  let options = [
    Option<"maxWorkgroups", "max-workgroups", "int64_t", /*default=*/"32",
           "Upper bound on workgroups along the split dimension">,
    Option<"minContractionTile", "min-contraction-tile", "int64_t", /*default=*/"1",
           "Smallest workgroup tile when the root has reduction loops (a "
           "matmul): each workgroup then amortises its packing and set-up">,
    Option<"tileMultiple", "tile-multiple", "int64_t", /*default=*/"1",
           "Round the workgroup tile up to a multiple of this (a target's "
           "register-tile rows), so that few rows fall into remainder code">,
  ];
}

def PengExpandHalfFloats : Pass<"peng-expand-half-floats", "func::FuncOp"> {
  let summary = "f16/bf16 conversions as integer code; f16/bf16 data held as i16 bits";
  let description = [{
    arith.truncf from f32 to f16 or bf16 and arith.extf back become integer
    code on the bit patterns, with IEEE 754 semantics: round to nearest, ties
    to even; subnormals, infinities and overflow as the standard says; a NaN
    stays a quiet NaN with its sign and the top bits of its payload. A kernel
    that then only stores and moves f16/bf16 values (copies, transposes,
    gathers, selects, constants, bitcasts) holds them as i16 throughout, its
    signature included, so it needs no half-precision hardware (Zvfh,
    cl_khr_fp16) and no libcalls. module.peng still records the f16/bf16
    dtypes: the driver collects the signature before this pass.

    f16 arithmetic is left as it is, for targets that have it (the host);
    bf16 arithmetic is an error naming the op.

    Input: func.func on tensors, after the frontend pipeline. Output: no
    f32<->f16/bf16 extf/truncf; no f16/bf16 type unless the kernel computes
    in f16.
  }];
  let dependentDialects = ["arith::ArithDialect"];
}

def PengForallToWorkgroup : Pass<"peng-forall-to-workgroup", "func::FuncOp"> {
  let summary = "Turn the workgroup loop into the kernel's workgroup id argument";
  let description = [{
    Input: a bufferized func.func with memref arguments and at most one
    top-level `scf.forall` (from peng-distribute-workgroups).
    Output: the function gains a trailing `index` argument, the workgroup id;
    the forall's body is inlined with its induction variable set to
    `lb + id * step`, guarded by `id < trip count`. Every kernel gets the
    argument, so all share one calling convention.
  }];
  let dependentDialects = ["scf::SCFDialect", "arith::ArithDialect"];
}

def PengPrepareKernelAbi : Pass<"peng-prepare-kernel-abi", "ModuleOp"> {
  let summary = "Give each kernel buffer arguments: inputs, then one per result";
  let description = [{
    The kernel ABI passes every tensor, input or output, as a buffer. This pass
    rewrites each public func.func from tensors to memrefs before
    bufferization: an input argument becomes a memref read through
    `bufferization.to_tensor restrict`, and each result becomes a trailing
    memref argument written by `bufferization.materialize_in_destination`
    (restrict, writable). The function then returns nothing.

    Input: public func.func ops with static ranked tensor arguments and
    results. Output: the same computation with memref arguments, and
    `peng.kernel` (unit) on each rewritten function.
  }];
  let dependentDialects = ["bufferization::BufferizationDialect", "memref::MemRefDialect"];
}

def PengUntieEmptyTensors : Pass<"peng-untie-empty-tensors", "func::FuncOp"> {
  let summary = "Give every use of a tensor.empty its own tensor.empty";
  let description = [{
    CSE merges identical `tensor.empty` ops, so two unrelated results (say a
    sum and a product of the same shape) can start from one empty tensor.
    Empty-tensor elimination then replaces that one op with the first
    result's output buffer, and the second result is computed into the first
    one's buffer. Run just before elimination, this pass clones the op for
    each use after the first, so each result can get its own destination.

    Input: any function on tensors. Output: every `tensor.empty` has at most
    one use.
  }];
  let dependentDialects = ["tensor::TensorDialect"];
}

#endif // PENG_COMPILER_PASSES_TD
