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

#include <functional>

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
  int64_t kUnroll;
  int64_t packKc; // 0: B read in place; else K block of the packed B panel
};

/// Emits the loop nest for one matmul; `op` is erased by the caller.
///
///   for kc in K by packKc:                       (one block when not packing)
///     for j in full column blocks (V vectors):
///       [pack B[kc.., j..] into a contiguous panel]
///       for i in rows by R, then the rest by 1:  register tile (i, j)
///     for j in the remaining columns, one vector at a time, masked:
///       for i in rows:                           register tile, B in place
class MicrokernelEmitter {
public:
  MicrokernelEmitter(RewriterBase &rewriter, Location loc, Value a, Value bMat, Value c,
                     TileShape shape)
      : b(rewriter), loc(loc), shape(shape), a(a), bMat(bMat), c(c) {
    vecType = VectorType::get({shape.width}, b.getF32Type(), {shape.scalable});
    maskType = VectorType::get({shape.width}, b.getI1Type(), {shape.scalable});
  }

  void emit() {
    m = b.createOrFold<memref::DimOp>(loc, c, 0);
    n = b.createOrFold<memref::DimOp>(loc, c, 1);
    k = b.createOrFold<memref::DimOp>(loc, a, 1);
    lanes = index(shape.width);
    if (shape.scalable)
      lanes = b.create<arith::MulIOp>(loc, b.create<vector::VectorScaleOp>(loc), lanes);
    zeroVec = b.create<arith::ConstantOp>(loc, vecType,
                                          SplatElementsAttr::get(vecType, b.getF32FloatAttr(0)));
    block = b.create<arith::MulIOp>(loc, lanes, index(shape.vectors));
    nMain = b.create<arith::SubIOp>(loc, n, b.create<arith::RemUIOp>(loc, n, block));
    Value rows = index(shape.rows);
    mMain = b.create<arith::SubIOp>(loc, m, b.create<arith::RemUIOp>(loc, m, rows));
    if (!shape.packKc) {
      columns(index(0), k);
      return;
    }
    // The panel lives on the stack, allocated once: packKc x (V vectors).
    int64_t blockLanes = shape.width * shape.vectors;
    if (shape.scalable) {
      auto type = MemRefType::get({shape.packKc, ShapedType::kDynamic}, b.getF32Type());
      panel = b.create<memref::AllocaOp>(loc, type, ValueRange{block}, b.getI64IntegerAttr(64));
    } else {
      auto type = MemRefType::get({shape.packKc, blockLanes}, b.getF32Type());
      panel = b.create<memref::AllocaOp>(loc, type, ValueRange{}, b.getI64IntegerAttr(64));
    }
    Value kc = index(shape.packKc);
    b.create<scf::ForOp>(loc, index(0), k, kc, ValueRange{},
                         [&](OpBuilder &, Location, Value k0, ValueRange) {
                           Value k1 = b.create<arith::MinUIOp>(
                               loc, b.create<arith::AddIOp>(loc, k0, kc), k);
                           columns(k0, k1);
                           b.create<scf::YieldOp>(loc);
                         });
  }

private:
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  void forLoop(Value lo, Value hi, Value step, const std::function<void(Value)> &body) {
    b.create<scf::ForOp>(loc, lo, hi, step, ValueRange{},
                         [&](OpBuilder &, Location, Value iv, ValueRange) {
                           body(iv);
                           b.create<scf::YieldOp>(loc);
                         });
  }

  /// All of C for the K range [k0, k1).
  void columns(Value k0, Value k1) {
    forLoop(index(0), nMain, block, [&](Value j) {
      if (panel)
        pack(k0, k1, j);
      rowTiles(j, shape.vectors, nullptr, k0, k1, panel);
    });
    forLoop(nMain, n, lanes, [&](Value j) {
      Value count = b.create<arith::MinUIOp>(loc, b.create<arith::SubIOp>(loc, n, j), lanes);
      Value mask = b.create<vector::CreateMaskOp>(loc, maskType, ValueRange{count});
      rowTiles(j, 1, mask, k0, k1, nullptr);
    });
  }

