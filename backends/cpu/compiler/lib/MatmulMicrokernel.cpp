//===- MatmulMicrokernel.cpp - register-blocked f32 matmul ----------------===//
//
// C[M,N] += A[M,K] * B[K,N] as tiles of R rows x V vectors held in registers
// across the K loop. Per k: V vector loads of B's row k, R scalar loads of A
// and R*V broadcast-FMAs. See Passes.td for the contract.
//
//===----------------------------------------------------------------------===//
#include "peng/Cpu/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::peng::cpu {
#define GEN_PASS_DEF_PENGCPUMATMULMICROKERNEL
#include "peng/Cpu/Passes.h.inc"
} // namespace mlir::peng::cpu

using namespace mlir;

namespace {

struct TileShape {
  int64_t rows;
  int64_t vectors;
  int64_t width; // lanes per vector (times vscale when scalable)
  bool scalable;
};

/// Emits the loop nest for one matmul; `op` is erased by the caller.
class MicrokernelEmitter {
public:
  MicrokernelEmitter(RewriterBase &rewriter, linalg::MatmulOp op, TileShape shape)
      : b(rewriter), loc(op.getLoc()), shape(shape) {
    a = op.getDpsInputs()[0];
    bMat = op.getDpsInputs()[1];
    c = op.getDpsInits()[0];
    vecType = VectorType::get({shape.width}, b.getF32Type(), {shape.scalable});
    maskType = VectorType::get({shape.width}, b.getI1Type(), {shape.scalable});
  }

  void emit() {
    Value m = b.createOrFold<memref::DimOp>(loc, c, 0);
    n = b.createOrFold<memref::DimOp>(loc, c, 1);
    k = b.createOrFold<memref::DimOp>(loc, a, 1);
    lanes = index(shape.width);
    if (shape.scalable)
      lanes = b.create<arith::MulIOp>(loc, b.create<vector::VectorScaleOp>(loc), lanes);
    zeroVec = b.create<arith::ConstantOp>(loc, vecType,
                                          SplatElementsAttr::get(vecType, b.getF32FloatAttr(0)));
    Value rows = index(shape.rows);
    Value mMain = b.create<arith::SubIOp>(loc, m, b.create<arith::RemUIOp>(loc, m, rows));
    rowLoop(index(0), mMain, shape.rows);
    if (shape.rows > 1)
      rowLoop(mMain, m, 1);
  }

private:
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  /// Row blocks of `rows` in [lo, hi): full column blocks, then masked single vectors.
  void rowLoop(Value lo, Value hi, int64_t rows) {
    b.create<scf::ForOp>(loc, lo, hi, index(rows), ValueRange{},
                         [&](OpBuilder &, Location, Value i, ValueRange) {
                           Value block = b.create<arith::MulIOp>(loc, lanes, index(shape.vectors));
                           Value nMain = b.create<arith::SubIOp>(
                               loc, n, b.create<arith::RemUIOp>(loc, n, block));
                           b.create<scf::ForOp>(loc, index(0), nMain, block, ValueRange{},
                                                [&](OpBuilder &, Location, Value j, ValueRange) {
                                                  tile(i, j, rows, shape.vectors, nullptr);
                                                  b.create<scf::YieldOp>(loc);
                                                });
                           b.create<scf::ForOp>(
                               loc, nMain, n, lanes, ValueRange{},
                               [&](OpBuilder &, Location, Value j, ValueRange) {
                                 Value left = b.create<arith::SubIOp>(loc, n, j);
                                 Value count = b.create<arith::MinUIOp>(loc, left, lanes);
                                 Value mask = b.create<vector::CreateMaskOp>(loc, maskType,
                                                                             ValueRange{count});
                                 tile(i, j, rows, 1, mask);
                                 b.create<scf::YieldOp>(loc);
                               });
                           b.create<scf::YieldOp>(loc);
                         });
  }

  Value load(Value memref, Value row, Value col, Value mask) {
    if (mask)
      return b.create<vector::MaskedLoadOp>(loc, vecType, memref, ValueRange{row, col}, mask,
                                            zeroVec);
    return b.create<vector::LoadOp>(loc, vecType, memref, ValueRange{row, col});
  }

