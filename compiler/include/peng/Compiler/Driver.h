//===- Driver.h - pengc's command line ---------------------------*- C++ -*-===//
//
// pengc itself, over whatever targets TargetRegistry holds: a pengc binary is
// `registerAllTargets(); return pengcMain(argc, argv);`.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_COMPILER_DRIVER_H
#define PENG_COMPILER_DRIVER_H

namespace mlir::peng {

/// Parses the command line, compiles, writes module.peng or the --emit text;
/// returns the exit status (0 ok, 1 compile error, 2 usage error).
int pengcMain(int argc, char **argv);

} // namespace mlir::peng

#endif // PENG_COMPILER_DRIVER_H
