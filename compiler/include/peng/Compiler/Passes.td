//===- Passes.td - Peng compiler passes --------------------*- tablegen -*-===//
//
// Keep the passes in alphabetical order.
//
//===----------------------------------------------------------------------===//

#ifndef PENG_COMPILER_PASSES_TD
#define PENG_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

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

def PengDecomposeAggregates : Pass<"peng-decompose-aggregates", "func::FuncOp"> {
  let summary = "Decompose aggregate linalg ops (softmax) into linalg.generic ops";
  let description = [{
    linalg.softmax and other ops implementing AggregatedOpInterface are not
    structured ops that tiling, fusion and loop lowering handle. This pass
    replaces each by its decomposition (reductions and elementwise generics)
    so the rest of the pipeline sees only structured ops.

    Input: func.func on tensors. Output: no AggregatedOpInterface op left.
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

#endif // PENG_COMPILER_PASSES_TD
