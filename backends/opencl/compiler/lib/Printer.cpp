//===- Printer.cpp - outlined gpu.func kernels to OpenCL C 1.2 ------------===//
//
// Prints the small op set that the opencl pipeline leaves in a gpu.func
// (arith, math, scf.for/if, memref.load/store on kernel arguments, gpu ids)
// as OpenCL C 1.2. Every value is a `const` local named after its kind;
// constants are written in place. Math uses OpenCL's built-ins (exp, erf,
// fma, fmax): a kernel library such as PoCL's has no libm names (expf).
//
//===----------------------------------------------------------------------===//
#include "Gemm.h"
#include "peng/OpenCL/OpenCLTarget.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>
#include <set>

using namespace mlir;

/// The OpenCL C name of a scalar type, or "" when there is none.
std::string mlir::peng::opencl::scalarType(Type t) {
  if (t.isIndex())
    return "long";
  if (t.isInteger(1))
    return "bool";
  if (t.isInteger(8))
    return "char";
  if (t.isInteger(16))
    return "short";
  if (t.isInteger(32))
    return "int";
  if (t.isInteger(64))
    return "long";
  if (t.isF16())
    return "half";
  if (t.isF32())
    return "float";
  if (t.isF64())
    return "double";
  return "";
}

/// The unsigned type of the same width (for unsigned ops on signless ints).
std::string mlir::peng::opencl::unsignedType(Type t) {
  if (t.isIndex() || t.isInteger(64))
    return "ulong";
  if (t.isInteger(32))
    return "uint";
  if (t.isInteger(16))
    return "ushort";
  if (t.isInteger(8))
    return "uchar";
  return "bool";
}

