//===- DummyTarget.cpp - a pengc target for the tests ---------------------===//
//
// The smallest complete target: an option, a pipeline setting, variants, an
// --emit stage and an executable (the kernels' IR as text). pengc-test has it;
// pengc does not.
//
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Target.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::peng;

namespace {

class DummyVariant : public TargetVariant {
public:
  explicit DummyVariant(std::string flavor) : flavor_(std::move(flavor)) {}
  std::string describe() const override { return "dummy (" + flavor_ + ")"; }
  LogicalResult emit(ModuleOp module, StringRef stage, llvm::raw_ostream &os) const override {
    os << "// dummy " << stage << " " << flavor_ << "\n";
    module.print(os);
    return success();
  }
  FailureOr<::peng::artifact::Executable>
  compile(ModuleOp module, const std::vector<::peng::artifact::KernelInfo> &kernels,
          const std::vector<::peng::artifact::LaunchInfo> &launches) const override {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    ::peng::artifact::Executable x = makeExecutable(
        "dummy", "text", std::vector<uint8_t>(text.begin(), text.end()), kernels, launches);
    x.cpu = flavor_;
    return x;
  }

private:
  std::string flavor_;
};

class DummyTarget : public Target {
public:
  StringRef name() const override { return "dummy"; }
  std::vector<TargetOption> options() const override {
    return {{"dummy-flavor", "flavours of dummy code, one variant each", "plain"}};
  }
  std::vector<std::string> emitStages() const override { return {"text"}; }
  KernelPipelineOptions pipelineOptions() const override {
    KernelPipelineOptions o;
    o.workgroupTileMultiple = 4; // unlike the CPU targets: its own split
    return o;
  }
  FailureOr<std::vector<std::unique_ptr<TargetVariant>>>
  variants(const llvm::StringMap<std::string> &values, std::string *error) const override {
    std::vector<std::unique_ptr<TargetVariant>> out;
    for (const std::string &f : splitList(values.lookup("dummy-flavor"))) {
      if (f != "plain" && f != "fancy") {
        *error = "--dummy-flavor: '" + f + "' is not plain or fancy";
        return failure();
      }
      out.push_back(std::make_unique<DummyVariant>(f));
    }
    return out;
  }
};

} // namespace

void registerDummyTarget() { TargetRegistry::get().add(std::make_unique<DummyTarget>()); }
