//===- Target.cpp - the target registry -----------------------------------===//
#include "peng/Compiler/Target.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace mlir::peng;

TargetVariant::~TargetVariant() = default;
Target::~Target() = default;

TargetRegistry &TargetRegistry::get() {
  static TargetRegistry registry;
  return registry;
}

void TargetRegistry::add(std::unique_ptr<Target> target) {
  if (find(target->name()))
    llvm::report_fatal_error("pengc: two targets named '" + target->name() + "'");
  targets_.push_back(std::move(target));
}

const Target *TargetRegistry::find(StringRef name) const {
  for (const auto &t : targets_)
    if (t->name() == name)
      return t.get();
  return nullptr;
}

std::string TargetRegistry::names() const {
  std::string out;
  for (const auto &t : targets_)
    out += (out.empty() ? "" : ", ") + t->name().str();
  return out;
}

::peng::artifact::Executable
mlir::peng::makeExecutable(StringRef target, StringRef format, std::vector<uint8_t> code,
                           const std::vector<::peng::artifact::KernelInfo> &kernels,
                           const std::vector<::peng::artifact::LaunchInfo> &launches) {
  ::peng::artifact::Executable x;
  x.target = target.str();
  x.format = format.str();
  x.code = std::move(code);
  for (size_t k = 0; k < kernels.size(); ++k) {
    ::peng::artifact::Entry e;
    e.kernel = uint32_t(k);
    e.symbol = kernels[k].name;
    e.launch = launches[k];
    x.entries.push_back(std::move(e));
  }
  return x;
}

std::vector<std::string> mlir::peng::splitList(StringRef list) {
  SmallVector<StringRef> parts;
  list.split(parts, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  std::vector<std::string> out;
  for (StringRef p : parts)
    out.push_back(p.trim().str());
  return out;
}
