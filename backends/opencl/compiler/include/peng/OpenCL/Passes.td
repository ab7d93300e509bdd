//===- Passes.td - passes of the opencl target -------------*- tablegen -*-===//
//
// Keep the passes in alphabetical order.
//
//===----------------------------------------------------------------------===//

#ifndef PENG_OPENCL_PASSES_TD
#define PENG_OPENCL_PASSES_TD

include "mlir/Pass/PassBase.td"

def PengOpenCLCheckSupported : Pass<"peng-opencl-check-supported", "func::FuncOp"> {
  let summary = "Reject kernels the opencl target cannot compile yet, naming the op";
  let description = [{
    The opencl target maps all-parallel work (elementwise ops, broadcasts,
    copies) and reductions whose outputs are indexed by their parallel loops
    (peng-opencl-lower-reductions) to work-items. This pass stops anything
    else with a located error that says "not supported on target opencl":
    other linalg reductions, temporaries of dynamic shape or of more than
    16 KiB in all in `__local` memory (the pipeline moves larger ones to
    the workspace first: `memref.view`s of it pass), and ops outside the
    linalg/memref views/arith/math/scf/affine set that the OpenCL C printer
    knows.

    Input: a kernel after pengc's kernel pipeline (`peng.kernel`, buffers,
    the trailing workgroup id). Output: unchanged, or a failure.
  }];
}

def PengOpenCLLowerReductions : Pass<"peng-opencl-lower-reductions", "func::FuncOp"> {
  let summary = "Lower linalg reductions to one work-item per output element";
  let description = [{
    Each linalg op with reduction loops (sums, matmul, a reduction of any
    iterator order) becomes an `scf.parallel` over its parallel loops around
    an `scf.for` nest over its reduction loops, whose `iter_args` carry the
    accumulators: the work-item that owns an output element reduces it in
    sequence, reading the output once (or taking the value of the
    `linalg.fill` just before, which is then erased) and storing it once.
    So a fill and its reduction form one loop, and
    peng-opencl-map-work-items maps it like any other. A loop of one
    output and one reduction loop is marked `peng.opencl.reduction`: a
    whole-group kernel may share it among the work-group.

    Refused with a located error: reductions on tensors, with dynamic loop
    ranges, or whose outputs are not indexed by exactly their parallel loops.

    Input: a kernel (`peng.kernel`) on buffers, after
    peng-opencl-check-supported. Output: no linalg op with reduction loops.
  }];
  let dependentDialects = ["affine::AffineDialect", "arith::ArithDialect",
                           "memref::MemRefDialect", "scf::SCFDialect"];
}

def PengOpenCLMatchContractions : Pass<"peng-opencl-match-contractions", "func::FuncOp"> {
  let summary = "Hand a kernel that is one matmul to the tiled matmul kernel";
  let description = [{
    A kernel whose only work is one contraction (linalg.matmul,
    linalg.batch_matmul, or a linalg.generic of that shape: loops batch?,
    m, n, k; A indexed by m and k, B by k and n, C by m and n and the batch
    loop, in any order; body `acc + cast(a) * cast(b)` in C's type, casts
    extf/extsi/extui/sitofp/uitofp), on (pengc's rank-preserving views of)
    its arguments, with an optional linalg.fill of C by a constant before
    it, is not lowered loop by loop: the printer writes the tiled matmul
    kernel for it (lib/Gemm.cpp), whose tile shapes the program build picks
    from the device's limits.

    The function gets `peng.opencl.gemm` (the arguments, where each loop
    sits in each operand, the casts, the fill value or none for C +=),
    `peng.opencl.grid` (a group per 64x64 block of C, one per batch),
    `peng.opencl.workgroup_size` = [0, 0, 0] (the kernel declares its own),
    and its body is emptied. Anything else is left unchanged.
  }];
  let dependentDialects = ["linalg::LinalgDialect"];
}

def PengOpenCLMapWorkItems : Pass<"peng-opencl-map-work-items", "func::FuncOp"> {
  let summary = "Put a kernel's parallel loops on OpenCL work-items inside one gpu.launch";
  let description = [{
    The runtime fixes an OpenCL kernel's global size from the entry's grid
    rule, so the loops do not choose it: each parallel loop becomes
    grid-stride loops, correct for any grid. The loop's innermost (contiguous)
    dimension goes on x, the one before on y, others run in sequence in each
    work-item; a loop of one dimension runs on the y = 0 work-items only.
    The kernel's workgroup id (pengc's workgroup split) is the group id in z.

    The grid rule and work-group size that fit the loops are recorded on the
    kernel: `peng.opencl.grid` (up to three `[arg, dim, tile]` triples for x,
    y, z) and `peng.opencl.workgroup_size`. The launch's own sizes are those
    the rule gives for the kernel's static shapes.

    Work-items of different groups cannot wait for one another. So when a
    loop reads or writes a buffer that an earlier one wrote (or writes one it
    read), or the kernel has temporaries (`memref.alloca`, printed as
    `__local` arrays), the kernel runs whole-group: pengc's workgroups are
    self-contained, and one work-group runs each (x and y have one group;
    only the first runs, should the runtime add groups when it shrinks
    them); each loop strides over the local ids, and a `gpu.barrier`
    follows each loop. There, a reduction loop of
    peng-opencl-lower-reductions (`peng.opencl.reduction`) with a known
    combiner (addf, maxnumf/maximumf, minnumf/minimumf, addi) becomes a
    work-group reduction: strided shares per work-item, a tree over a
    `__local` array, work-item 0 folds in the initial value and stores.

    Input: a kernel (`peng.kernel`) whose linalg ops became `scf.parallel`
    loops (convert-linalg-to-parallel-loops), with subviews folded into the
    loads and stores and no temporaries. Output: the whole body inside a
    `gpu.launch`, ready for gpu-kernel-outlining.
  }];
  let dependentDialects = ["arith::ArithDialect", "gpu::GPUDialect", "scf::SCFDialect"];
  let options = [
    Option<"maxWorkgroupSize", "max-workgroup-size", "int64_t", "64",
           "work-items along x in a work-group, at most">,
  ];
}

#endif // PENG_OPENCL_PASSES_TD
