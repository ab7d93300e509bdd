//===- Driver.cpp - the Peng kernel compiler's command line ---------------===//
//
//   pengc kernels.mlir -o kernels.peng --targets=host,rvv
//   pengc kernels.mlir --targets=rvv --emit=asm      # show one stage
//
// Compiles every public func.func of a module (linalg/tensor/arith/math on
// tensors, or TOSA) into one module.peng holding each kernel's signature and
// cost figures, and an executable per target variant. Targets come from
// TargetRegistry (backends/*/compiler). See docs/compiler.md.
//
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Driver.h"

#include "peng/Compiler/Artifact.h"
#include "peng/Compiler/Pipeline.h"
#include "peng/Compiler/Target.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

using namespace mlir;
using namespace mlir::peng;

namespace {
struct Options {
  std::string input;
  std::string output;
  std::vector<std::string> targets{"host"};
  llvm::StringMap<std::string> targetOptions; // --host-cpu etc., by name
  std::string emit;
  int64_t maxWorkgroups = 32;
  bool verbose = false;
};

/// The variants of one pipeline setting: they share the target-independent
/// pipeline's output.
struct Group {
  KernelPipelineOptions pipeline;
  std::vector<size_t> variants; // indices into the variant list
};

bool samePipeline(const KernelPipelineOptions &a, const KernelPipelineOptions &b) {
  return a.maxWorkgroups == b.maxWorkgroups && a.workgroupTileMultiple == b.workgroupTileMultiple &&
         a.minContractionTile == b.minContractionTile;
}
} // namespace

