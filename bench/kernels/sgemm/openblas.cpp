// sgemm on OpenBLAS: cblas_sgemm, row-major, no transposes, into a 64-byte
// aligned C of its own. OpenBLAS runs on its own thread pool (pthreads in
// Debian's default flavour), openblas_set_num_threads(--threads).
#include <map>
#include <memory>

#include "driver/env.h"
#include "sgemm/sgemm.h"

namespace peng_bench::sgemm {
namespace {

class OpenBlasTarget : public Target {
 public:
  explicit OpenBlasTarget(const Problem& p) : p_(p), c_(p.c_ref.size()) {}
  void Poison() override { sgemm::Poison(c_); }
  void Run() override { OpenBlasSgemm(p_.n, p_.a.data(), p_.b.data(), c_.data()); }
  const float* Result() override { return c_.data(); }

 private:
  const Problem& p_;
  Floats c_;
};

}  // namespace

void OpenBlas(benchmark::State& state) {
  RunGuarded(state, [&] {
    const Problem& p = GetProblem(int(state.range(0)));
    static std::map<int, std::unique_ptr<OpenBlasTarget>> targets;
    auto& t = targets[p.n];
    if (!t) t = std::make_unique<OpenBlasTarget>(p);
    Measure(state, p, *t, "openblas");
  });
}

}  // namespace peng_bench::sgemm
