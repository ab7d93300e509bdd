//===- Reductions.h - which linalg reductions the opencl target lowers ----===//
#ifndef PENG_OPENCL_REDUCTIONS_H
#define PENG_OPENCL_REDUCTIONS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <string>

namespace mlir::peng::opencl {
/// Why peng-opencl-lower-reductions cannot lower `op` (a linalg op with
/// reduction loops) to one work-item per output element, or "" when it can.
std::string reductionUnsupportedReason(linalg::LinalgOp op);
} // namespace mlir::peng::opencl

#endif // PENG_OPENCL_REDUCTIONS_H