  void store(Value value, Value memref, Value row, Value col, Value mask) {
    if (mask)
      b.create<vector::MaskedStoreOp>(loc, memref, ValueRange{row, col}, mask, value);
    else
      b.create<vector::StoreOp>(loc, value, memref, ValueRange{row, col});
  }

  /// One register tile at (i, j): accumulators in, K loop, accumulators out.
  void tile(Value i, Value j, int64_t rows, int64_t vectors, Value mask) {
    SmallVector<Value> rowIdx, colIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(r ? b.create<arith::AddIOp>(loc, i, index(r)) : i);
    for (int64_t v = 0; v < vectors; ++v)
      colIdx.push_back(v ? b.create<arith::AddIOp>(
                               loc, j, b.create<arith::MulIOp>(loc, lanes, index(v)))
                         : j);
    SmallVector<Value> acc;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        acc.push_back(load(c, rowIdx[r], colIdx[v], mask));
    auto kLoop = b.create<scf::ForOp>(
        loc, index(0), k, index(1), acc,
        [&](OpBuilder &, Location, Value kk, ValueRange carried) {
          SmallVector<Value> bRow;
          for (int64_t v = 0; v < vectors; ++v)
            bRow.push_back(load(bMat, kk, colIdx[v], mask));
          SmallVector<Value> next;
          for (int64_t r = 0; r < rows; ++r) {
            Value s = b.create<memref::LoadOp>(loc, a, ValueRange{rowIdx[r], kk});
            Value splat = b.create<vector::BroadcastOp>(loc, vecType, s);
            for (int64_t v = 0; v < vectors; ++v)
              next.push_back(
                  b.create<vector::FMAOp>(loc, splat, bRow[v], carried[r * vectors + v]));
          }
          b.create<scf::YieldOp>(loc, next);
        });
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        store(kLoop.getResult(r * vectors + v), c, rowIdx[r], colIdx[v], mask);
  }

  RewriterBase &b;
  Location loc;
  TileShape shape;
  Value a, bMat, c, n, k, lanes, zeroVec;
  VectorType vecType, maskType;
};

/// Whether the matmul is one this kernel handles: f32 buffers with contiguous rows.
bool isSupported(linalg::MatmulOp op) {
  if (!op.hasPureBufferSemantics())
    return false;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
        !isLastMemrefDimUnitStride(type))
      return false;
  }
  return true;
}

struct PengCpuMatmulMicrokernelPass
    : mlir::peng::cpu::impl::PengCpuMatmulMicrokernelBase<PengCpuMatmulMicrokernelPass> {
  using PengCpuMatmulMicrokernelBase::PengCpuMatmulMicrokernelBase;

  TileShape shapeFor(linalg::MatmulOp op) {
    TileShape s{rows, vectorsPerRow, vectorWidth, scalable};
    if (!scalable || !autoWidth)
      return s;
    int64_t n = cast<MemRefType>(op.getDpsInits()[0].getType()).getDimSize(1);
    // At the smallest VLEN (128) vector<[w]xf32> holds 2w lanes.
    s.width = ShapedType::isDynamic(n) || n >= 16 ? 8 : n >= 8 ? 4 : 2;
    int64_t lmul = s.width / 2;
    s.vectors = 1;
    // Accumulators plus one B vector within the 32 registers, with one
    // vector to spare: 6 rows at LMUL 4 (the CPU targets' kMatmulTileRows).
    s.rows = std::min<int64_t>(8, (32 - 2 * lmul) / lmul);
    return s;
  }

  void runOnOperation() override {
    if (rows < 1 || vectorsPerRow < 1 || vectorWidth < 1) {
      getOperation().emitError("peng-cpu-matmul-microkernel: sizes must be positive");
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (isSupported(op))
        matmuls.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::MatmulOp op : matmuls) {
      rewriter.setInsertionPoint(op);
      MicrokernelEmitter(rewriter, op, shapeFor(op)).emit();
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
