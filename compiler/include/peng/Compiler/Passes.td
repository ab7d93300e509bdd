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

#endif // PENG_COMPILER_PASSES_TD
