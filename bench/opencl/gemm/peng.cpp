// sgemm through Peng on opencl:0: the kernel sgemm_<n> that pengc compiled
// from gemm/sgemm.mlir for the opencl target, loaded into the runtime the
// launch benchmarks use. A and B are written once; the first run (the check)
// moves them to the device, where they stay valid, since the kernel only
// reads them. One graph with one task placed on opencl:0 is built once; an
// iteration is one peng_graph_submit + peng_event_wait.
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "driver/harness.h"
#include "driver/peng_env.h"
#include "gemm/gemm.h"

namespace peng_bench_ocl::gemm {
namespace {

peng_module_t g_module = nullptr;

peng_module_t Module() {
  if (!g_module) {
    PengCheck(peng_module_load_file(PengRuntime(), PengModulePath().c_str(), &g_module),
              ("peng_module_load_file(" + PengModulePath() + ")").c_str());
  }
  return g_module;
}

class PengTarget : public Target {
 public:
  explicit PengTarget(const Problem& p) : p_(p) {}
  // Apart from the constructor, so that the destructor releases what a
  // failing set-up made.
  void Init() {
    const std::string name = "sgemm_" + std::to_string(p_.n);
    peng_kernel_t kernel;
    PengCheck(peng_module_find_kernel(Module(), name.c_str(), &kernel),
              ("finding kernel " + name + " (is n in gemm/sgemm.mlir?)").c_str());
    int supported = 0;
    PengCheck(peng_kernel_supported_on(kernel, PengOpenCl(), &supported),
              "peng_kernel_supported_on");
    if (!supported) throw BenchError("peng: the module has no opencl code for " + name);
    CheckSignature(kernel, name);

    for (peng_buffer_t* b : {&a_, &b_, &c_}) {
      PengCheck(peng_buffer_create(PengRuntime(), p_.bytes(), b), "peng_buffer_create");
    }
    PengCheck(peng_buffer_write(a_, 0, p_.bytes(), p_.a.data()), "writing A");
    PengCheck(peng_buffer_write(b_, 0, p_.bytes(), p_.b.data()), "writing B");

    peng_tensor_arg_t args[3] = {};
    peng_buffer_t buffers[3] = {a_, b_, c_};  // inputs, then the result
    for (int i = 0; i < 3; ++i) {
      args[i].buffer = buffers[i];
      args[i].dtype = PENG_DTYPE_F32;
      args[i].rank = 2;
      args[i].shape[0] = p_.n;
      args[i].shape[1] = p_.n;
    }
    peng_task_options_t on_device{0, PengOpenCl()};
    PengCheck(peng_graph_create(PengRuntime(), &graph_), "peng_graph_create");
    PengCheck(peng_graph_add_task(graph_, kernel, args, 3, nullptr, 0, &on_device, nullptr),
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
    std::vector<float> nan(size_t(p_.n) * p_.n, std::numeric_limits<float>::quiet_NaN());
    PengCheck(peng_buffer_write(c_, 0, p_.bytes(), nan.data()), "poisoning C");
  }
  void Run() override { PengRun(graph_); }
  std::vector<float> Result() override {
    std::vector<float> c(size_t(p_.n) * p_.n);
    PengCheck(peng_buffer_read(c_, 0, p_.bytes(), c.data()), "reading C");
    return c;
  }
  // The timed runs must not include moving A and B: both must be valid in
  // opencl:0's memory once a run has read them there.
  void CheckWarm() override {
    peng_device_info_t info;
    PengCheck(peng_device_info(PengOpenCl(), &info), "peng_device_info");
    for (peng_buffer_t b : {a_, b_}) {
      uint64_t spaces = 0;
      PengCheck(peng_buffer_valid_spaces(b, &spaces), "peng_buffer_valid_spaces");
      if (!(spaces >> info.memory_space & 1)) {
        throw BenchError("peng: A or B is not valid in opencl:0's memory after a run (spaces " +
                         std::to_string(spaces) + "): the timed runs would copy it");
      }
    }
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
  peng_buffer_t a_ = nullptr, b_ = nullptr, c_ = nullptr;
  peng_graph_t graph_ = nullptr;
};

std::map<int, std::unique_ptr<PengTarget>> g_targets;

}  // namespace

std::string PengModulePath() { return PENG_BENCH_OPENCL_SGEMM_MODULE; }

void Peng(benchmark::State& state, uint32_t n) {
  RunGuarded(state, [&] {
    const Problem& p = GetProblem(int(n));
    auto& t = g_targets[p.n];
    if (!t) {
      auto made = std::make_unique<PengTarget>(p);
      made->Init();
      t = std::move(made);
    }
    Measure(state, p, *t, "peng");
  });
}

void ShutdownPeng() {
  if (g_module) peng_runtime_wait_idle(PengRuntime(), PENG_WAIT_FOREVER);
  g_targets.clear();
  if (g_module) peng_module_release(g_module);
  g_module = nullptr;
}

}  // namespace peng_bench_ocl::gemm
