// Builds pengc's pipelines from the installed headers and libpeng_compiler.a:
// what a program that embeds pengc starts with. It includes every installed
// compiler header and stays light (no InitAllDialects) so that the test is quick;
// compiler/tools/pengc/pengc.cpp is the whole driver.
#include "peng/Compiler/Artifact.h"
#include "peng/Compiler/Passes.h"
#include "peng/Compiler/Pipeline.h"
#include "peng/Cpu/CpuTarget.h"
#include "peng/Cpu/Passes.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdio>

int main() {
  mlir::MLIRContext context;
  mlir::PassManager pm(&context);
  mlir::peng::buildFrontendPipeline(pm);
  mlir::peng::buildKernelPipeline(pm, {});
  mlir::peng::cpu::buildCpuCodegenPipeline(pm, {mlir::peng::cpu::CpuArch::Rvv, 0});
  std::printf("peng-compiler-link: %zu passes, target %s\n", pm.size(),
              mlir::peng::cpu::targetName(mlir::peng::cpu::CpuArch::Rvv));
  return pm.size() > 0 ? 0 : 1;
}
