//===- ExpandHalfFloats.cpp - f16/bf16 conversions as integer code --------===//
//
// Conversions between f32 and f16/bf16 become integer code on the bit
// patterns, and a kernel that then uses f16/bf16 only to store and move data
// holds those values as i16. Such kernels need no half-precision hardware:
// no Zfh/Zvfh on rvv, no cl_khr_fp16 on OpenCL, no libcalls on the host.
//
// The conversions are IEEE 754's, as arith.extf and arith.truncf define them:
//   f32 -> f16   round to nearest, ties to even; subnormal results; overflow
//                to infinity; NaN stays NaN (quiet, sign and the payload's top
//                bits kept: x86 F16C's vcvtps2ph)
//   f16 -> f32   exact; a signalling NaN is quietened (vcvtph2ps)
//   f32 -> bf16  round to nearest, ties to even; NaN as for f16
//                (AVX512-BF16's vcvtneps2bf16)
//   bf16 -> f32  exact: the bits shifted up
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGEXPANDHALFFLOATS
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

static bool isHalf(Type t) {
  Type e = getElementTypeOrSelf(t);
  return e.isF16() || e.isBF16();
}

/// `t` with its (element) type replaced by `e`.
static Type withElement(Type t, Type e) {
  if (auto shaped = dyn_cast<ShapedType>(t))
    return shaped.clone(e);
  return e;
}

namespace {
/// Integer arithmetic of one type (i32, or a vector/tensor of it), with
/// constants splatted to that shape.
class Bits {
public:
  Bits(PatternRewriter &b, Location loc, Type like) : b_(b), loc_(loc), type_(like) {}
  Type type() const { return type_; }
  Value c(int64_t v) {
    Type e = getElementTypeOrSelf(type_);
    TypedAttr attr = b_.getIntegerAttr(e, v);
    if (auto shaped = dyn_cast<ShapedType>(type_))
      attr = SplatElementsAttr::get(shaped, attr);
    return b_.create<arith::ConstantOp>(loc_, attr);
  }
  Value andi(Value a, int64_t m) { return b_.create<arith::AndIOp>(loc_, a, c(m)); }
  Value ori(Value a, Value x) { return b_.create<arith::OrIOp>(loc_, a, x); }
  Value ori(Value a, int64_t m) { return ori(a, c(m)); }
  Value add(Value a, Value x) { return b_.create<arith::AddIOp>(loc_, a, x); }
  Value add(Value a, int64_t m) { return add(a, c(m)); }
  Value sub(Value a, Value x) { return b_.create<arith::SubIOp>(loc_, a, x); }
  Value shr(Value a, int64_t s) { return b_.create<arith::ShRUIOp>(loc_, a, c(s)); }
  Value shr(Value a, Value s) { return b_.create<arith::ShRUIOp>(loc_, a, s); }
  Value shl(Value a, int64_t s) { return b_.create<arith::ShLIOp>(loc_, a, c(s)); }
  Value minu(Value a, int64_t m) { return b_.create<arith::MinUIOp>(loc_, a, c(m)); }
  Value cmp(arith::CmpIPredicate p, Value a, int64_t m) {
    return b_.create<arith::CmpIOp>(loc_, p, a, c(m));
  }
  Value select(Value cond, Value t, Value f) {
    return b_.create<arith::SelectOp>(loc_, cond, t, f);
  }
  /// Round-to-nearest-even right shift of a non-negative value by `s`
  /// (1 <= s <= 31): (v + 2^(s-1) - 1 + ((v >> s) & 1)) >> s.
  Value shrRoundEven(Value v, Value s) {
    Value one = c(1);
    Value half = sub(b_.create<arith::ShLIOp>(loc_, one, sub(s, one)), one);
    Value odd = andi(shr(v, s), 1);
    return shr(add(add(v, half), odd), s);
  }

private:
  PatternRewriter &b_;
  Location loc_;
  Type type_;
};

struct TruncToHalf : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op, PatternRewriter &rewriter) const override {
    Type from = getElementTypeOrSelf(op.getIn().getType());
    Type to = getElementTypeOrSelf(op.getType());
    if (!from.isF32() || !(to.isF16() || to.isBF16()))
      return rewriter.notifyMatchFailure(op, "not a truncation from f32 to f16/bf16");
    Location loc = op.getLoc();
    Type i32 = withElement(op.getIn().getType(), rewriter.getI32Type());
    Type i16 = withElement(op.getIn().getType(), rewriter.getI16Type());
    Bits b(rewriter, loc, i32);
    using P = arith::CmpIPredicate;
    Value bits = rewriter.create<arith::BitcastOp>(loc, i32, op.getIn());
    Value sign = b.andi(b.shr(bits, 16), 0x8000);
    Value abs = b.andi(bits, 0x7fffffff);
    Value isNan = b.cmp(P::ugt, abs, 0x7f800000);
    Value half;
    if (to.isBF16()) {
      // The top 16 bits, rounded on the 16 below; a carry rolls into the
      // exponent and reaches infinity at the top of the range.
      Value rounded = b.shr(b.add(b.add(abs, 0x7fff), b.andi(b.shr(abs, 16), 1)), 16);
      Value nan = b.ori(b.shr(abs, 16), 0x40);
      half = b.select(isNan, nan, rounded);
    } else {
      // Normal f16 results: rebias the exponent (127 - 15 = 112) and round
      // off 13 mantissa bits. At or above 65520 (0x477ff000) the result
      // rounds to infinity.
      Value normal = b.shrRoundEven(b.sub(abs, b.c(0x38000000)), b.c(13));
      // Below 2^-14 (0x38800000) the result is subnormal: the mantissa with
      // its implicit bit, shifted by 126 - exponent (at most 31: anything
      // shifted further rounds to zero anyway).
      Value exponent = b.shr(abs, 23);
      Value mantissa = b.ori(b.andi(abs, 0x7fffff), 0x800000);
      Value shift = b.minu(b.sub(b.c(126), b.minu(exponent, 112)), 31);
      Value subnormal = b.shrRoundEven(mantissa, shift);
      Value nan = b.ori(b.andi(b.shr(abs, 13), 0x3ff), 0x7e00);
      half = b.select(b.cmp(P::ult, abs, 0x38800000), subnormal, normal);
      half = b.select(b.cmp(P::uge, abs, 0x477ff000), b.c(0x7c00), half);
      half = b.select(isNan, nan, half);
    }
    Value result = rewriter.create<arith::TruncIOp>(loc, i16, b.ori(half, sign));
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, op.getType(), result);
    return success();
  }
};

