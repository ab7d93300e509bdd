//===- Artifact.cpp - kernel metadata for module.peng ---------------------===//
#include "peng/Compiler/Artifact.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
namespace artifact = ::peng::artifact;

static std::optional<peng_dtype_t> dtypeOf(Type t) {
  if (t.isF32())
    return PENG_DTYPE_F32;
  if (t.isF16())
    return PENG_DTYPE_F16;
  if (t.isBF16())
    return PENG_DTYPE_BF16;
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

/// {output, input} argument pairs that may share a buffer. Only the plainest
/// case qualifies: the kernel is one all-parallel linalg op returned as the
/// only result, and the input is a kernel argument read through the same
/// identity map as the output, so element i of the input is read only to
/// compute element i of the output (relu in place). Anything else (a
/// reduction, a broadcast, a transpose, several ops with temporaries) may
/// read an input element after its output element was written.
static std::vector<std::pair<uint32_t, uint32_t>> inPlacePairs(func::FuncOp func) {
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  if (func.getNumResults() != 1 || func.getBody().getBlocks().size() != 1)
    return pairs;
  auto ret = dyn_cast<func::ReturnOp>(func.getBody().front().getTerminator());
  auto op = ret ? ret.getOperand(0).getDefiningOp<linalg::LinalgOp>() : nullptr;
  if (!op || op.getNumDpsInits() != 1 || op.getNumParallelLoops() != op.getNumLoops() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return pairs;
  for (Operation &other : func.getBody().front()) {
    if (&other != op.getOperation() && &other != ret.getOperation() &&
        !isa<tensor::EmptyOp, arith::ConstantOp>(other))
      return pairs;
  }
  // The init must not be read: an empty tensor, not an input.
  if (!op.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>() ||
      op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)))
    return pairs;
  Type resultType = func.getResultTypes()[0];
  uint32_t output = func.getNumArguments();
  for (OpOperand *in : op.getDpsInputOperands()) {
    auto arg = dyn_cast<BlockArgument>(in->get());
    if (!arg || arg.getType() != resultType || !op.getMatchingIndexingMap(in).isIdentity())
      continue;
    std::pair<uint32_t, uint32_t> pair{output, arg.getArgNumber()};
    if (!llvm::is_contained(pairs, pair))
      pairs.push_back(pair);
  }
  return pairs;
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
    k.in_place = inPlacePairs(func);
    if (Attribute dataPlane = func->getAttr("peng.data_plane")) {
      if (!isa<UnitAttr>(dataPlane))
        return func.emitOpError("has a peng.data_plane attribute with a value; it is a unit "
                                "attribute: attributes {peng.data_plane}"),
               failure();
      k.data_plane = true;
    }
    kernels.push_back(std::move(k));
  }
  if (kernels.empty())
    return module.emitError("no kernels: the module has no public func.func"), failure();
  return kernels;
}

FailureOr<std::vector<artifact::LaunchInfo>>
mlir::peng::collectLaunches(ModuleOp module, const std::vector<artifact::KernelInfo> &kernels) {
  std::vector<artifact::LaunchInfo> launches;
  for (const artifact::KernelInfo &k : kernels) {
    artifact::LaunchInfo &launch = launches.emplace_back();
    auto func = module.lookupSymbol<func::FuncOp>(k.name);
    if (!func)
      return module.emitError("kernel '") << k.name << "' disappeared", failure();
    if (auto ws = func->getAttrOfType<IntegerAttr>("peng.workspace"))
      launch.workspace = uint64_t(ws.getInt());
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
    launch.grid[0] = {uint32_t(g[0]), uint32_t(g[1]), uint32_t(g[2])};
  }
  return launches;
}
