//===- EntryPoints.cpp - the CPU kernel ABI entry point --------------------===//
#include "peng/Cpu/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::peng::cpu {
#define GEN_PASS_DEF_PENGCPUENTRYPOINTS
#include "peng/Cpu/Passes.h.inc"
} // namespace mlir::peng::cpu

using namespace mlir;

// Byte offsets in peng_dispatch_state_t and peng_workgroup_state_t (peng.h,
// kernel ABI version 2, LP64).
static constexpr int64_t kAbiVersionOffset = 0;
static constexpr int64_t kBindingCountOffset = 16;
static constexpr int64_t kBindingsOffset = 24;
static constexpr int64_t kWorkspaceSizeOffset = 72;
static constexpr int64_t kWorkgroupWorkspaceOffset = 24;
static constexpr int32_t kKernelAbiVersion = 2;

static LogicalResult wrapKernel(ModuleOp module, LLVM::LLVMFuncOp impl) {
  MLIRContext *ctx = module.getContext();
  LLVM::LLVMFunctionType implType = impl.getFunctionType();
  unsigned numParams = implType.getNumParams();
  auto ptrTy = LLVM::LLVMPointerType::get(ctx);
  auto i8 = IntegerType::get(ctx, 8);
  auto i32 = IntegerType::get(ctx, 32);
  auto i64 = IntegerType::get(ctx, 64);
  if (numParams < 1 || implType.getParamType(numParams - 1) != i64 ||
      !isa<LLVM::LLVMVoidType>(implType.getReturnType()))
    return impl.emitOpError("is not a kernel body: expected buffer pointers, an i64 "
                            "workgroup id and no result");
  for (unsigned i = 0; i + 1 < numParams; ++i)
    if (implType.getParamType(i) != ptrTy)
      return impl.emitOpError("parameter ") << i << " is not a pointer (use bare-pointer "
                                            << "memrefs with static shapes)";
  // With a workspace (peng-allocate-workspace), its pointer precedes the id.
  int64_t workspaceBytes = 0;
  if (auto ws = impl->getAttrOfType<IntegerAttr>("peng.workspace")) {
    workspaceBytes = ws.getInt();
    if (numParams < 2 || workspaceBytes <= 0)
      return impl.emitOpError("has a malformed peng.workspace");
  }
  unsigned numBindings = numParams - 1 - (workspaceBytes ? 1 : 0);

  std::string name = impl.getSymName().str();
  // Kernels are never called from inside the module, so renaming the
  // definition is enough.
  impl.setSymName(name + ".impl");
  impl.setLinkage(LLVM::Linkage::Internal);
  impl->removeAttr("peng.kernel");
  impl->removeAttr("peng.workspace");

  OpBuilder b(ctx);
  b.setInsertionPoint(impl);
  Location loc = impl.getLoc();
  auto wrapper = b.create<LLVM::LLVMFuncOp>(
      loc, name, LLVM::LLVMFunctionType::get(i32, {ptrTy, ptrTy}));
  Block *entry = wrapper.addEntryBlock(b);
  Block *call = &wrapper.getBody().emplaceBlock();
  Block *reject = &wrapper.getBody().emplaceBlock();
  Value dispatch = entry->getArgument(0), workgroup = entry->getArgument(1);

  auto loadAt = [&](Type type, Value base, int64_t offset) -> Value {
    Value addr = b.create<LLVM::GEPOp>(loc, ptrTy, i8, base, ArrayRef<LLVM::GEPArg>{offset});
    return b.create<LLVM::LoadOp>(loc, type, addr);
  };
  auto constant = [&](Type type, int64_t v) -> Value {
    return b.create<LLVM::ConstantOp>(loc, type, b.getIntegerAttr(type, v));
  };

  // A dispatch state of another ABI version, or with the wrong number of
  // buffers, fails the task instead of reading past the bindings.
  b.setInsertionPointToStart(entry);
  Value version = loadAt(i32, dispatch, kAbiVersionOffset);
  Value count = loadAt(i32, dispatch, kBindingCountOffset);
  Value versionOk = b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::eq, version,
                                           constant(i32, kKernelAbiVersion));
  Value countOk = b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::eq, count,
                                         constant(i32, numBindings));
  Value ok = b.create<LLVM::AndOp>(loc, versionOk, countOk);
  if (workspaceBytes) {
    // A runtime that provides less workspace than the kernel uses fails the
    // task rather than letting it write past the end.
    Value size = loadAt(i64, dispatch, kWorkspaceSizeOffset);
    Value sizeOk = b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::uge, size,
                                          constant(i64, workspaceBytes));
    ok = b.create<LLVM::AndOp>(loc, ok, sizeOk);
  }
  b.create<LLVM::CondBrOp>(loc, ok, call, reject);

  b.setInsertionPointToStart(reject);
  b.create<LLVM::ReturnOp>(loc, constant(i32, 1));

  b.setInsertionPointToStart(call);
  Value bindings = loadAt(ptrTy, dispatch, kBindingsOffset);
  SmallVector<Value> args;
  for (unsigned i = 0; i < numBindings; ++i)
    args.push_back(loadAt(ptrTy, bindings, int64_t(i) * 8));
  if (workspaceBytes)
    args.push_back(loadAt(ptrTy, workgroup, kWorkgroupWorkspaceOffset));
  Value id = loadAt(i32, workgroup, 0);
  args.push_back(b.create<LLVM::ZExtOp>(loc, i64, id));
  b.create<LLVM::CallOp>(loc, impl, args);
  b.create<LLVM::ReturnOp>(loc, constant(i32, 0));
  return success();
}

namespace {
struct PengCpuEntryPointsPass
    : mlir::peng::cpu::impl::PengCpuEntryPointsBase<PengCpuEntryPointsPass> {
  void runOnOperation() override {
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto f : getOperation().getOps<LLVM::LLVMFuncOp>())
      if (f->hasAttr("peng.kernel"))
        kernels.push_back(f);
    for (LLVM::LLVMFuncOp f : kernels)
      if (failed(wrapKernel(getOperation(), f)))
        return signalPassFailure();
  }
};
} // namespace
