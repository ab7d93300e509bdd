//===- CopiesToLinalg.cpp - memref.copy becomes a structured copy ---------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGCOPIESTOLINALG
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

namespace {
struct PengCopiesToLinalgPass
    : mlir::peng::impl::PengCopiesToLinalgBase<PengCopiesToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) { copies.push_back(op); });
    OpBuilder b(&getContext());
    for (memref::CopyOp copy : copies) {
      b.setInsertionPoint(copy);
      b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
