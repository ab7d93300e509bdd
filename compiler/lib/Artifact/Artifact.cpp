//===- Artifact.cpp - kernel metadata for module.peng ---------------------===//
#include "peng/Compiler/Artifact.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
namespace artifact = ::peng::artifact;

static std::optional<peng_dtype_t> dtypeOf(Type t) {
  if (t.isF32())
    return PENG_DTYPE_F32;
  if (t.isF16())
    return PENG_DTYPE_F16;
  if (t.isF64())
    return PENG_DTYPE_F64;
  if (t.isSignlessInteger(8))
    return PENG_DTYPE_I8;
  if (t.isSignlessInteger(16))
    return PENG_DTYPE_I16;
  if (t.isSignlessInteger(32))
    return PENG_DTYPE_I32;
  if (t.isSignlessInteger(64))
    return PENG_DTYPE_I64;
  return std::nullopt;
}

static FailureOr<artifact::ArgInfo> argInfo(func::FuncOp func, Type t, peng_access_t access) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  std::optional<peng_dtype_t> dtype = tensor ? dtypeOf(tensor.getElementType()) : std::nullopt;
  if (!dtype)
    return func.emitOpError("has an argument or result of unsupported type ") << t, failure();
  artifact::ArgInfo info;
  info.dtype = *dtype;
  info.access = access;
  info.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  return info;
}

FailureOr<std::vector<artifact::KernelInfo>> mlir::peng::collectKernels(ModuleOp module) {
  std::vector<artifact::KernelInfo> kernels;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isPrivate())
      continue;
    artifact::KernelInfo k;
    k.name = func.getSymName().str();
    if (k.name.size() >= PENG_MAX_NAME)
      return func.emitOpError("name is longer than ") << PENG_MAX_NAME - 1 << " characters",
             failure();
    for (Type t : func.getArgumentTypes()) {
      FailureOr<artifact::ArgInfo> a = argInfo(func, t, PENG_ACCESS_READ);
      if (failed(a))
        return failure();
      k.args.push_back(*a);
    }
    for (Type t : func.getResultTypes()) {
      FailureOr<artifact::ArgInfo> a = argInfo(func, t, PENG_ACCESS_WRITE);
      if (failed(a))
        return failure();
      k.args.push_back(*a);
    }
    if (auto flops = func->getAttrOfType<IntegerAttr>("peng.flops"))
      k.flops = double(flops.getInt());
    if (auto bytes = func->getAttrOfType<IntegerAttr>("peng.bytes"))
      k.bytes = double(bytes.getInt());
    kernels.push_back(std::move(k));
  }
  if (kernels.empty())
    return module.emitError("no kernels: the module has no public func.func"), failure();
  return kernels;
}

LogicalResult mlir::peng::collectGrids(ModuleOp module,
                                       std::vector<artifact::KernelInfo> &kernels) {
  for (artifact::KernelInfo &k : kernels) {
    auto func = module.lookupSymbol<func::FuncOp>(k.name);
    if (!func)
      return module.emitError("kernel '") << k.name << "' disappeared", failure();
    if (auto ws = func->getAttrOfType<IntegerAttr>("peng.workspace"))
      k.workspace = uint64_t(ws.getInt());
    auto grid = func->getAttrOfType<ArrayAttr>("peng.grid");
    if (!grid)
      return func.emitOpError("has no peng.grid (run peng-distribute-workgroups)");
    if (grid.empty())
      continue;
    SmallVector<int64_t> g;
    for (Attribute a : grid)
      g.push_back(cast<IntegerAttr>(a).getInt());
    if (g.size() != 3 || g[0] < 0 || size_t(g[0]) >= k.args.size())
      return func.emitOpError("has a malformed peng.grid");
    k.grid[0] = {uint32_t(g[0]), uint32_t(g[1]), uint32_t(g[2])};
  }
  return success();
}
