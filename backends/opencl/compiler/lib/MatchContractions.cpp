//===- MatchContractions.cpp - matmul-shaped kernels to the tiled kernel --===//
//
// A kernel that is one contraction (matmul, batch_matmul, or a linalg.generic
// of that shape with any operand layout), with an optional fill of its
// output, is not lowered loop by loop: the printer writes it as the tiled
// matmul kernel (Gemm.cpp), whose tile shapes the program build picks from
// the device's limits. This pass records what that kernel needs on the
// function (`peng.opencl.gemm`, the launch shape) and empties the body.
//
//===----------------------------------------------------------------------===//
#include "Gemm.h"
#include "peng/OpenCL/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"

namespace mlir::peng::opencl {
#define GEN_PASS_DEF_PENGOPENCLMATCHCONTRACTIONS
#include "peng/OpenCL/Passes.h.inc"
} // namespace mlir::peng::opencl

using namespace mlir;

namespace {

/// The function argument `v` views whole-rank (pengc's workgroup tiles are
/// rank-preserving, unit-stride subviews of the arguments), or null.
BlockArgument rootArgument(Value v, func::FuncOp func) {
  while (auto view = v.getDefiningOp<memref::SubViewOp>()) {
    if (view.getSourceType().getRank() != view.getType().getRank() ||
        !llvm::all_of(view.getStaticStrides(), [](int64_t s) { return s == 1; }))
      return nullptr;
    v = view.getSource();
  }
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != &func.getBody().front())
    return nullptr;
  auto type = dyn_cast<MemRefType>(arg.getType());
  if (!type || !type.getLayout().isIdentity())
    return nullptr;
  return arg;
}

/// The cast applied to a block argument on its way to the multiply ("" for
/// none), with `value` set to the argument; or failure.
FailureOr<std::string> castOf(Value v, Value *value) {
  Operation *def = v.getDefiningOp();
  if (!def) {
    *value = v;
    return std::string();
  }
  if (def->getNumOperands() != 1 || !isa<BlockArgument>(def->getOperand(0)))
    return failure();
  *value = def->getOperand(0);
  if (isa<arith::ExtFOp>(def))
    return std::string("extf");
  if (isa<arith::ExtSIOp>(def))
    return std::string("extsi");
  if (isa<arith::ExtUIOp>(def))
    return std::string("extui");
  if (isa<arith::SIToFPOp>(def))
    return std::string("sitofp");
  if (isa<arith::UIToFPOp>(def))
    return std::string("uitofp");
  return failure();
}

bool printableElement(Type t) {
  return t.isF16() || t.isF32() || t.isF64() || t.isInteger(8) || t.isInteger(16) ||
         t.isInteger(32) || t.isInteger(64);
}

