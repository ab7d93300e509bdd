//===- LowerMath.cpp - transcendentals without libm -----------------------===//
#include "peng/Cpu/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::peng::cpu {
#define GEN_PASS_DEF_PENGCPULOWERMATH
#include "peng/Cpu/Passes.h.inc"
} // namespace mlir::peng::cpu

using namespace mlir;

/// Math ops that LLVM turns into instructions on both host and rvv, never
/// into a call.
static bool lowersToInstructions(Operation *op) {
  return isa<math::SqrtOp, math::AbsFOp, math::AbsIOp, math::FmaOp, math::CopySignOp,
             math::CountLeadingZerosOp, math::CountTrailingZerosOp, math::CtPopOp>(op);
}

namespace {
struct PengCpuLowerMathPass : mlir::peng::cpu::impl::PengCpuLowerMathBase<PengCpuLowerMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Expansions first (tanh, pow, rsqrt, rounding to plain arith and exp/log),
    // then polynomial approximations of what remains.
    populateExpandTanhPattern(patterns);
    populateExpandSinhPattern(patterns);
    populateExpandCoshPattern(patterns);
    populateExpandPowFPattern(patterns);
    populateExpandFPowIPattern(patterns);
    populateExpandExp2FPattern(patterns);
    populateExpandRsqrtPattern(patterns);
    populateExpandFloorFPattern(patterns);
    populateExpandCeilFPattern(patterns);
    populateExpandRoundFPattern(patterns);
    populateExpandRoundEvenPattern(patterns);
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult result = getOperation().walk([](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "math" &&
          !lowersToInstructions(op)) {
        op->emitOpError("has no libm-free lowering for type ")
            << op->getResultTypes() << " (pengc kernels cannot call libm)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
