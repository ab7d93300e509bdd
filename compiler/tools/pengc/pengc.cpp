//===- pengc.cpp - the Peng kernel compiler -------------------------------===//
//
//   pengc kernels.mlir -o kernels.peng --targets=host,rvv
//
// The command line is the driver's (compiler/lib/Driver); the targets are the
// backends' (peng_add_compiler_target), registered by a generated source.
//
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Driver.h"
#include "peng/Compiler/Target.h"

int main(int argc, char **argv) {
  mlir::peng::registerAllTargets();
  return mlir::peng::pengcMain(argc, argv);
}
