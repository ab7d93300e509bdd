//===- pengc.cpp - the Peng kernel compiler -------------------------------===//
//
//   pengc kernels.mlir -o kernels.peng --targets=host,rvv
//   pengc kernels.mlir --targets=rvv --emit=asm      # show one stage
//
// Compiles every public func.func of a module (linalg/tensor/arith/math on
// tensors, or TOSA) into one module.peng holding each kernel's signature,
// cost figures and per-target code. See docs/compiler.md.
//
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Artifact.h"
#include "peng/Compiler/Passes.h"
#include "peng/Compiler/Pipeline.h"
#include "peng/Cpu/CpuTarget.h"
#include "peng/Cpu/Passes.h"

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

using namespace mlir;
namespace cpu = mlir::peng::cpu;

namespace {
struct Options {
  std::string input;
  std::string output;
  std::vector<std::string> targets{"host"};
  std::string rvvVlen = "any";
  std::vector<std::string> hostCpus{"x86-64-v3"};
  std::string emit;
  int64_t maxWorkgroups = 32;
  bool verbose = false;
};

struct TargetSpec {
  std::string name; // as in module.peng
  cpu::CpuTargetOptions cpu;
  cpu::CpuIsa isa;
};
} // namespace

static LogicalResult parseTargets(const Options &o, std::vector<TargetSpec> *out) {
  std::vector<unsigned> vlens;
  if (o.rvvVlen != "any") {
    // "--rvv-vlen=256" or "any,256,512": extra VLEN-specialised variants.
    std::string list = o.rvvVlen;
    size_t start = 0;
    bool any = false;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      std::string v = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (v == "any") {
        any = true;
      } else {
        char *rest = nullptr;
        unsigned long n = std::strtoul(v.c_str(), &rest, 10);
        if (v.empty() || *rest || n < 128 || n > 65536 || (n & (n - 1))) {
          llvm::errs() << "pengc: --rvv-vlen: '" << v
                       << "' is not 'any' or a power of two from 128\n";
          return failure();
        }
        vlens.push_back(unsigned(n));
      }
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
    if (any)
      vlens.insert(vlens.begin(), 0);
  } else {
    vlens.push_back(0);
  }
  for (const std::string &t : o.targets) {
    if (t == "host") {
      // One variant per CPU: the runtime runs the best one the machine has.
      for (const std::string &c : o.hostCpus) {
        cpu::CpuTargetOptions options;
        options.hostCpu = c;
        out->push_back({"host", options, {}});
      }
    } else if (t == "rvv") {
      for (unsigned v : vlens) {
        cpu::CpuTargetOptions options;
        options.arch = cpu::CpuArch::Rvv;
        options.rvvVlen = v;
        out->push_back({"rvv", options, {}});
      }
    } else {
      llvm::errs() << "pengc: unknown target '" << t << "' (targets: host, rvv)\n";
      return failure();
    }
  }
  if (out->empty()) {
    llvm::errs() << "pengc: no targets\n";
    return failure();
  }
  for (TargetSpec &t : *out) {
    std::string error;
    FailureOr<cpu::CpuIsa> isa = cpu::resolveIsa(t.cpu, &error);
    if (failed(isa)) {
      llvm::errs() << "pengc: --host-cpu: " << error << "\n";
      return failure();
    }
    t.isa = *isa;
  }
  for (size_t i = 0; i < out->size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if ((*out)[i].name == (*out)[j].name && (*out)[i].isa.cpu == (*out)[j].isa.cpu &&
          (*out)[i].cpu.rvvVlen == (*out)[j].cpu.rvvVlen) {
        llvm::errs() << "pengc: two " << (*out)[i].name << " variants for "
                     << (*out)[i].isa.cpu << "\n";
        return failure();
      }
    }
  }
  return success();
}

