//===- PrepareKernelAbi.cpp - tensors at the boundary become buffers ------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGPREPAREKERNELABI
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

/// Rewrites one kernel from tensors to memrefs; see Passes.td.
static LogicalResult prepareKernel(func::FuncOp func) {
  if (func.isExternal())
    return func.emitOpError("is a declaration; a kernel needs a body");
  FunctionType type = func.getFunctionType();
  auto toMemRef = [&](Type t, StringRef what) -> FailureOr<MemRefType> {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitOpError() << what << " type " << t
                                << " is not a statically shaped tensor",
             failure();
    return MemRefType::get(tensor.getShape(), tensor.getElementType());
  };

  Block &entry = func.getBody().front();
  OpBuilder builder(func.getContext());
  builder.setInsertionPointToStart(&entry);
  SmallVector<Type> newInputs;
  for (auto [i, t] : llvm::enumerate(type.getInputs())) {
    FailureOr<MemRefType> memref = toMemRef(t, "argument");
    if (failed(memref))
      return failure();
    newInputs.push_back(*memref);
    BlockArgument arg = entry.getArgument(i);
    arg.setType(*memref);
    auto toTensor = builder.create<bufferization::ToTensorOp>(
        func.getLoc(), t, arg, /*restrict=*/true, /*writable=*/false);
    arg.replaceAllUsesExcept(toTensor.getResult(), toTensor);
  }
  SmallVector<BlockArgument> outs;
  for (Type t : type.getResults()) {
    FailureOr<MemRefType> memref = toMemRef(t, "result");
    if (failed(memref))
      return failure();
    newInputs.push_back(*memref);
    outs.push_back(entry.addArgument(*memref, func.getLoc()));
  }

  // Every return now writes its values into the output buffers.
  func.walk([&](func::ReturnOp ret) {
    builder.setInsertionPoint(ret);
    for (auto [value, out] : llvm::zip(ret.getOperands(), outs)) {
      auto m = builder.create<bufferization::MaterializeInDestinationOp>(
          ret.getLoc(), TypeRange(), value, out);
      m.setRestrict(true);
      m.setWritable(true);
    }
    ret->setOperands({});
  });
  func.setType(FunctionType::get(func.getContext(), newInputs, {}));
  func->setAttr("peng.kernel", UnitAttr::get(func.getContext()));
  return success();
}

namespace {
struct PengPrepareKernelAbiPass
    : mlir::peng::impl::PengPrepareKernelAbiBase<PengPrepareKernelAbiPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func->hasAttr("peng.kernel"))
        continue;
      if (failed(prepareKernel(func)))
        return signalPassFailure();
    }
  }
};
} // namespace
