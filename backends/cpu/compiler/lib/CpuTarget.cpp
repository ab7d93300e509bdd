//===- CpuTarget.cpp - host and rvv code generation -----------------------===//
#include "peng/Cpu/CpuTarget.h"

#include "peng/Cpu/Passes.h"

#include "isa_features.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include "lld/Common/Driver.h"

#include <mutex>

LLD_HAS_DRIVER(elf)

extern "C" {
void LLVMInitializeX86TargetInfo();
void LLVMInitializeX86Target();
void LLVMInitializeX86TargetMC();
void LLVMInitializeX86AsmPrinter();
void LLVMInitializeRISCVTargetInfo();
void LLVMInitializeRISCVTarget();
void LLVMInitializeRISCVTargetMC();
void LLVMInitializeRISCVAsmPrinter();
}

using namespace mlir;
using namespace mlir::peng::cpu;

const char *mlir::peng::cpu::targetName(CpuArch arch) {
  return arch == CpuArch::Host ? "host" : "rvv";
}
const char *mlir::peng::cpu::elfArchName(CpuArch arch) {
  return arch == CpuArch::Host ? "x86_64" : "riscv64";
}

namespace {
struct Machine {
  std::string triple, cpu, features, abi;
};
} // namespace

static const llvm::Target *lookupTarget(const std::string &triple, std::string *error) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeRISCVTargetInfo();
    LLVMInitializeRISCVTarget();
    LLVMInitializeRISCVTargetMC();
    LLVMInitializeRISCVAsmPrinter();
  });
  return llvm::TargetRegistry::lookupTarget(triple, *error);
}

static Machine machineFor(const CpuTargetOptions &options) {
  if (options.arch == CpuArch::Rvv) {
    std::string features = "+m,+a,+f,+d,+c,+v";
    if (options.rvvVlen)
      features += ",+zvl" + std::to_string(options.rvvVlen) + "b";
    return {"riscv64-unknown-linux-gnu", "generic-rv64", features, "lp64d"};
  }
  // The host target never assumes the machine pengc runs on: a named CPU
  // (x86-64-v3 by default), or "native" on request.
  std::string triple = "x86_64-unknown-linux-gnu";
  if (options.hostCpu != "native")
    return {triple, options.hostCpu, "", ""};
  std::string features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features += std::string(features.empty() ? "" : ",") + (f.second ? "+" : "-") + f.first().str();
  return {triple, llvm::sys::getHostCPUName().str(), features, ""};
}

static std::unique_ptr<llvm::MCSubtargetInfo> subtargetFor(const Machine &m, std::string *error) {
  const llvm::Target *target = lookupTarget(m.triple, error);
  if (!target)
    return nullptr;
  return std::unique_ptr<llvm::MCSubtargetInfo>(
      target->createMCSubtargetInfo(m.triple, m.cpu, m.features));
}

