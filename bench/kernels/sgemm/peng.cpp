// sgemm on Peng: the kernel sgemm_<n> that pengc compiled from sgemm.mlir for
// the host, run by the runtime's CPU device (cpu0, --threads TBB workers, the
// kernel's workgroups split across them). A, B and C are Peng buffers in host
// memory, written once; one graph with one task (placed on cpu0) is built
// once, and each iteration is one peng_graph_submit + peng_event_wait. The
// first submission, in the check, also finalizes the graph.
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "driver/env.h"
#include "sgemm/sgemm.h"

namespace peng_bench::sgemm {
namespace {

class PengTarget : public Target {
 public:
  explicit PengTarget(const Problem& p) : p_(p), result_(p.c_ref.size()) {
    const std::string name = "sgemm_" + std::to_string(p.n);
    peng_kernel_t kernel;
    PengCheck(peng_module_find_kernel(PengSgemmModule(), name.c_str(), &kernel),
              ("finding kernel " + name).c_str());
    int supported = 0;
    PengCheck(peng_kernel_supported_on(kernel, PengCpu(), &supported), "peng_kernel_supported_on");
    if (!supported) throw BenchError("peng: the module has no host code for " + name);
    CheckSignature(kernel, name);

    for (peng_buffer_t* b : {&a_, &b_, &c_}) {
      PengCheck(peng_buffer_create(PengRuntime(), p.c_ref.bytes(), b), "peng_buffer_create");
    }
    PengCheck(peng_buffer_write(a_, 0, p.a.bytes(), p.a.data()), "writing A");
    PengCheck(peng_buffer_write(b_, 0, p.b.bytes(), p.b.data()), "writing B");

    peng_tensor_arg_t args[3] = {};
    peng_buffer_t buffers[3] = {a_, b_, c_};  // inputs, then the output
    for (int i = 0; i < 3; ++i) {
      args[i].buffer = buffers[i];
      args[i].dtype = PENG_DTYPE_F32;
      args[i].rank = 2;
      args[i].shape[0] = p.n;
      args[i].shape[1] = p.n;
    }
    peng_task_options_t options{};
    options.device = PengCpu();
    PengCheck(peng_graph_create(PengRuntime(), &graph_), "peng_graph_create");
    PengCheck(peng_graph_add_task(graph_, kernel, args, 3, nullptr, 0, &options, nullptr),
              "peng_graph_add_task");
  }
  ~PengTarget() override {
    if (graph_) peng_graph_release(graph_);
    for (peng_buffer_t b : {a_, b_, c_}) {
      if (b) peng_buffer_release(b);
    }
  }
  PengTarget(const PengTarget&) = delete;
  PengTarget& operator=(const PengTarget&) = delete;

  void Poison() override {
    std::vector<float> nan(p_.c_ref.size(), std::nanf(""));
    PengCheck(peng_buffer_write(c_, 0, nan.size() * sizeof(float), nan.data()), "poisoning C");
  }
  void Run() override {
    peng_event_t done;
    PengCheck(peng_graph_submit(graph_, nullptr, 0, &done), "peng_graph_submit");
    peng_status_t status = peng_event_wait(done, PENG_WAIT_FOREVER);
    peng_event_release(done);
    PengCheck(status, "running the sgemm task");
  }
  const float* Result() override {
    PengCheck(peng_buffer_read(c_, 0, result_.bytes(), result_.data()), "reading C");
    return result_.data();
  }

 private:
  // sgemm_<n>(A: n x n f32 read, B: n x n f32 read) -> C: n x n f32 written.
  void CheckSignature(peng_kernel_t kernel, const std::string& name) const {
    uint32_t count = 0;
    PengCheck(peng_kernel_arg_count(kernel, &count), "peng_kernel_arg_count");
    bool ok = count == 3;
    for (uint32_t i = 0; ok && i < count; ++i) {
      peng_arg_desc_t d;
      PengCheck(peng_kernel_arg(kernel, i, &d), "peng_kernel_arg");
      ok = d.dtype == PENG_DTYPE_F32 && d.rank == 2 && d.shape[0] == p_.n && d.shape[1] == p_.n &&
           (i < 2 ? d.access == PENG_ACCESS_READ : (d.access & PENG_ACCESS_WRITE) != 0);
    }
    if (!ok) {
      throw BenchError("peng: kernel " + name + " does not have the signature (A, B) -> C of " +
                       std::to_string(p_.n) + "x" + std::to_string(p_.n) + " f32");
    }
  }

  const Problem& p_;
  Floats result_;
  peng_buffer_t a_ = nullptr, b_ = nullptr, c_ = nullptr;
  peng_graph_t graph_ = nullptr;
};

std::map<int, std::unique_ptr<PengTarget>> g_targets;

}  // namespace

void Peng(benchmark::State& state) {
  RunGuarded(state, [&] {
    const Problem& p = GetProblem(int(state.range(0)));
    auto& t = g_targets[p.n];
    if (!t) t = std::make_unique<PengTarget>(p);
    Measure(state, p, *t, "peng");
  });
}

void ShutdownPeng() {
  g_targets.clear();
  ShutdownPengRuntime();
}

}  // namespace peng_bench::sgemm
