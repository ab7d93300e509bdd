//===- peng-opt.cpp - mlir-opt with Peng's passes -------------------------===//
//
// Every upstream dialect and pass plus Peng's, so each pass can be tested
// alone:  peng-opt kernel.mlir -peng-annotate-cost
//
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Passes.h"
#include "peng/Compiler/Target.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::peng::registerPengPasses();
  mlir::peng::registerAllTargetPasses();  // the backends' own passes
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Peng optimizer driver\n", registry));
}