std::string mlir::peng::opencl::floatLiteral(FloatAttr attr) {
  double v = attr.getValueAsDouble();
  Type t = attr.getType();
  if (std::isnan(v))
    return t.isF64() ? "(double)NAN" : t.isF16() ? "(half)NAN" : "NAN";
  if (std::isinf(v)) {
    std::string inf = v < 0 ? "(-INFINITY)" : "INFINITY";
    return t.isF64() ? "(double)" + inf : t.isF16() ? "(half)" + inf : inf;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, t.isF64() ? "%.17g" : "%.9g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  if (t.isF64())
    return s;
  if (t.isF16())
    return "(half)" + s + "f";
  return s + "f";
}

std::string mlir::peng::opencl::integerLiteral(IntegerAttr i) {
  if (i.getType().isInteger(1))
    return std::string(i.getValue().isZero() ? "false" : "true");
  int64_t x = i.getValue().getSExtValue();
  if (x == INT64_MIN)
    return std::string("(-9223372036854775807L - 1)");
  std::string s = std::to_string(x);
  if (i.getType().isIndex() || i.getType().isInteger(64))
    s += "L";
  return x < 0 ? "(" + s + ")" : s;
}

namespace {
using mlir::peng::opencl::floatLiteral;
using mlir::peng::opencl::integerLiteral;
using mlir::peng::opencl::scalarType;
using mlir::peng::opencl::unsignedType;

/// `(long)get_group_id(0)`: OpenCL's work-item functions return size_t.
template <typename OpTy>
FailureOr<std::string> workItemQuery(StringRef fn, OpTy op) {
  return "(long)" + fn.str() + "(" + std::to_string(unsigned(op.getDimension())) + ")";
}

class Emitter {
public:
  Emitter(llvm::raw_ostream &os, std::set<std::string> &extensions)
      : os_(os), extensions_(extensions) {}

  LogicalResult emitKernel(func::FuncOp host, gpu::GPUFuncOp kernel,
                           gpu::LaunchFuncOp launch);

private:
  llvm::raw_ostream &os_;
  std::set<std::string> &extensions_;
  llvm::DenseMap<Value, std::string> names_;
  // Per kernel argument (by gpu.func argument): the host argument number.
  llvm::DenseMap<Value, unsigned> hostArg_;
  std::vector<std::string> argNames_;
  std::vector<MemRefType> argTypes_;
  std::set<std::string> taken_; // work-item query names in use
  llvm::DenseMap<Value, std::string> locals_; // temporaries: __local arrays, workspace views
  int64_t workspaceArg_ = -1;                 // host argument number of the workspace
  unsigned next_ = 0;
  int indent_ = 1;

  llvm::raw_ostream &line() {
    for (int i = 0; i < indent_; ++i)
      os_ << "  ";
    return os_;
  }
  FailureOr<std::string> typeOf(Operation *op, Type t) {
    std::string s = scalarType(t);
    if (s.empty())
      return op->emitOpError("has type ") << t << ", which target opencl does not support",
             failure();
    if (t.isF16())
      extensions_.insert("cl_khr_fp16");
    if (t.isF64())
      extensions_.insert("cl_khr_fp64");
    return s;
  }
  std::string fresh(StringRef prefix) { return (prefix + Twine(next_++)).str(); }
  FailureOr<std::string> expr(Operation *user, Value v);
  LogicalResult emitBlock(Block &block);
  LogicalResult emitOp(Operation *op);
  FailureOr<std::string> emitExpression(Operation *op);
  FailureOr<std::string> index(Operation *op, Value memref, ValueRange indices);
  LogicalResult define(Operation *op, const std::string &value);
};

FailureOr<std::string> Emitter::expr(Operation *user, Value v) {
  auto it = names_.find(v);
  if (it != names_.end())
    return it->second;
  if (auto c = v.getDefiningOp<arith::ConstantOp>()) {
    Attribute a = c.getValue();
    if (auto f = dyn_cast<FloatAttr>(a))
      return floatLiteral(f);
    if (auto i = dyn_cast<IntegerAttr>(a))
      return integerLiteral(i);
  }
  return user->emitOpError("uses a value that target opencl cannot print"), failure();
}

/// A readable name for a work-item query ("group_x"), else "".
static std::string workItemName(Operation *op) {
  auto suffix = [](gpu::Dimension d) {
    return d == gpu::Dimension::x ? "_x" : d == gpu::Dimension::y ? "_y" : "_z";
  };
  if (auto o = dyn_cast<gpu::BlockIdOp>(op))
    return std::string("group") + suffix(o.getDimension());
  if (auto o = dyn_cast<gpu::ThreadIdOp>(op))
    return std::string("local") + suffix(o.getDimension());
  if (auto o = dyn_cast<gpu::BlockDimOp>(op))
    return std::string("local_size") + suffix(o.getDimension());
  if (auto o = dyn_cast<gpu::GridDimOp>(op))
    return std::string("num_groups") + suffix(o.getDimension());
  if (auto o = dyn_cast<gpu::GlobalIdOp>(op))
    return std::string("global") + suffix(o.getDimension());
  return "";
}

LogicalResult Emitter::define(Operation *op, const std::string &value) {
  FailureOr<std::string> type = typeOf(op, op->getResult(0).getType());
  if (failed(type))
    return failure();
  std::string name = workItemName(op);
  if (name.empty() || !taken_.insert(name).second)
    name = fresh("v");
  line() << "const " << *type << " " << name << " = " << value << ";\n";
  names_[op->getResult(0)] = name;
  return success();
}

FailureOr<std::string> Emitter::index(Operation *op, Value memref, ValueRange indices) {
  // A temporary: a __local array of its static shape, row-major.
  if (auto local = locals_.find(memref); local != locals_.end()) {
    auto type = cast<MemRefType>(memref.getType());
    std::string linear;
    for (auto [d, idx] : llvm::enumerate(indices)) {
      FailureOr<std::string> i = expr(op, idx);
      if (failed(i))
        return failure();
      linear = d == 0 ? *i
                      : "(" + linear + ") * " + std::to_string(type.getDimSize(d)) + " + " + *i;
    }
    return local->second + "[" + (linear.empty() ? std::string("0") : linear) + "]";
  }
  auto arg = dyn_cast<BlockArgument>(memref);
  auto found = arg ? hostArg_.find(arg) : hostArg_.end();
  if (found == hostArg_.end())
    return op->emitOpError("accesses a buffer that is not a kernel argument, which target "
                           "opencl does not support yet"),
           failure();
  unsigned a = found->second;
  MemRefType type = argTypes_[a];
  if (!type.getLayout().isIdentity())
    return op->emitOpError("accesses a strided buffer, which target opencl does not support"),
           failure();
  // Row-major: ((i0 * d1) + i1) * d2 + i2; dynamic sizes come from the
  // shape arguments.
  std::string linear;
  for (auto [d, idx] : llvm::enumerate(indices)) {
    FailureOr<std::string> i = expr(op, idx);
    if (failed(i))
      return failure();
    if (d == 0) {
      linear = *i;
      continue;
    }
    std::string size = type.isDynamicDim(d) ? argNames_[a] + "_d" + std::to_string(d)
                                            : std::to_string(type.getDimSize(d));
    linear = "(" + linear + ") * " + size + " + " + *i;
  }
  if (linear.empty())
    linear = "0";
  return argNames_[a] + "[" + linear + "]";
}

FailureOr<std::string> Emitter::emitExpression(Operation *op) {
  auto operand = [&](unsigned i) { return expr(op, op->getOperand(i)); };
  auto binary = [&](StringRef sym) -> FailureOr<std::string> {
    FailureOr<std::string> a = operand(0), b = operand(1);
    if (failed(a) || failed(b))
      return failure();
    return "(" + *a + " " + sym.str() + " " + *b + ")";
  };
  // Signed overflow is undefined in C; arith wraps: compute in unsigned.
  auto wrapping = [&](StringRef sym) -> FailureOr<std::string> {
    Type t = op->getResult(0).getType();
    if (t.isIndex() || t.getIntOrFloatBitWidth() < 32)
      return binary(sym);
    FailureOr<std::string> a = operand(0), b = operand(1);
    if (failed(a) || failed(b))
      return failure();
    std::string u = unsignedType(t);
    return "(" + scalarType(t) + ")((" + u + ")" + *a + " " + sym.str() + " (" + u + ")" + *b +
           ")";
  };
  auto unsignedBinary = [&](StringRef sym) -> FailureOr<std::string> {
    FailureOr<std::string> a = operand(0), b = operand(1);
    if (failed(a) || failed(b))
      return failure();
    Type t = op->getOperand(0).getType();
    std::string u = unsignedType(t);
    std::string r = "((" + u + ")" + *a + " " + sym.str() + " (" + u + ")" + *b + ")";
    if (op->getResult(0).getType().isInteger(1))
      return r;
    return "(" + scalarType(op->getResult(0).getType()) + ")" + r;
  };
  auto call = [&](StringRef fn) -> FailureOr<std::string> {
    std::string s = fn.str() + "(";
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      FailureOr<std::string> a = operand(i);
      if (failed(a))
        return failure();
      s += (i ? ", " : "") + *a;
    }
    return s + ")";
  };
  auto cast = [&](bool viaUnsigned) -> FailureOr<std::string> {
    FailureOr<std::string> a = operand(0);
    FailureOr<std::string> to = typeOf(op, op->getResult(0).getType());
    if (failed(a) || failed(to))
      return failure();
    Type from = op->getOperand(0).getType();
    if (viaUnsigned && !from.isInteger(1) && !isa<FloatType>(from))
      return "(" + *to + ")(" + unsignedType(from) + ")" + *a;
    if (viaUnsigned && isa<FloatType>(from))
      return "(" + *to + ")(" + unsignedType(op->getResult(0).getType()) + ")" + *a;
    return "(" + *to + ")" + *a;
  };
  auto nanGuarded = [&](StringRef fn) -> FailureOr<std::string> {
    // arith.maximumf/minimumf propagate NaN; fmax/fmin return the other.
    FailureOr<std::string> a = operand(0), b = operand(1);
    if (failed(a) || failed(b))
      return failure();
    auto mayBeNaN = [&](unsigned i) {
      FloatAttr c;
      return !matchPattern(op->getOperand(i), m_Constant(&c)) || c.getValue().isNaN();
    };
    std::string s = fn.str() + "(" + *a + ", " + *b + ")";
    if (mayBeNaN(1))
      s = "isnan(" + *b + ") ? " + *b + " : " + s;
    if (mayBeNaN(0))
      s = "isnan(" + *a + ") ? " + *a + " : " + s;
    return "(" + s + ")";
  };

  return llvm::TypeSwitch<Operation *, FailureOr<std::string>>(op)
      .Case<arith::AddFOp>([&](auto) { return binary("+"); })
      .Case<arith::SubFOp>([&](auto) { return binary("-"); })
      .Case<arith::MulFOp>([&](auto) { return binary("*"); })
      .Case<arith::DivFOp>([&](auto) { return binary("/"); })
      .Case<arith::RemFOp>([&](auto) { return call("fmod"); })
      .Case<arith::NegFOp>([&](auto) -> FailureOr<std::string> {
        FailureOr<std::string> a = operand(0);
        if (failed(a))
          return failure();
        return "(-" + *a + ")";
      })
      .Case<arith::AddIOp>([&](auto) { return wrapping("+"); })
      .Case<arith::SubIOp>([&](auto) { return wrapping("-"); })
      .Case<arith::MulIOp>([&](auto) { return wrapping("*"); })
      .Case<arith::DivSIOp>([&](auto) { return binary("/"); })
      .Case<arith::RemSIOp>([&](auto) { return binary("%"); })
      .Case<arith::DivUIOp>([&](auto) { return unsignedBinary("/"); })
      .Case<arith::RemUIOp>([&](auto) { return unsignedBinary("%"); })
      .Case<arith::AndIOp>([&](auto) { return binary("&"); })
      .Case<arith::OrIOp>([&](auto) { return binary("|"); })
      .Case<arith::XOrIOp>([&](auto) { return binary("^"); })
      .Case<arith::ShLIOp>([&](auto) { return unsignedBinary("<<"); })
      .Case<arith::ShRSIOp>([&](auto) { return binary(">>"); })
      .Case<arith::ShRUIOp>([&](auto) { return unsignedBinary(">>"); })
      .Case<arith::MaximumFOp>([&](auto) { return nanGuarded("fmax"); })
      .Case<arith::MinimumFOp>([&](auto) { return nanGuarded("fmin"); })
      .Case<arith::MaxNumFOp>([&](auto) { return call("fmax"); })
      .Case<arith::MinNumFOp>([&](auto) { return call("fmin"); })
      .Case<arith::MaxSIOp>([&](auto) { return call("max"); })
      .Case<arith::MinSIOp>([&](auto) { return call("min"); })
      .Case<arith::MaxUIOp, arith::MinUIOp>([&](auto o) -> FailureOr<std::string> {
        FailureOr<std::string> a = operand(0), b = operand(1);
        if (failed(a) || failed(b))
          return failure();
        std::string u = unsignedType(o.getType());
        return "(" + scalarType(o.getType()) + ")" + (isa<arith::MaxUIOp>(o) ? "max" : "min") +
               "((" + u + ")" + *a + ", (" + u + ")" + *b + ")";
      })
      .Case<arith::CmpIOp>([&](arith::CmpIOp c) -> FailureOr<std::string> {
        using P = arith::CmpIPredicate;
        switch (c.getPredicate()) {
        case P::eq: return binary("==");
        case P::ne: return binary("!=");
        case P::slt: return binary("<");
        case P::sle: return binary("<=");
        case P::sgt: return binary(">");
        case P::sge: return binary(">=");
        case P::ult: return unsignedBinary("<");
        case P::ule: return unsignedBinary("<=");
        case P::ugt: return unsignedBinary(">");
        case P::uge: return unsignedBinary(">=");
        }
        return failure();
      })
      .Case<arith::CmpFOp>([&](arith::CmpFOp c) -> FailureOr<std::string> {
        using P = arith::CmpFPredicate;
        FailureOr<std::string> a = operand(0), b = operand(1);
        if (failed(a) || failed(b))
          return failure();
        std::string unordered = "(isnan(" + *a + ") || isnan(" + *b + "))";
        auto rel = [&](StringRef sym) { return "(" + *a + " " + sym.str() + " " + *b + ")"; };
        switch (c.getPredicate()) {
        case P::AlwaysFalse: return std::string("false");
        case P::AlwaysTrue: return std::string("true");
        case P::OEQ: return rel("==");
        case P::OGT: return rel(">");
        case P::OGE: return rel(">=");
        case P::OLT: return rel("<");
        case P::OLE: return rel("<=");
        case P::ONE: return "(!" + unordered + " && " + rel("!=") + ")";
        case P::ORD: return "!" + unordered;
        case P::UEQ: return "(" + unordered + " || " + rel("==") + ")";
        case P::UGT: return "!" + rel("<=");
        case P::UGE: return "!" + rel("<");
        case P::ULT: return "!" + rel(">=");
        case P::ULE: return "!" + rel(">");
        case P::UNE: return rel("!=");
        case P::UNO: return unordered;
        }
        return failure();
      })
      .Case<arith::SelectOp>([&](auto) -> FailureOr<std::string> {
        FailureOr<std::string> c = operand(0), a = operand(1), b = operand(2);
        if (failed(c) || failed(a) || failed(b))
          return failure();
        return "(" + *c + " ? " + *a + " : " + *b + ")";
      })
      .Case<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp, arith::FPToSIOp, arith::ExtSIOp,
            arith::TruncIOp, arith::IndexCastOp>([&](auto) { return cast(false); })
      .Case<arith::ExtUIOp, arith::UIToFPOp, arith::FPToUIOp, arith::IndexCastUIOp>(
          [&](auto) { return cast(true); })
      .Case<arith::BitcastOp>([&](arith::BitcastOp b) -> FailureOr<std::string> {
        FailureOr<std::string> a = operand(0);
        FailureOr<std::string> to = typeOf(op, b.getType());
        if (failed(a) || failed(to))
          return failure();
        return "as_" + *to + "(" + *a + ")";
      })
      .Case<math::ExpOp>([&](auto) { return call("exp"); })
      .Case<math::Exp2Op>([&](auto) { return call("exp2"); })
      .Case<math::ExpM1Op>([&](auto) { return call("expm1"); })
      .Case<math::LogOp>([&](auto) { return call("log"); })
      .Case<math::Log2Op>([&](auto) { return call("log2"); })
      .Case<math::Log10Op>([&](auto) { return call("log10"); })
      .Case<math::Log1pOp>([&](auto) { return call("log1p"); })
      .Case<math::SqrtOp>([&](auto) { return call("sqrt"); })
      .Case<math::RsqrtOp>([&](auto) { return call("rsqrt"); })
      .Case<math::CbrtOp>([&](auto) { return call("cbrt"); })
      .Case<math::TanhOp>([&](auto) { return call("tanh"); })
      .Case<math::ErfOp>([&](auto) { return call("erf"); })
      .Case<math::SinOp>([&](auto) { return call("sin"); })
      .Case<math::CosOp>([&](auto) { return call("cos"); })
      .Case<math::TanOp>([&](auto) { return call("tan"); })
      .Case<math::AtanOp>([&](auto) { return call("atan"); })
      .Case<math::Atan2Op>([&](auto) { return call("atan2"); })
      .Case<math::AbsFOp>([&](auto) { return call("fabs"); })
      .Case<math::CeilOp>([&](auto) { return call("ceil"); })
      .Case<math::FloorOp>([&](auto) { return call("floor"); })
      .Case<math::RoundOp>([&](auto) { return call("round"); })
      .Case<math::RoundEvenOp>([&](auto) { return call("rint"); })
      .Case<math::TruncOp>([&](auto) { return call("trunc"); })
      .Case<math::PowFOp>([&](auto) { return call("pow"); })
      .Case<math::FmaOp>([&](auto) { return call("fma"); })
      .Case<math::CopySignOp>([&](auto) { return call("copysign"); })
      .Case<math::AbsIOp>([&](math::AbsIOp a) -> FailureOr<std::string> {
        FailureOr<std::string> x = operand(0);
        if (failed(x))
          return failure();
        // OpenCL's abs returns the unsigned type.
        return "(" + scalarType(a.getType()) + ")abs(" + *x + ")";
      })
      .Case<gpu::BlockIdOp>([&](auto o) { return workItemQuery("get_group_id", o); })
      .Case<gpu::ThreadIdOp>([&](auto o) { return workItemQuery("get_local_id", o); })
      .Case<gpu::BlockDimOp>([&](auto o) { return workItemQuery("get_local_size", o); })
      .Case<gpu::GridDimOp>([&](auto o) { return workItemQuery("get_num_groups", o); })
      .Case<gpu::GlobalIdOp>([&](auto o) { return workItemQuery("get_global_id", o); })
      .Case<memref::LoadOp>([&](memref::LoadOp load) {
        return index(op, load.getMemRef(), load.getIndices());
      })
      .Default([&](Operation *) -> FailureOr<std::string> {
        return op->emitOpError("is not supported on target opencl: the OpenCL C printer has no "
                               "translation for it"),
               failure();
      });
}

LogicalResult Emitter::emitOp(Operation *op) {
  if (isa<arith::ConstantOp>(op))
    return success(); // written in place
  if (isa<memref::AllocaOp>(op))
    return success(); // declared at the top of the kernel
  if (auto view = dyn_cast<memref::ViewOp>(op)) {
    // A temporary in the workspace: a typed pointer into this group's slice.
    auto source = dyn_cast<BlockArgument>(view.getSource());
    auto host = source ? hostArg_.find(source) : hostArg_.end();
    MemRefType type = view.getType();
    if (host == hostArg_.end() || int64_t(host->second) != workspaceArg_ ||
        !type.hasStaticShape() || !type.getLayout().isIdentity())
      return op->emitOpError("is a view that is not a temporary in the workspace, which target "
                             "opencl does not support"),
             failure();
    FailureOr<std::string> elem = typeOf(op, type.getElementType());
    FailureOr<std::string> shift = expr(op, view.getByteShift());
    if (failed(elem) || failed(shift))
      return failure();
    std::string name = fresh("temp");
    line() << "__global " << *elem << "* const " << name << " = (__global " << *elem
           << "*)(ws + " << *shift << ");\n";
    locals_[view.getResult()] = name;
    return success();
  }
  if (isa<gpu::BarrierOp>(op)) {
    line() << "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);\n";
    return success();
  }
  if (auto store = dyn_cast<memref::StoreOp>(op)) {
    FailureOr<std::string> target = index(op, store.getMemRef(), store.getIndices());
    FailureOr<std::string> value = expr(op, store.getValueToStore());
    if (failed(target) || failed(value))
      return failure();
    line() << *target << " = " << *value << ";\n";
    return success();
  }
  if (auto forOp = dyn_cast<scf::ForOp>(op)) {
    FailureOr<std::string> lb = expr(op, forOp.getLowerBound());
    FailureOr<std::string> ub = expr(op, forOp.getUpperBound());
    FailureOr<std::string> step = expr(op, forOp.getStep());
    if (failed(lb) || failed(ub) || failed(step))
      return failure();
    for (auto [init, iter, result] :
         llvm::zip(forOp.getInitArgs(), forOp.getRegionIterArgs(), forOp.getResults())) {
      FailureOr<std::string> type = typeOf(op, iter.getType());
      FailureOr<std::string> value = expr(op, init);
      if (failed(type) || failed(value))
        return failure();
      std::string name = fresh("acc");
      line() << *type << " " << name << " = " << *value << ";\n";
      names_[iter] = name;
      names_[result] = name;
    }
    FailureOr<std::string> ivType = typeOf(op, forOp.getInductionVar().getType());
    if (failed(ivType))
      return failure();
    std::string iv = fresh("i");
    names_[forOp.getInductionVar()] = iv;
    line() << "for (" << *ivType << " " << iv << " = " << *lb << "; " << iv << " < " << *ub
           << "; " << iv << " += " << *step << ") {\n";
    ++indent_;
    if (failed(emitBlock(*forOp.getBody())))
      return failure();
    --indent_;
    line() << "}\n";
    return success();
  }
  if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
    for (Value result : ifOp.getResults()) {
      FailureOr<std::string> type = typeOf(op, result.getType());
      if (failed(type))
        return failure();
      std::string name = fresh("v");
      line() << *type << " " << name << ";\n";
      names_[result] = name;
    }
    FailureOr<std::string> cond = expr(op, ifOp.getCondition());
    if (failed(cond))
      return failure();
    line() << "if (" << *cond << ") {\n";
    ++indent_;
    if (failed(emitBlock(ifOp.getThenRegion().front())))
      return failure();
    --indent_;
    if (!ifOp.getElseRegion().empty()) {
      line() << "} else {\n";
      ++indent_;
      if (failed(emitBlock(ifOp.getElseRegion().front())))
        return failure();
      --indent_;
    }
    line() << "}\n";
    return success();
  }
  if (auto yield = dyn_cast<scf::YieldOp>(op)) {
    // Into the for's accumulators or the if's results; through temporaries,
    // since a yielded value may be another accumulator.
    Operation *parent = op->getParentOp();
    ValueRange targets = isa<scf::ForOp>(parent) ? ValueRange(cast<scf::ForOp>(parent).getRegionIterArgs())
                                                 : ValueRange(parent->getResults());
    std::vector<std::string> temps;
    for (auto [value, target] : llvm::zip(yield.getOperands(), targets)) {
      FailureOr<std::string> v = expr(op, value);
      FailureOr<std::string> type = typeOf(op, target.getType());
      if (failed(v) || failed(type))
        return failure();
      std::string t = fresh("t");
      line() << "const " << *type << " " << t << " = " << *v << ";\n";
      temps.push_back(t);
    }
    for (auto [t, target] : llvm::zip(temps, targets))
      line() << names_[target] << " = " << t << ";\n";
    return success();
  }
  if (isa<gpu::ReturnOp>(op)) {
    if (op->getBlock() != &op->getParentRegion()->front() || op->getNextNode())
      line() << "return;\n";
    return success();
  }
  if (op->getNumResults() != 1 || op->getNumRegions() != 0)
    return op->emitOpError("is not supported on target opencl: the OpenCL C printer has no "
                           "translation for it");
  FailureOr<std::string> value = emitExpression(op);
  if (failed(value))
    return failure();
  return define(op, *value);
}