static int run(const Options &o) {
  std::vector<TargetSpec> targets;
  if (failed(parseTargets(o, &targets)))
    return 2;
  cpu::EmitStage emit = cpu::EmitStage::Code;
  if (o.emit == "mlir")
    emit = cpu::EmitStage::Mlir;
  else if (o.emit == "llvm")
    emit = cpu::EmitStage::Llvm;
  else if (o.emit == "asm")
    emit = cpu::EmitStage::Asm;
  else if (!o.emit.empty()) {
    llvm::errs() << "pengc: --emit must be mlir, llvm or asm\n";
    return 2;
  }
  if (emit == cpu::EmitStage::Code && o.output.empty()) {
    llvm::errs() << "pengc: -o FILE is required unless --emit is given\n";
    return 2;
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
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
  mlir::peng::buildFrontendPipeline(frontend);
  if (failed(frontend.run(*module)))
    return 1;
  auto kernels = mlir::peng::collectKernels(*module);
  if (failed(kernels))
    return 1;
  PassManager kernelPipeline(&context);
  mlir::peng::KernelPipelineOptions pipelineOptions;
  pipelineOptions.maxWorkgroups = o.maxWorkgroups;
  pipelineOptions.workgroupTileMultiple = cpu::kMatmulTileRows;
  // A matmul workgroup of 8 register tiles' rows amortises packing B.
  pipelineOptions.minContractionTile = 8 * cpu::kMatmulTileRows;
  mlir::peng::buildKernelPipeline(kernelPipeline, pipelineOptions);
  if (failed(kernelPipeline.run(*module)))
    return 1;
  auto launches = mlir::peng::collectLaunches(*module, *kernels);
  if (failed(launches))
    return 1;

  if (emit != cpu::EmitStage::Code) {
    std::string outPath = o.output.empty() ? "-" : o.output;
    auto out = openOutputFile(outPath, &error);
    if (!out) {
      llvm::errs() << "pengc: " << error << "\n";
      return 1;
    }
    for (const TargetSpec &t : targets) {
      out->os() << "// ---- pengc target " << t.name << " (" << t.isa.cpu << ")";
      if (t.cpu.rvvVlen)
        out->os() << " (VLEN " << t.cpu.rvvVlen << ")";
      out->os() << " ----\n";
      if (failed(cpu::compileCpuModule(*module, t.cpu, emit, &out->os())))
        return 1;
    }
    out->keep();
    return 0;
  }

  ::peng::artifact::ModuleFile file_;
  for (const TargetSpec &t : targets) {
    FailureOr<std::vector<uint8_t>> elf = cpu::compileCpuModule(*module, t.cpu);
    if (failed(elf))
      return 1;
    // One image per target variant holds every kernel.
    ::peng::artifact::Executable x;
    x.target = t.name;
    x.format = "elf";
    x.arch = cpu::elfArchName(t.cpu.arch);
    x.cpu = t.isa.cpu;
    x.features = t.isa.features;
    x.min_vlen = t.cpu.rvvVlen;
    x.max_vlen = t.cpu.rvvVlen;
    x.code = std::move(*elf);
    for (size_t k = 0; k < kernels->size(); ++k) {
      ::peng::artifact::Entry e;
      e.kernel = uint32_t(k);
      e.symbol = (*kernels)[k].name;
      e.launch = (*launches)[k];
      x.entries.push_back(std::move(e));
    }
    file_.executables.push_back(std::move(x));
  }
  file_.producer = "pengc 0.1.0";
  file_.kernels = std::move(*kernels);
  std::vector<uint8_t> bytes = ::peng::artifact::Serialize(file_);
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

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"pengc: compiles linalg/TOSA kernels into a module.peng for the Peng runtime"};
  app.add_option("input", o.input, "kernel module (.mlir)")->required();
  app.add_option("-o,--output", o.output, "output module.peng (or the --emit text; - for stdout)");
  app.add_option("--targets", o.targets, "comma-separated: host, rvv")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rvv-vlen", o.rvvVlen,
                 "any (VLEN-agnostic), a VLEN such as 256, or a list like any,256 "
                 "for extra VLEN-specialised variants")
      ->capture_default_str();
  app.add_option("--host-cpu", o.hostCpus,
                 "CPU(s) host code is for: an LLVM CPU name (x86-64-v3, x86-64-v4, znver3), "
                 "native (this machine), or a list such as x86-64-v4,x86-64-v3 for one variant "
                 "each; the runtime runs the best one the machine has")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--emit", o.emit, "print a stage instead of a module: mlir, llvm or asm");
  app.add_option("--max-workgroups", o.maxWorkgroups, "workgroups a kernel splits into, at most")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20))
      ->capture_default_str();
  app.add_flag("-v,--verbose", o.verbose, "print the offending op's IR with each diagnostic");
  CLI11_PARSE(app, argc, argv);
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