  void rowTiles(Value j, int64_t vectors, Value mask, Value k0, Value k1, Value bPanel) {
    forLoop(index(0), mMain, index(shape.rows),
            [&](Value i) { tile(i, j, shape.rows, vectors, mask, k0, k1, bPanel); });
    if (shape.rows > 1)
      forLoop(mMain, m, index(1), [&](Value i) { tile(i, j, 1, vectors, mask, k0, k1, bPanel); });
  }

  /// panel[kk - k0, :] = B[kk, j : j + block] for kk in [k0, k1): contiguous
  /// rows of B for the tiles, whatever B's row stride.
  void pack(Value k0, Value k1, Value j) {
    forLoop(k0, k1, index(1), [&](Value kk) {
      Value row = b.create<arith::SubIOp>(loc, kk, k0);
      for (int64_t v = 0; v < shape.vectors; ++v) {
        Value off = b.create<arith::MulIOp>(loc, lanes, index(v));
        Value col = b.create<arith::AddIOp>(loc, j, off);
        Value x = b.create<vector::LoadOp>(loc, vecType, bMat, ValueRange{kk, col});
        b.create<vector::StoreOp>(loc, x, panel, ValueRange{row, off});
      }
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

  /// One register tile at (i, j) over K in [k0, k1): accumulators in, K loop,
  /// accumulators out. B comes from the packed panel when given.
  void tile(Value i, Value j, int64_t rows, int64_t vectors, Value mask, Value k0, Value k1,
            Value bPanel) {
    SmallVector<Value> rowIdx, colIdx, panelCol;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(r ? b.create<arith::AddIOp>(loc, i, index(r)) : i);
    for (int64_t v = 0; v < vectors; ++v) {
      Value off = v ? b.create<arith::MulIOp>(loc, lanes, index(v)) : index(0);
      panelCol.push_back(off);
      colIdx.push_back(v ? b.create<arith::AddIOp>(loc, j, off) : j);
    }
    SmallVector<Value> acc;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        acc.push_back(load(c, rowIdx[r], colIdx[v], mask));
    // One k step: a row of B per vector, a broadcast of A per row, FMAs.
    auto step = [&](Value kk, ValueRange carried) {
      SmallVector<Value> bRow;
      Value panelRow = bPanel ? b.create<arith::SubIOp>(loc, kk, k0) : Value();
      for (int64_t v = 0; v < vectors; ++v)
        bRow.push_back(bPanel ? b.create<vector::LoadOp>(loc, vecType, bPanel,
                                                         ValueRange{panelRow, panelCol[v]})
                              : load(bMat, kk, colIdx[v], mask));
      SmallVector<Value> next;
      for (int64_t r = 0; r < rows; ++r) {
        Value s = b.create<memref::LoadOp>(loc, a, ValueRange{rowIdx[r], kk});
        Value splat = b.create<vector::BroadcastOp>(loc, vecType, s);
        for (int64_t v = 0; v < vectors; ++v)
          next.push_back(b.create<vector::FMAOp>(loc, splat, bRow[v], carried[r * vectors + v]));
      }
      return next;
    };
    // K unrolled by kUnroll (fewer loop instructions per FMA), then the rest.
    Value kRest = k0;
    SmallVector<Value> carriedIn(acc.begin(), acc.end());
    if (shape.kUnroll > 1) {
      Value unroll = index(shape.kUnroll);
      Value span = b.create<arith::SubIOp>(loc, k1, k0);
      kRest = b.create<arith::SubIOp>(loc, k1, b.create<arith::RemUIOp>(loc, span, unroll));
      auto mainLoop = b.create<scf::ForOp>(
          loc, k0, kRest, unroll, acc, [&](OpBuilder &, Location, Value kk, ValueRange carried) {
            SmallVector<Value> cur(carried.begin(), carried.end());
            for (int64_t t = 0; t < shape.kUnroll; ++t)
              cur = step(t ? b.create<arith::AddIOp>(loc, kk, index(t)) : kk, cur);
            b.create<scf::YieldOp>(loc, cur);
          });
      carriedIn.assign(mainLoop.getResults().begin(), mainLoop.getResults().end());
    }
    auto kLoop = b.create<scf::ForOp>(loc, kRest, k1, index(1), carriedIn,
                                      [&](OpBuilder &, Location, Value kk, ValueRange carried) {
                                        b.create<scf::YieldOp>(loc, step(kk, carried));
                                      });
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        store(kLoop.getResult(r * vectors + v), c, rowIdx[r], colIdx[v], mask);
  }

  RewriterBase &b;
  Location loc;
  TileShape shape;
  Value a, bMat, c;
  Value m, n, k, lanes, zeroVec, block, nMain, mMain, panel;
  VectorType vecType, maskType;
};

/// Whether this is a contraction the micro-kernel handles: a matmul or
/// batch_matmul on f32 buffers whose rows are contiguous.
bool isSupported(linalg::LinalgOp op) {
  if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op.getOperation()) ||
      !op.hasPureBufferSemantics())
    return false;
  int64_t rank = isa<linalg::MatmulOp>(op.getOperation()) ? 2 : 3;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || type.getRank() != rank || !type.getElementType().isF32() ||
        !isLastMemrefDimUnitStride(type))
      return false;
  }
  return true;
}