struct ExtFromHalf : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op, PatternRewriter &rewriter) const override {
    Type from = getElementTypeOrSelf(op.getIn().getType());
    Type to = getElementTypeOrSelf(op.getType());
    if (!to.isF32() || !(from.isF16() || from.isBF16()))
      return rewriter.notifyMatchFailure(op, "not an extension from f16/bf16 to f32");
    Location loc = op.getLoc();
    Type i32 = withElement(op.getType(), rewriter.getI32Type());
    Type i16 = withElement(op.getType(), rewriter.getI16Type());
    Bits b(rewriter, loc, i32);
    using P = arith::CmpIPredicate;
    Value h = rewriter.create<arith::ExtUIOp>(
        loc, i32, rewriter.create<arith::BitcastOp>(loc, i16, op.getIn()));
    Value bits;
    if (from.isBF16()) {
      bits = b.shl(h, 16);
    } else {
      Value sign = b.shl(b.andi(h, 0x8000), 16);
      Value exponent = b.andi(b.shr(h, 10), 0x1f);
      Value mantissa = b.andi(h, 0x3ff);
      Value normal = b.add(b.shl(b.andi(h, 0x7fff), 13), 0x38000000);
      // Infinity, or a NaN made quiet.
      Value special = b.ori(b.ori(b.shl(mantissa, 13), 0x7f800000),
                            b.select(b.cmp(P::ne, mantissa, 0), b.c(0x400000), b.c(0)));
      // Zero and subnormals: mantissa * 2^-24, exact in f32.
      Type f32 = op.getType();
      Value scaled = rewriter.create<arith::MulFOp>(
          loc, rewriter.create<arith::UIToFPOp>(loc, f32, mantissa),
          rewriter.create<arith::ConstantOp>(
              loc, isa<ShapedType>(f32)
                       ? TypedAttr(SplatElementsAttr::get(cast<ShapedType>(f32),
                                                          rewriter.getF32FloatAttr(0x1p-24f)))
                       : TypedAttr(rewriter.getF32FloatAttr(0x1p-24f))));
      Value small = rewriter.create<arith::BitcastOp>(loc, i32, scaled);
      Value magnitude = b.select(b.cmp(P::eq, exponent, 0x1f), special, normal);
      magnitude = b.select(b.cmp(P::eq, exponent, 0), small, magnitude);
      bits = b.ori(magnitude, sign);
    }
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, op.getType(), bits);
    return success();
  }
};

