//===- UntieEmptyTensors.cpp - one tensor.empty per use -------------------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGUNTIEEMPTYTENSORS
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

namespace {
struct PengUntieEmptyTensorsPass
    : mlir::peng::impl::PengUntieEmptyTensorsBase<PengUntieEmptyTensorsPass> {
  void runOnOperation() override {
    SmallVector<tensor::EmptyOp> empties;
    getOperation().walk([&](tensor::EmptyOp op) { empties.push_back(op); });
    OpBuilder b(&getContext());
    for (tensor::EmptyOp empty : empties) {
      // Every use but the first gets a fresh clone right before its user, so
      // the dynamic sizes (operands of the original) still dominate it.
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : empty->getUses())
        uses.push_back(&use);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        b.setInsertionPoint(use->getOwner());
        use->set(b.clone(*empty)->getResult(0));
      }
    }
  }
};
} // namespace