FailureOr<CpuIsa> mlir::peng::cpu::resolveIsa(const CpuTargetOptions &options,
                                             std::string *error) {
  Machine m = machineFor(options);
  // Checked on a generic subtarget first: LLVM warns on stderr when asked
  // for a subtarget of a CPU it does not know.
  std::unique_ptr<llvm::MCSubtargetInfo> generic = subtargetFor({m.triple, "", "", ""}, error);
  if (!generic)
    return failure();
  if (!generic->isCPUStringValid(m.cpu)) {
    *error = "'" + m.cpu + "' is not a CPU LLVM knows for " + m.triple;
    return failure();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti = subtargetFor(m, error);
  if (!sti)
    return failure();
  CpuIsa isa;
  isa.cpu = m.cpu;
  auto record = [&](const char *feature) {
    if (sti->checkFeatures(std::string("+") + feature))
      isa.features.push_back(feature);
  };
  if (options.arch == CpuArch::Rvv) {
    for (const char *f : ::peng::cpu_isa::kRiscvFeatures)
      record(f);
  } else {
    for (const char *f : ::peng::cpu_isa::kX86Features)
      record(f);
  }
  return isa;
}

/// Whether the target machine has `feature` (an LLVM feature name).
static bool targetHas(const CpuTargetOptions &options, const char *feature) {
  std::string error;
  std::unique_ptr<llvm::MCSubtargetInfo> sti = subtargetFor(machineFor(options), &error);
  return sti && sti->checkFeatures(std::string("+") + feature);
}

static std::unique_ptr<llvm::TargetMachine> createTargetMachine(const Machine &m,
                                                                std::string *error) {
  const llvm::Target *target = lookupTarget(m.triple, error);
  if (!target)
    return nullptr;
  llvm::TargetOptions options;
  options.MCOptions.ABIName = m.abi;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      m.triple, m.cpu, m.features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
}

void mlir::peng::cpu::buildCpuCodegenPipeline(OpPassManager &pm, const CpuTargetOptions &options) {
  pm.addNestedPass<func::FuncOp>(createPengCpuLowerMath());
  // Matmuls get a register-blocked micro-kernel: scalable vectors with the
  // LMUL picked per matmul on rvv; two AVX2 (or AVX-512) vectors per row on
  // the host, 6 rows: 12 accumulators of the 16 (32) registers.
  PengCpuMatmulMicrokernelOptions matmul;
  if (options.arch == CpuArch::Rvv && options.rvvVlen) {
    // A VLEN-specialised variant: fixed-length vectors of LMUL 4 at that
    // VLEN, no vscale arithmetic; the runtime picks it only on such a hart.
    matmul.vectorWidth = int64_t(options.rvvVlen / 32) * 4;
  } else if (options.arch == CpuArch::Rvv) {
    matmul.scalable = true;
    matmul.autoWidth = true;
  } else {
    matmul.rows = kMatmulTileRows;
    if (targetHas(options, "avx512f")) {
      // 32 registers: 6 x 4 accumulators (64 columns), 4 for B, one
      // broadcast. 128 x 64 f32 = 32 KiB of B per panel, L1-sized. Measured
      // on an AVX-512 EPYC (znver5; bench/kernels, 1024^3, 2 threads): 247 ->
      // 294 GFLOP/s against 6 x 2 with 256-row panels; 12 x 2 made 212 (A's
      // 12 rows are 4 KiB apart) and 8 x 3 made 283.
      matmul.vectorWidth = 16;
      matmul.vectorsPerRow = 4;
      matmul.packKc = 128;
    } else {
      // 16 registers: 6 x 2 accumulators, 2 for B, one broadcast. 256 x 16
      // f32 = 16 KiB of B per panel: it stays in L1 across the row tiles.
      matmul.vectorWidth = 8;
      matmul.vectorsPerRow = 2;
      matmul.packKc = 256;
    }
  }
  pm.addNestedPass<func::FuncOp>(createPengCpuMatmulMicrokernel(matmul));
  // Elementwise ops: one masked vector per innermost tile, LMUL 4 on rvv
  // (vector<[8]xf32>), one AVX2/AVX-512 register on the host.
  PengCpuVectorizeElementwiseOptions elementwise;
  if (options.arch == CpuArch::Rvv && options.rvvVlen) {
    elementwise.vectorWidth = int64_t(options.rvvVlen / 32) * 4;
  } else if (options.arch == CpuArch::Rvv) {
    elementwise.vectorWidth = 8;
    elementwise.scalable = true;
  } else {
    elementwise.vectorWidth = targetHas(options, "avx512f") ? 16 : 8;
  }
  pm.addNestedPass<func::FuncOp>(createPengCpuVectorizeElementwise(elementwise));
  pm.addPass(createCanonicalizerPass());
  // Everything else becomes loops; LLVM's loop vectorizer then uses the
  // widest vectors of the target (scalable ones on rvv, so one binary serves
  // every VLEN).
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::peng::cpu::buildCpuToLLVMPipeline(OpPassManager &pm, const CpuTargetOptions &) {
  pm.addNestedPass<func::FuncOp>(
      createConvertVectorToSCFPass(VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createPengCpuEntryPoints());
}

/// Kernels import nothing, but LLVM may still call memcpy/memmove/memset (for
/// memref.copy, or large moves). These byte loops, hidden inside the image,
/// answer those calls; "no-builtins" keeps LLVM from turning them back into
/// calls to themselves.
static void addMemoryRoutines(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i8 = llvm::Type::getInt8Ty(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto define = [&](const char *name, llvm::ArrayRef<llvm::Type *> params) -> llvm::Function * {
    if (llvm::Function *existing = module.getFunction(name))
      if (!existing->isDeclaration())
        return nullptr;
    auto *type = llvm::FunctionType::get(ptr, params, false);
    llvm::Function *f = llvm::cast<llvm::Function>(
        module.getOrInsertFunction(name, type).getCallee());
    f->setLinkage(llvm::GlobalValue::ExternalLinkage);
    f->setVisibility(llvm::GlobalValue::HiddenVisibility);
    f->addFnAttr("no-builtins");
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  };
  // A byte loop from `from` to `to` by `dir`, calling `body(index)`.
  auto loop = [&](llvm::Function *f, llvm::Value *n, bool backward,
                  const std::function<void(llvm::IRBuilder<> &, llvm::Value *)> &body) {
    auto *entry = llvm::BasicBlock::Create(ctx, "entry", f);
    auto *head = llvm::BasicBlock::Create(ctx, "head", f);
    auto *step = llvm::BasicBlock::Create(ctx, "step", f);
    auto *exit = llvm::BasicBlock::Create(ctx, "exit", f);
    llvm::IRBuilder<> b(entry);
    b.CreateBr(head);
    b.SetInsertPoint(head);
    auto *i = b.CreatePHI(i64, 2);
    i->addIncoming(llvm::ConstantInt::get(i64, 0), entry);
    b.CreateCondBr(b.CreateICmpULT(i, n), step, exit);
    b.SetInsertPoint(step);
    llvm::Value *index = backward ? b.CreateSub(b.CreateSub(n, i), llvm::ConstantInt::get(i64, 1))
                                  : static_cast<llvm::Value *>(i);
    body(b, index);
    i->addIncoming(b.CreateAdd(i, llvm::ConstantInt::get(i64, 1)), step);
    b.CreateBr(head);
    b.SetInsertPoint(exit);
    b.CreateRet(f->getArg(0));
  };
  if (llvm::Function *f = define("memcpy", {ptr, ptr, i64})) {
    loop(f, f->getArg(2), false, [&](llvm::IRBuilder<> &b, llvm::Value *i) {
      b.CreateStore(b.CreateLoad(i8, b.CreateGEP(i8, f->getArg(1), i)),
                    b.CreateGEP(i8, f->getArg(0), i));
    });
  }
  if (llvm::Function *f = define("memset", {ptr, i32, i64})) {
    loop(f, f->getArg(2), false, [&](llvm::IRBuilder<> &b, llvm::Value *i) {
      b.CreateStore(b.CreateTrunc(f->getArg(1), i8), b.CreateGEP(i8, f->getArg(0), i));
    });
  }
  if (llvm::Function *f = define("memmove", {ptr, ptr, i64})) {
    // Forward when dst < src, else backward: both are safe for overlaps.
    auto *entry = llvm::BasicBlock::Create(ctx, "entry", f);
    auto *fwd = llvm::Function::Create(f->getFunctionType(), llvm::GlobalValue::InternalLinkage,
                                       "peng.memmove.forward", module);
    auto *bwd = llvm::Function::Create(f->getFunctionType(), llvm::GlobalValue::InternalLinkage,
                                       "peng.memmove.backward", module);
    for (auto [g, backward] : {std::pair{fwd, false}, std::pair{bwd, true}}) {
      g->addFnAttr("no-builtins");
      loop(g, g->getArg(2), backward, [&, g = g](llvm::IRBuilder<> &b, llvm::Value *i) {
        b.CreateStore(b.CreateLoad(i8, b.CreateGEP(i8, g->getArg(1), i)),
                      b.CreateGEP(i8, g->getArg(0), i));
      });
    }
    llvm::IRBuilder<> b(entry);
    llvm::Value *before = b.CreateICmpULT(b.CreatePtrToInt(f->getArg(0), i64),
                                          b.CreatePtrToInt(f->getArg(1), i64));
    llvm::Value *args[] = {f->getArg(0), f->getArg(1), f->getArg(2)};
    b.CreateRet(b.CreateSelect(before, b.CreateCall(fwd, args), b.CreateCall(bwd, args)));
  }
}

static void optimize(llvm::Module &module, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(module, mam);
}

/// Links one relocatable object into a self-contained shared image with lld,
/// in process. lld reads and writes files, so the object passes through a
/// temporary directory.
static FailureOr<std::vector<uint8_t>> linkImage(ModuleOp diagnostics,
                                                 llvm::ArrayRef<char> object) {
  // lld keeps global state: one link at a time.
  static std::mutex lldMutex;
  std::lock_guard<std::mutex> lock(lldMutex);
  llvm::SmallString<128> objPath, outPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("pengc-kernel", "o", fd, objPath))
    return diagnostics.emitError("cannot create a temporary file for the linker"), failure();
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(object.data(), object.size());
  }
  llvm::FileRemover removeObj(objPath);
  if (llvm::sys::fs::createTemporaryFile("pengc-kernel", "so", outPath))
    return diagnostics.emitError("cannot create a temporary file for the linker"), failure();
  llvm::FileRemover removeOut(outPath);

  std::vector<const char *> args = {
      "ld.lld",   "-shared", "-static", "-nostdlib", "--no-undefined",
      "--no-allow-shlib-undefined", "--gc-sections", "-z", "now", "-z", "relro",
      "-z", "noexecstack", "--hash-style=sysv", "--build-id=none", "--discard-all",
      "-o", outPath.c_str(), objPath.c_str()};
  std::string log;
  llvm::raw_string_ostream logStream(log);
  lld::Result result = lld::lldMain(args, logStream, logStream, {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0)
    return diagnostics.emitError("linking the kernel image failed: ") << logStream.str(), failure();
  auto buffer = llvm::MemoryBuffer::getFile(outPath, /*IsText=*/false);
  if (!buffer)
    return diagnostics.emitError("cannot read the linked kernel image"), failure();
  return std::vector<uint8_t>((*buffer)->getBufferStart(), (*buffer)->getBufferEnd());
}

/// Half-precision arithmetic on RISC-V needs Zfh/Zvfh, which the rvv target
/// does not assume (QEMU 7.2 and most boards lack Zvfh). Without it LLVM can
/// neither vectorize nor call out for conversions in a self-contained image,
/// so such kernels are refused here, naming the first op that uses f16/bf16.
static LogicalResult checkElementTypes(ModuleOp module, const CpuTargetOptions &options) {
  if (options.arch != CpuArch::Rvv)
    return success();
  auto isHalf = [](Type t) {
    Type e = getElementTypeOrSelf(t);
    return e.isF16() || e.isBF16();
  };
  LogicalResult result = success();
  // Pre-order: the kernel's signature is reported before the ops inside it.
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    bool half = llvm::any_of(op->getResultTypes(), isHalf) ||
                llvm::any_of(op->getOperandTypes(), isHalf);
    if (auto func = dyn_cast<func::FuncOp>(op))
      half = llvm::any_of(func.getArgumentTypes(), isHalf);
    if (!half)
      return WalkResult::advance();
    op->emitOpError("uses f16/bf16, which target rvv does not support: RVV code would need "
                    "the Zvfh extension; compile this kernel for host, or in f32");
    result = failure();
    return WalkResult::interrupt();
  });
  return result;
}

FailureOr<std::vector<uint8_t>> mlir::peng::cpu::compileCpuModule(ModuleOp source,
                                                                  const CpuTargetOptions &options,
                                                                  EmitStage emit,
                                                                  llvm::raw_ostream *out) {
  if (failed(checkElementTypes(source, options)))
    return failure();
  OwningOpRef<ModuleOp> module(cast<ModuleOp>(source->clone()));
  MLIRContext *ctx = module->getContext();

  PassManager codegen(ctx);
  buildCpuCodegenPipeline(codegen, options);
  if (failed(codegen.run(*module)))
    return failure();
  if (emit == EmitStage::Mlir) {
    module->print(*out);
    return std::vector<uint8_t>{};
  }
  PassManager toLLVM(ctx);
  buildCpuToLLVMPipeline(toLLVM, options);
  if (failed(toLLVM.run(*module)))
    return failure();

  std::string error;
  Machine m = machineFor(options);
  std::unique_ptr<llvm::TargetMachine> tm = createTargetMachine(m, &error);
  if (!tm)
    return source.emitError("no LLVM target for ") << m.triple << ": " << error, failure();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "peng-kernels");
  if (!llvmModule)
    return source.emitError("translation to LLVM IR failed"), failure();
  llvmModule->setTargetTriple(m.triple);
  llvmModule->setDataLayout(tm->createDataLayout());
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    // Library idioms (loops into memset) would be imports the image cannot have.
    f.addFnAttr("no-builtins");
    f.addFnAttr("target-cpu", m.cpu);
    f.addFnAttr("target-features", m.features);
    f.addFnAttr(llvm::Attribute::NoUnwind);
  }
  addMemoryRoutines(*llvmModule);
  optimize(*llvmModule, *tm);
  if (emit == EmitStage::Llvm) {
    llvmModule->print(*out, nullptr);
    return std::vector<uint8_t>{};
  }

  llvm::SmallVector<char, 0> buffer;
  {
    llvm::raw_svector_ostream os(buffer);
    llvm::legacy::PassManager pm;
    auto type = emit == EmitStage::Asm ? llvm::CodeGenFileType::AssemblyFile
                                       : llvm::CodeGenFileType::ObjectFile;
    if (tm->addPassesToEmitFile(pm, os, nullptr, type))
      return source.emitError("the LLVM target cannot emit this file type"), failure();
    pm.run(*llvmModule);
  }
  if (emit == EmitStage::Asm) {
    out->write(buffer.data(), buffer.size());
    return std::vector<uint8_t>{};
  }
  return linkImage(source, buffer);
}