/// The 2-D matrix `index` of a batch of them: a rank-reducing subview.
Value batchSlice(OpBuilder &b, Location loc, Value batch, Value index) {
  auto type = cast<MemRefType>(batch.getType());
  SmallVector<OpFoldResult> offsets = {index, b.getIndexAttr(0), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                     memref::getMixedSize(b, loc, batch, 1),
                                     memref::getMixedSize(b, loc, batch, 2)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  auto sliceType = memref::SubViewOp::inferRankReducedResultType(
      {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes, strides);
  return b.create<memref::SubViewOp>(loc, cast<MemRefType>(sliceType), batch, offsets, sizes,
                                     strides);
}

struct PengCpuMatmulMicrokernelPass
    : mlir::peng::cpu::impl::PengCpuMatmulMicrokernelBase<PengCpuMatmulMicrokernelPass> {
  using PengCpuMatmulMicrokernelBase::PengCpuMatmulMicrokernelBase;

  TileShape shapeFor(linalg::LinalgOp op) {
    TileShape s{rows, vectorsPerRow, vectorWidth, scalable, std::max<int64_t>(kUnroll, 1),
                std::max<int64_t>(packKc, 0)};
    if (!scalable || !autoWidth)
      return s;
    auto out = cast<MemRefType>(op.getDpsInits()[0].getType());
    int64_t n = out.getDimSize(out.getRank() - 1);
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
    SmallVector<linalg::LinalgOp> contractions;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isSupported(op))
        contractions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions) {
      rewriter.setInsertionPoint(op);
      Location loc = op.getLoc();
      Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1], c = op.getDpsInits()[0];
      TileShape shape = shapeFor(op);
      if (isa<linalg::MatmulOp>(op.getOperation())) {
        MicrokernelEmitter(rewriter, loc, a, b, c, shape).emit();
      } else {
        // batch_matmul: one matmul per batch entry.
        Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
        Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
        Value batches = rewriter.createOrFold<memref::DimOp>(loc, c, 0);
        rewriter.create<scf::ForOp>(
            loc, zero, batches, one, ValueRange{},
            [&](OpBuilder &nested, Location, Value i, ValueRange) {
              OpBuilder::InsertionGuard guard(rewriter);
              rewriter.setInsertionPointToEnd(nested.getInsertionBlock());
              MicrokernelEmitter(rewriter, loc, batchSlice(rewriter, loc, a, i),
                                 batchSlice(rewriter, loc, b, i), batchSlice(rewriter, loc, c, i),
                                 shape)
                  .emit();
              rewriter.create<scf::YieldOp>(loc);
            });
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