LogicalResult Emitter::emitBlock(Block &block) {
  for (Operation &op : block)
    if (failed(emitOp(&op)))
      return failure();
  return success();
}

LogicalResult Emitter::emitKernel(func::FuncOp host, gpu::GPUFuncOp kernel,
                                  gpu::LaunchFuncOp launch) {
  // Names by role: a buffer the kernel stores into is an output.
  llvm::DenseSet<unsigned> written;
  kernel.walk([&](memref::StoreOp store) {
    if (auto arg = dyn_cast<BlockArgument>(store.getMemRef()))
      written.insert(arg.getArgNumber());
  });
  for (auto [i, operand] : llvm::enumerate(launch.getKernelOperands())) {
    auto hostArg = dyn_cast<BlockArgument>(operand);
    if (!hostArg || !isa<MemRefType>(hostArg.getType()))
      return launch.emitOpError("passes the kernel a value that is not a buffer argument, "
                                "which target opencl does not support");
    hostArg_[kernel.getArgument(i)] = hostArg.getArgNumber();
  }
  llvm::DenseSet<unsigned> hostWritten;
  for (auto [value, host] : hostArg_)
    if (written.contains(cast<BlockArgument>(value).getArgNumber()))
      hostWritten.insert(host);
  // The workspace (peng-allocate-workspace: the argument before the
  // workgroup id) is no binding: it comes last, after the shapes.
  auto workspaceBytes = host->getAttrOfType<IntegerAttr>("peng.workspace");
  workspaceArg_ = workspaceBytes ? int64_t(host.getNumArguments()) - 2 : -1;
  unsigned inputs = 0, outputs = 0;
  for (BlockArgument arg : host.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!type)
      break; // the workgroup id: not an OpenCL argument
    bool out = hostWritten.contains(arg.getArgNumber());
    if (int64_t(arg.getArgNumber()) == workspaceArg_)
      argNames_.push_back("workspace");
    else
      argNames_.push_back(out ? "out" + std::to_string(outputs++)
                              : "in" + std::to_string(inputs++));
    argTypes_.push_back(type);
  }

  os_ << "__kernel void " << host.getSymName() << "(";
  std::string sep;
  for (auto [i, name, type] : llvm::enumerate(argNames_, argTypes_)) {
    if (int64_t(i) == workspaceArg_)
      continue;
    FailureOr<std::string> elem = typeOf(host, type.getElementType());
    if (failed(elem))
      return failure();
    bool out = StringRef(name).starts_with("out");
    os_ << sep << "__global " << (out ? "" : "const ") << *elem << "* " << name;
    sep = ", ";
  }
  // The shape of each buffer, one long per dimension (the argument convention).
  for (auto [i, name, type] : llvm::enumerate(argNames_, argTypes_))
    for (int64_t d = 0; d < type.getRank() && int64_t(i) != workspaceArg_; ++d)
      os_ << sep << "long " << name << "_d" << d;
  if (workspaceArg_ >= 0)
    os_ << sep << "__global uchar* workspace";
  os_ << ") {\n";
  // Each work-group along z (a pengc workgroup) has its own slice.
  if (workspaceArg_ >= 0)
    line() << "__global uchar* const ws = workspace + (long)get_group_id(2) * "
           << workspaceBytes.getInt() << "L;\n";
  // Temporaries between ops live in __local memory, declared at kernel
  // scope as OpenCL C requires; the work-group's loops share them.
  WalkResult bad = kernel.walk([&](memref::AllocaOp alloca) {
    MemRefType type = alloca.getType();
    FailureOr<std::string> elem = typeOf(alloca, type.getElementType());
    if (failed(elem))
      return WalkResult::interrupt();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
      alloca.emitOpError("is a temporary of dynamic shape or strided layout, which target "
                         "opencl does not support");
      return WalkResult::interrupt();
    }
    std::string name = fresh("local");
    locals_[alloca.getResult()] = name;
    line() << "__local " << *elem << " " << name << "[" << std::max<int64_t>(type.getNumElements(), 1)
           << "];\n";
    return WalkResult::advance();
  });
  if (bad.wasInterrupted())
    return failure();
  if (failed(emitBlock(kernel.getBody().front())))
    return failure();
  os_ << "}\n";
  return success();
}

} // namespace