/// Whether `op` only stores or moves f16/bf16 values (or has none), so that
/// holding them as i16 bits changes nothing.
static bool movesHalfOnly(Operation *op) {
  if (isa<arith::BitcastOp, arith::ConstantOp, arith::SelectOp>(op))
    return true;
  StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
  if (ns == "arith" || ns == "math")
    return !llvm::any_of(op->getOperandTypes(), isHalf) &&
           !llvm::any_of(op->getResultTypes(), isHalf);
  // linalg ops hold their arithmetic in their region, checked op by op.
  return true;
}

static Type toBits(Type t) {
  return isHalf(t) ? withElement(t, IntegerType::get(t.getContext(), 16)) : t;
}

/// f16/bf16 values become i16 bits throughout the function: the signature,
/// results, block arguments and constants.
static void holdAsBits(func::FuncOp func) {
  func.walk([&](Operation *op) {
    if (auto cst = dyn_cast<arith::ConstantOp>(op); cst && isHalf(cst.getType())) {
      Type type = toBits(cst.getType());
      TypedAttr value;
      if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
        value = IntegerAttr::get(type, f.getValue().bitcastToAPInt());
      else
        value = cast<DenseElementsAttr>(cst.getValue()).bitcast(getElementTypeOrSelf(type));
      cst.setValueAttr(value);
    }
    for (Value r : op->getResults())
      r.setType(toBits(r.getType()));
    for (Region &region : op->getRegions()) {
      for (Block &block : region) {
        for (BlockArgument a : block.getArguments())
          a.setType(toBits(a.getType()));
      }
    }
  });
  FunctionType type = func.getFunctionType();
  SmallVector<Type> inputs = llvm::map_to_vector(type.getInputs(), toBits);
  SmallVector<Type> results = llvm::map_to_vector(type.getResults(), toBits);
  func.setFunctionType(FunctionType::get(func.getContext(), inputs, results));
}

struct PengExpandHalfFloatsPass
    : mlir::peng::impl::PengExpandHalfFloatsBase<PengExpandHalfFloatsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    RewritePatternSet patterns(&getContext());
    patterns.add<TruncToHalf, ExtFromHalf>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
    Operation *computes = nullptr;
    func.walk([&](Operation *op) {
      if (movesHalfOnly(op))
        return WalkResult::advance();
      computes = op;
      return WalkResult::interrupt();
    });
    if (!computes) {
      holdAsBits(func);
      return;
    }
    // f16 arithmetic stays for the targets that have it (the host); bf16
    // arithmetic has no target.
    if (llvm::any_of(computes->getOperandTypes(),
                     [](Type t) { return getElementTypeOrSelf(t).isBF16(); }) ||
        llvm::any_of(computes->getResultTypes(),
                     [](Type t) { return getElementTypeOrSelf(t).isBF16(); })) {
      // An op inside a named linalg op (linalg.add) has no location of its
      // own: report the named op.
      while (isa<UnknownLoc>(computes->getLoc()) && computes->getParentOp())
        computes = computes->getParentOp();
      computes->emitOpError("computes in bf16; pengc supports bf16 only in conversions to and "
                            "from f32 (arith.extf, arith.truncf) and in data movement");
      return signalPassFailure();
    }
  }
};
} // namespace