/// Where each of the loop dims (batch, m, n, k) sits in an operand's
/// indexing map (-1: absent); failure if the map indexes anything else.
FailureOr<SmallVector<int64_t, 4>> placeDims(AffineMap map, ArrayRef<int64_t> loops) {
  SmallVector<int64_t, 4> at(4, -1);
  for (auto [pos, expr] : llvm::enumerate(map.getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return failure();
    auto it = llvm::find(loops, int64_t(dim.getPosition()));
    if (it == loops.end() || at[it - loops.begin()] != -1)
      return failure();
    at[it - loops.begin()] = int64_t(pos);
  }
  return at;
}

/// The gemm description of `func`, or null when it is not one contraction
/// (plus a fill of its output) on views of its arguments.
DictionaryAttr matchGemm(func::FuncOp func) {
  SmallVector<linalg::LinalgOp> ops;
  bool other = false;
  func.walk([&](Operation *op) {
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      ops.push_back(linalgOp);
    else if (isa<memref::StoreOp, memref::CopyOp, memref::AllocOp, memref::AllocaOp>(op))
      other = true;
  });
  if (other || ops.empty() || ops.size() > 2)
    return nullptr;
  linalg::LinalgOp contraction = ops.back();
  // Before it: a fill of C (C = v + A * B), or a copy of another argument
  // into C (C = C_in + A * B, what bufferization makes of an accumulation
  // into an input).
  linalg::FillOp fill = ops.size() == 2 ? dyn_cast<linalg::FillOp>(ops[0].getOperation())
                                        : linalg::FillOp();
  linalg::CopyOp copy = ops.size() == 2 ? dyn_cast<linalg::CopyOp>(ops[0].getOperation())
                                        : linalg::CopyOp();
  if (ops.size() == 2 && !fill && !copy)
    return nullptr;
  if (!contraction.hasPureBufferSemantics() || contraction.getNumDpsInputs() != 2 ||
      contraction.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(contraction))
    return nullptr;
  FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(contraction);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 || dims->k.size() != 1 ||
      dims->batch.size() > 1)
    return nullptr;
  unsigned loopCount = contraction.getNumLoops();
  if (loopCount != 3 + dims->batch.size())
    return nullptr;
  SmallVector<int64_t, 4> loops = {dims->batch.empty() ? -2 : int64_t(dims->batch[0]),
                                   int64_t(dims->m[0]), int64_t(dims->n[0]),
                                   int64_t(dims->k[0])};

  // Operands: whole function arguments (through pengc's views).
  Value a = contraction.getDpsInputOperand(0)->get(), b = contraction.getDpsInputOperand(1)->get();
  Value c = contraction.getDpsInitOperand(0)->get();
  BlockArgument argA = rootArgument(a, func), argB = rootArgument(b, func),
                argC = rootArgument(c, func);
  if (!argA || !argB || !argC || argC == argA || argC == argB)
    return nullptr;
  if (fill && (fill.getOutputs()[0] != c))
    return nullptr;
  BlockArgument argCIn;
  if (copy) {
    argCIn = rootArgument(copy.getInputs()[0], func);
    if (copy.getOutputs()[0] != c || !argCIn || argCIn == argC ||
        argCIn.getType() != argC.getType())
      return nullptr;
  }
  SmallVector<AffineMap> maps = contraction.getIndexingMapsArray();
  FailureOr<SmallVector<int64_t, 4>> placeA = placeDims(maps[0], loops);
  FailureOr<SmallVector<int64_t, 4>> placeB = placeDims(maps[1], loops);
  FailureOr<SmallVector<int64_t, 4>> placeC = placeDims(maps[2], loops);
  // A(m, k), B(k, n), C(m, n), each with the batch dim or (A, B) without it.
  if (failed(placeA) || failed(placeB) || failed(placeC))
    return nullptr;
  auto has = [](ArrayRef<int64_t> p, int i) { return p[i] >= 0; };
  if (!has(*placeA, 1) || !has(*placeA, 3) || has(*placeA, 2) || !has(*placeB, 3) ||
      !has(*placeB, 2) || has(*placeB, 1) || !has(*placeC, 1) || !has(*placeC, 2) ||
      has(*placeC, 3) || (!dims->batch.empty() && !has(*placeC, 0)))
    return nullptr;

  // Body: acc + cast(a) * cast(b), in the output's type.
  Block *body = contraction.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  if (body->getOperations().size() > 6 || yield->getNumOperands() != 1)
    return nullptr;
  Operation *add = yield->getOperand(0).getDefiningOp();
  if (!add || !isa<arith::AddFOp, arith::AddIOp>(add))
    return nullptr;
  Value accArg = body->getArgument(2), product;
  if (add->getOperand(0) == accArg)
    product = add->getOperand(1);
  else if (add->getOperand(1) == accArg)
    product = add->getOperand(0);
  else
    return nullptr;
  Operation *mul = product.getDefiningOp();
  bool isFloat = isa<arith::AddFOp>(add);
  if (!mul || !(isFloat ? isa<arith::MulFOp>(mul) : isa<arith::MulIOp>(mul)))
    return nullptr;
  Value x, y;
  FailureOr<std::string> castX = castOf(mul->getOperand(0), &x);
  FailureOr<std::string> castY = castOf(mul->getOperand(1), &y);
  if (failed(castX) || failed(castY))
    return nullptr;
  std::string castA = *castX, castB = *castY;
  if (x == body->getArgument(1) && y == body->getArgument(0)) {
    std::swap(x, y);
    std::swap(castA, castB);
  }
  if (x != body->getArgument(0) || y != body->getArgument(1))
    return nullptr;
  Type elemA = cast<MemRefType>(argA.getType()).getElementType();
  Type elemB = cast<MemRefType>(argB.getType()).getElementType();
  Type elemC = cast<MemRefType>(argC.getType()).getElementType();
  if (!printableElement(elemA) || !printableElement(elemB) || !printableElement(elemC) ||
      isFloat != isa<FloatType>(elemC) || mul->getResult(0).getType() != elemC ||
      (castA.empty() && elemA != elemC) || (castB.empty() && elemB != elemC))
    return nullptr;

  Builder builder(func.getContext());
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("a", builder.getI64IntegerAttr(argA.getArgNumber())),
      builder.getNamedAttr("b", builder.getI64IntegerAttr(argB.getArgNumber())),
      builder.getNamedAttr("c", builder.getI64IntegerAttr(argC.getArgNumber())),
      builder.getNamedAttr("a_dims", builder.getI64ArrayAttr(*placeA)),
      builder.getNamedAttr("b_dims", builder.getI64ArrayAttr(*placeB)),
      builder.getNamedAttr("c_dims", builder.getI64ArrayAttr(*placeC)),
      builder.getNamedAttr("a_cast", builder.getStringAttr(castA)),
      builder.getNamedAttr("b_cast", builder.getStringAttr(castB))};
  if (copy)
    attrs.push_back(builder.getNamedAttr("c_in", builder.getI64IntegerAttr(argCIn.getArgNumber())));
  if (fill) {
    Attribute value;
    if (!matchPattern(fill.getInputs()[0], m_Constant(&value)) ||
        fill.getInputs()[0].getType() != elemC)
      return nullptr;
    attrs.push_back(builder.getNamedAttr("init", value));
  }
  return builder.getDictionaryAttr(attrs);
}

