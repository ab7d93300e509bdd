// sgemm on oneDNN: dnnl_sgemm('N', 'N', ...), oneDNN's BLAS-like C API, which
// is row-major, into a 64-byte aligned C of its own. oneDNN picks its
// JIT-generated kernel for the machine's ISA (see onednn_cpu_isa in the JSON
// context) and runs on OpenMP threads (omp_set_num_threads(--threads)).
#include <oneapi/dnnl/dnnl.h>

#include <map>
#include <memory>
#include <string>

#include "driver/env.h"
#include "sgemm/sgemm.h"

namespace peng_bench::sgemm {
namespace {

class OneDnnTarget : public Target {
 public:
  explicit OneDnnTarget(const Problem& p) : p_(p), c_(p.c_ref.size()) {}
  void Poison() override { sgemm::Poison(c_); }
  void Run() override {
    const dnnl_dim_t n = p_.n;
    dnnl_status_t st = dnnl_sgemm('N', 'N', n, n, n, 1.0f, p_.a.data(), n, p_.b.data(), n, 0.0f,
                                  c_.data(), n);
    if (st != dnnl_success) throw BenchError("dnnl_sgemm failed: status " + std::to_string(st));
  }
  const float* Result() override { return c_.data(); }

 private:
  const Problem& p_;
  Floats c_;
};

}  // namespace

void OneDnn(benchmark::State& state) {
  RunGuarded(state, [&] {
    const Problem& p = GetProblem(int(state.range(0)));
    static std::map<int, std::unique_ptr<OneDnnTarget>> targets;
    auto& t = targets[p.n];
    if (!t) t = std::make_unique<OneDnnTarget>(p);
    Measure(state, p, *t, "onednn");
  });
}

}  // namespace peng_bench::sgemm