static int run(const Options &o) {
  const TargetRegistry &registry = TargetRegistry::get();
  // Variants in command-line order; the executables keep it.
  std::vector<std::unique_ptr<TargetVariant>> variants;
  std::vector<const Target *> variantTarget;
  std::vector<Group> groups;
  for (const std::string &name : o.targets) {
    const Target *target = registry.find(name);
    if (!target) {
      llvm::errs() << "pengc: unknown target '" << name << "' (targets: " << registry.names()
                   << ")\n";
      return 2;
    }
    if (llvm::is_contained(variantTarget, target)) {
      llvm::errs() << "pengc: target '" << name << "' is named twice\n";
      return 2;
    }
    if (!o.emit.empty() && !llvm::is_contained(target->emitStages(), o.emit)) {
      std::string stages;
      for (const std::string &s : target->emitStages())
        stages += (stages.empty() ? "" : ", ") + s;
      llvm::errs() << "pengc: --emit=" << o.emit << ": target " << name << " prints " << stages
                   << "\n";
      return 2;
    }
    std::string error;
    auto made = target->variants(o.targetOptions, &error);
    if (failed(made)) {
      llvm::errs() << "pengc: " << error << "\n";
      return 2;
    }
    KernelPipelineOptions pipeline = target->pipelineOptions();
    pipeline.maxWorkgroups = o.maxWorkgroups;
    Group *group = nullptr;
    for (Group &g : groups)
      if (samePipeline(g.pipeline, pipeline))
        group = &g;
    if (!group)
      group = &groups.emplace_back(Group{pipeline, {}});
    for (auto &v : *made) {
      group->variants.push_back(variants.size());
      variants.push_back(std::move(v));
      variantTarget.push_back(target);
    }
  }
  if (variants.empty()) {
    llvm::errs() << "pengc: no targets\n";
    return 2;
  }
  if (o.emit.empty() && o.output.empty()) {
    llvm::errs() << "pengc: -o FILE is required unless --emit is given\n";
    return 2;
  }

  DialectRegistry dialects;
  registerAllDialects(dialects);
  registerAllExtensions(dialects);
  registerAllToLLVMIRTranslations(dialects);
  MLIRContext context(dialects);
  context.loadAllAvailableDialects();
  // A diagnostic names the op and its source location; the op's IR (often
  // dozens of lines of lowered code) only on request.
  context.printOpOnDiagnostic(o.verbose);
  context.printStackTraceOnDiagnostic(o.verbose);

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(o.input, &error);
  if (!file) {
    llvm::errs() << "pengc: " << error << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  PassManager frontend(&context);
  buildFrontendPipeline(frontend);
  if (failed(frontend.run(*module)))
    return 1;
  auto kernels = collectKernels(*module);
  if (failed(kernels))
    return 1;

  std::unique_ptr<llvm::ToolOutputFile> emitOut;
  if (!o.emit.empty()) {
    emitOut = openOutputFile(o.output.empty() ? "-" : o.output, &error);
    if (!emitOut) {
      llvm::errs() << "pengc: " << error << "\n";
      return 1;
    }
  }
  std::vector<std::optional<::peng::artifact::Executable>> executables(variants.size());
  std::vector<std::string> emitted(variants.size());
  for (const Group &group : groups) {
    // Each pipeline setting splits its own copy of the kernels.
    OwningOpRef<ModuleOp> split(cast<ModuleOp>((*module)->clone()));
    PassManager kernelPipeline(&context);
    buildKernelPipeline(kernelPipeline, group.pipeline);
    if (failed(kernelPipeline.run(*split)))
      return 1;
    auto launches = collectLaunches(*split, *kernels);
    if (failed(launches))
      return 1;
    for (size_t v : group.variants) {
      if (!o.emit.empty()) {
        llvm::raw_string_ostream os(emitted[v]);
        os << "// ---- pengc target " << variants[v]->describe() << " ----\n";
        if (failed(variants[v]->emit(*split, o.emit, os)))
          return 1;
        continue;
      }
      auto x = variants[v]->compile(*split, *kernels, *launches);
      if (failed(x))
        return 1;
      executables[v] = std::move(*x);
    }
  }

  if (!o.emit.empty()) {
    for (const std::string &text : emitted)
      emitOut->os() << text;
    emitOut->keep();
    return 0;
  }
  ::peng::artifact::ModuleFile out;
  out.producer = "pengc 0.1.0";
  out.kernels = std::move(*kernels);
  for (auto &x : executables)
    out.executables.push_back(std::move(*x));
  std::vector<uint8_t> bytes = ::peng::artifact::Serialize(out);
  std::ofstream os(o.output, std::ios::binary | std::ios::trunc);
  os.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
  os.close();
  if (!os) {
    llvm::errs() << "pengc: cannot write '" << o.output << "'\n";
    std::remove(o.output.c_str());
    return 1;
  }
  return 0;
}

int mlir::peng::pengcMain(int argc, char **argv) {
  Options o;
  const TargetRegistry &registry = TargetRegistry::get();
  CLI::App app{"pengc: compiles linalg/TOSA kernels into a module.peng for the Peng runtime"};
  app.add_option("input", o.input, "kernel module (.mlir)")->required();
  app.add_option("-o,--output", o.output, "output module.peng (or the --emit text; - for stdout)");
  app.add_option("--targets", o.targets, "comma-separated: " + registry.names())
      ->delimiter(',')
      ->capture_default_str();
  // Each target's own options; values are kept as text for the target to read.
  std::map<std::string, std::string> values;
  for (const auto &target : registry.targets()) {
    for (const TargetOption &opt : target->options()) {
      values[opt.name] = opt.defaultValue;
      app.add_option("--" + opt.name, values[opt.name], opt.help + " (target " +
                                                            target->name().str() + ")")
          ->capture_default_str();
    }
  }
  app.add_option("--emit", o.emit, "print a stage instead of a module (mlir, llvm, asm, ...)");
  app.add_option("--max-workgroups", o.maxWorkgroups, "workgroups a kernel splits into, at most")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20))
      ->capture_default_str();
  app.add_flag("-v,--verbose", o.verbose, "print the offending op's IR with each diagnostic");
  CLI11_PARSE(app, argc, argv);
  for (const auto &[name, value] : values)
    o.targetOptions[name] = value;
  // Safety net: LLVM reports some unsupported codegen by a fatal error, which
  // aborts. pengc exits with a message and status 1 instead.
  llvm::install_fatal_error_handler([](void *, const char *reason, bool) {
    llvm::errs() << "pengc: internal compiler error: " << reason
                 << "\npengc: this input is not supported; please report it\n";
    llvm::errs().flush();
    std::_Exit(1);
  });
  return run(o);
}
