//===- Pipeline.cpp - pengc's target-independent pipeline -----------------===//
#include "peng/Compiler/Pipeline.h"

#include "peng/Compiler/Passes.h"

#include "mlir/Conversion/TosaToArith/TosaToArith.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Conversion/TosaToTensor/TosaToTensor.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::peng::buildFrontendPipeline(OpPassManager &pm) {
  // TOSA first; modules without TOSA pass through unchanged.
  TosaToLinalgOptions tosaOptions;
  // No TOSA validation: it checks every op of the module, linalg kernels
  // included, against a TOSA profile and rejects f64 tensor.empty ops with a
  // message about profiles. peng-check-supported states pengc's own limits.
  tosa::addTosaToLinalgPasses(pm, tosaOptions, TosaToLinalgNamedOptions(), std::nullopt);
  pm.addPass(tosa::createTosaToTensor());
  pm.addPass(tosa::createTosaToArith());
  pm.addPass(createPengCheckSupported());
  pm.addNestedPass<func::FuncOp>(createPengDecomposeAggregates());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createPengAnnotateCost());
}

void mlir::peng::buildKernelPipeline(OpPassManager &pm, const KernelPipelineOptions &options) {
  // After collectKernels has recorded the f16/bf16 signatures.
  pm.addNestedPass<func::FuncOp>(createPengExpandHalfFloats());
  pm.addPass(createPengPrepareKernelAbi());
  pm.addPass(createCanonicalizerPass());
  PengDistributeWorkgroupsOptions distribute;
  distribute.maxWorkgroups = options.maxWorkgroups;
  distribute.tileMultiple = options.workgroupTileMultiple;
  distribute.minContractionTile = options.minContractionTile;
  pm.addNestedPass<func::FuncOp>(createPengDistributeWorkgroups(distribute));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createPengUntieEmptyTensors());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizationOptions bufferize;
  // Kernel images import nothing, malloc included: temporaries go on the
  // stack, and peng-allocate-workspace later moves the large ones into the
  // workspace the runtime provides.
  bufferize.allocationFn = [](OpBuilder &b, Location loc, MemRefType type, ValueRange dynamic,
                              unsigned alignment) -> FailureOr<Value> {
    return b
        .create<memref::AllocaOp>(loc, type, dynamic,
                                  b.getI64IntegerAttr(std::max(alignment, 64u)))
        .getResult();
  };
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createPengForallToWorkgroup());
  pm.addNestedPass<func::FuncOp>(createPengAllocateWorkspace());
  pm.addNestedPass<func::FuncOp>(createPengCopiesToLinalg());
  pm.addPass(createCanonicalizerPass());
}
