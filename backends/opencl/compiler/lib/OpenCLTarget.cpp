//===- OpenCLTarget.cpp - the opencl target: pipeline and registration ----===//
#include "peng/OpenCL/OpenCLTarget.h"

#include "peng/Compiler/Passes.h"
#include "peng/Compiler/Target.h"
#include "peng/OpenCL/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::peng;
using namespace mlir::peng::opencl;

void mlir::peng::opencl::buildOpenCLPipeline(OpPassManager &pm,
                                             const OpenCLTargetOptions &options) {
  // Temporaries beyond what __local memory holds move to the workspace,
  // global scratch memory the runtime gives each work-group along z.
  PengAllocateWorkspaceOptions workspace;
  workspace.maxStackTemporary = kMaxLocalBytes;
  workspace.maxStackTotal = kMaxLocalBytes;
  pm.addNestedPass<func::FuncOp>(createPengAllocateWorkspace(workspace));
  pm.addNestedPass<func::FuncOp>(createPengOpenCLCheckSupported());
  // A kernel that is one matmul becomes the tiled matmul kernel.
  pm.addNestedPass<func::FuncOp>(createPengOpenCLMatchContractions());
  // Reductions: an scf.parallel over the output, the reduction in sequence
  // in each work-item (a preceding linalg.fill folds into it).
  pm.addNestedPass<func::FuncOp>(createPengOpenCLLowerReductions());
  // One scf.parallel per linalg op. No canonicalization before the mapping:
  // it would merge nested parallel loops.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  // Subviews (pengc's workgroup tiles) and reshapes fold into the loads and
  // stores, which then index the kernel arguments themselves.
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  pm.addPass(createLowerAffinePass());
  PengOpenCLMapWorkItemsOptions map;
  map.maxWorkgroupSize = options.maxWorkgroupSize;
  pm.addNestedPass<func::FuncOp>(createPengOpenCLMapWorkItems(map));
  pm.addPass(createGpuLauchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {

/// Compiles a copy of the split module to OpenCL C.
FailureOr<std::string> compileToSource(ModuleOp source, const OpenCLTargetOptions &options,
                                       std::vector<std::string> *extensions,
                                       OwningOpRef<ModuleOp> *lowered) {
  OwningOpRef<ModuleOp> module(cast<ModuleOp>(source->clone()));
  PassManager pm(module->getContext());
  buildOpenCLPipeline(pm, options);
  if (failed(pm.run(*module)))
    return failure();
  std::string text;
  llvm::raw_string_ostream os(text);
  if (failed(printOpenCL(*module, os, extensions)))
    return failure();
  if (lowered)
    *lowered = std::move(module);
  return text;
}

class OpenCLVariant : public TargetVariant {
public:
  explicit OpenCLVariant(OpenCLTargetOptions options) : options_(options) {}
  std::string describe() const override { return "opencl (OpenCL C 1.2)"; }

  LogicalResult emit(ModuleOp module, StringRef stage, llvm::raw_ostream &os) const override {
    OwningOpRef<ModuleOp> lowered;
    FailureOr<std::string> text = compileToSource(module, options_, nullptr, &lowered);
    if (failed(text))
      return failure();
    if (stage == "mlir")
      lowered->print(os);
    else
      os << *text;
    return success();
  }

  FailureOr<::peng::artifact::Executable>
  compile(ModuleOp module, const std::vector<::peng::artifact::KernelInfo> &kernels,
          const std::vector<::peng::artifact::LaunchInfo> &launches) const override {
    std::vector<std::string> extensions;
    OwningOpRef<ModuleOp> lowered;
    FailureOr<std::string> text = compileToSource(module, options_, &extensions, &lowered);
    if (failed(text))
      return failure();
    // The work-group split is the OpenCL one: the grid rule and work-group
    // size that peng-opencl-map-work-items chose per kernel.
    std::vector<::peng::artifact::LaunchInfo> own = launches;
    for (size_t k = 0; k < kernels.size(); ++k) {
      auto func = lowered->lookupSymbol<func::FuncOp>(kernels[k].name);
      auto grid = func ? func->getAttrOfType<ArrayAttr>("peng.opencl.grid") : nullptr;
      auto size = func ? func->getAttrOfType<ArrayAttr>("peng.opencl.workgroup_size") : nullptr;
      if (!grid || !size || size.size() != 3 || grid.size() > 3)
        return module.emitError("kernel '") << kernels[k].name
                                            << "' has no OpenCL launch shape",
               failure();
      ::peng::artifact::LaunchInfo &l = own[k];
      l = {};
      // Per work-group along z: the host pipeline's and this one's slices.
      if (auto ws = func->getAttrOfType<IntegerAttr>("peng.workspace"))
        l.workspace = uint64_t(ws.getInt());
      for (auto [g, rule] : llvm::enumerate(grid)) {
        auto r = cast<ArrayAttr>(rule);
        l.grid[g] = {uint32_t(cast<IntegerAttr>(r[0]).getInt()),
                     uint32_t(cast<IntegerAttr>(r[1]).getInt()),
                     uint32_t(cast<IntegerAttr>(r[2]).getInt())};
      }
      for (int i = 0; i < 3; ++i)
        l.workgroup_size[i] = uint32_t(cast<IntegerAttr>(size[i]).getInt());
    }
    ::peng::artifact::Executable x = makeExecutable(
        "opencl", "opencl-c", std::vector<uint8_t>(text->begin(), text->end()), kernels, own);
    x.cpu = "OpenCL C 1.2";
    x.features = extensions;
    return x;
  }

private:
  OpenCLTargetOptions options_;
};

class OpenCLTarget : public Target {
public:
  StringRef name() const override { return "opencl"; }
  std::vector<std::string> emitStages() const override { return {"opencl", "mlir"}; }
  std::vector<TargetOption> options() const override {
    return {{"opencl-workgroup-size",
             "work-items along x in an OpenCL work-group, at most (a power of two)", "64"}};
  }
  FailureOr<std::vector<std::unique_ptr<TargetVariant>>>
  variants(const llvm::StringMap<std::string> &values, std::string *error) const override {
    OpenCLTargetOptions options;
    std::string text = values.lookup("opencl-workgroup-size");
    char *rest = nullptr;
    unsigned long size = std::strtoul(text.c_str(), &rest, 10);
    if (text.empty() || *rest || size < 1 || size > 1024 || (size & (size - 1))) {
      *error = "--opencl-workgroup-size: '" + text + "' is not a power of two from 1 to 1024";
      return failure();
    }
    options.maxWorkgroupSize = int64_t(size);
    std::vector<std::unique_ptr<TargetVariant>> out;
    out.push_back(std::make_unique<OpenCLVariant>(options));
    return out;
  }
};

} // namespace

void mlir::peng::opencl::registerOpenCLTargets() {
  TargetRegistry::get().add(std::make_unique<OpenCLTarget>());
}

void mlir::peng::opencl::registerOpenCLPasses() { registerPengOpenCLPasses(); }