struct MatchContractions
    : public mlir::peng::opencl::impl::PengOpenCLMatchContractionsBase<MatchContractions> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func->hasAttr("peng.kernel"))
      return;
    DictionaryAttr gemm = matchGemm(func);
    if (!gemm)
      return;
    Builder builder(func.getContext());
    int64_t c = cast<IntegerAttr>(gemm.get("c")).getInt();
    auto cDims = cast<ArrayAttr>(gemm.get("c_dims"));
    auto at = [&](int i) { return cast<IntegerAttr>(cDims[i]).getInt(); };
    // The kernel strides over its tiles, so any grid is correct; this one
    // gives a group per 64x64 block of the output (the tiles' usual size).
    auto rule = [&](int64_t dim, int64_t tile) {
      return builder.getI64ArrayAttr({c, dim, tile});
    };
    SmallVector<Attribute> grid = {rule(at(2), mlir::peng::opencl::kGemmGridTile),
                                   rule(at(1), mlir::peng::opencl::kGemmGridTile)};
    if (at(0) >= 0)
      grid.push_back(rule(at(0), 1));
    func->setAttr("peng.opencl.gemm", gemm);
    func->setAttr("peng.opencl.grid", builder.getArrayAttr(grid));
    // 0x0x0: the work-group size is the kernel's reqd_work_group_size.
    func->setAttr("peng.opencl.workgroup_size", builder.getI64ArrayAttr({0, 0, 0}));
    Block &entry = func.getBody().front();
    SmallVector<Operation *> body;
    for (Operation &op : entry.without_terminator())
      body.push_back(&op);
    for (Operation *op : llvm::reverse(body))
      op->erase();
  }
};

} // namespace