LogicalResult mlir::peng::opencl::printOpenCL(ModuleOp module, llvm::raw_ostream &os,
                                              std::vector<std::string> *extensions) {
  std::string body;
  llvm::raw_string_ostream bodyOs(body);
  std::set<std::string> used, accumulators;
  bool first = true;
  for (auto host : module.getOps<func::FuncOp>()) {
    if (!host->hasAttr("peng.kernel"))
      continue;
    if (host->hasAttr("peng.opencl.gemm")) {
      if (!first)
        bodyOs << "\n";
      first = false;
      if (failed(printGemmKernel(host, bodyOs, used, accumulators)))
        return failure();
      continue;
    }
    SmallVector<gpu::LaunchFuncOp> launches;
    host.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
    if (launches.size() != 1)
      return host.emitOpError("has ") << launches.size()
                                      << " OpenCL launches; target opencl makes one per kernel";
    auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
        launches[0], launches[0].getKernel());
    if (!kernel)
      return launches[0].emitOpError("names a kernel that does not exist");
    if (!first)
      bodyOs << "\n";
    first = false;
    Emitter emitter(bodyOs, used);
    if (failed(emitter.emitKernel(host, kernel, launches[0])))
      return failure();
  }
  os << "// OpenCL C 1.2, generated by pengc (target opencl).\n";
  for (const std::string &ext : used)
    os << "#pragma OPENCL EXTENSION " << ext << " : enable\n";
  os << "\n";
  if (!accumulators.empty())
    printGemmPreamble(os, accumulators);
  os << body;
  if (extensions)
    extensions->assign(used.begin(), used.end());
  return success();
}
