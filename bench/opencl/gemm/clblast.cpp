// sgemm through CLBlast on the same device as Peng's opencl:0, in the raw
// OpenCL benchmarks' context (driver/cl_env.h) and on its in-order queue. A, B
// and C are device buffers made and filled once; an iteration is one
// CLBlastSgemm (row-major, no transposes) and clFinish. CLBlast picks its
// kernel (direct or indirect, with its own temporary buffers) as a user
// calling it would get it; its first call builds its OpenCL programs (seconds
// on PoCL), which the untimed check run absorbs.
#include "driver/cl_env.h"  // first: it sets CL_TARGET_OPENCL_VERSION

#include <clblast_c.h>

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "driver/harness.h"
#include "gemm/gemm.h"

namespace peng_bench_ocl::gemm {
namespace {

class ClBlastTarget : public Target {
 public:
  explicit ClBlastTarget(const Problem& p) : p_(p) {}
  // Apart from the constructor, so that the destructor releases what a
  // failing set-up made.
  void Init() {
    ClEnv& cl = Cl();
    cl_int err = CL_SUCCESS;
    a_ = clCreateBuffer(cl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, p_.bytes(),
                        const_cast<float*>(p_.a.data()), &err);
    ClCheck(err, "clCreateBuffer(A)");
    b_ = clCreateBuffer(cl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, p_.bytes(),
                        const_cast<float*>(p_.b.data()), &err);
    ClCheck(err, "clCreateBuffer(B)");
    c_ = clCreateBuffer(cl.context, CL_MEM_READ_WRITE, p_.bytes(), nullptr, &err);
    ClCheck(err, "clCreateBuffer(C)");
  }
  ~ClBlastTarget() override {
    if (a_) clFinish(Cl().queue);  // a_ made: Cl() exists
    for (cl_mem m : {a_, b_, c_}) {
      if (m) clReleaseMemObject(m);
    }
  }
  ClBlastTarget(const ClBlastTarget&) = delete;
  ClBlastTarget& operator=(const ClBlastTarget&) = delete;

  void Poison() override {
    std::vector<float> nan(size_t(p_.n) * p_.n, std::numeric_limits<float>::quiet_NaN());
    ClCheck(clEnqueueWriteBuffer(Cl().queue, c_, CL_TRUE, 0, p_.bytes(), nan.data(), 0, nullptr,
                                 nullptr),
            "poisoning C");
  }
  void Run() override {
    cl_command_queue queue = Cl().queue;
    cl_event done = nullptr;
    const size_t n = size_t(p_.n);
    CLBlastStatusCode status =
        CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n, n, 1.0f,
                     a_, 0, n, b_, 0, n, 0.0f, c_, 0, n, &queue, &done);
    if (status != CLBlastSuccess) {
      throw BenchError("CLBlastSgemm failed: status " + std::to_string(int(status)));
    }
    if (done) clReleaseEvent(done);
    // The queue is in order: clFinish covers every kernel the call enqueued.
    ClCheck(clFinish(queue), "clFinish");
  }
  std::vector<float> Result() override {
    std::vector<float> c(size_t(p_.n) * p_.n);
    ClCheck(clEnqueueReadBuffer(Cl().queue, c_, CL_TRUE, 0, p_.bytes(), c.data(), 0, nullptr,
                                nullptr),
            "reading C");
    return c;
  }

 private:
  const Problem& p_;
  cl_mem a_ = nullptr, b_ = nullptr, c_ = nullptr;
};

std::map<int, std::unique_ptr<ClBlastTarget>> g_targets;

}  // namespace

std::string ClBlastVersion() {
  return std::to_string(CLBLAST_VERSION_MAJOR) + "." + std::to_string(CLBLAST_VERSION_MINOR) +
         "." + std::to_string(CLBLAST_VERSION_PATCH);
}

void ClBlast(benchmark::State& state, uint32_t n) {
  RunGuarded(state, [&] {
    const Problem& p = GetProblem(int(n));
    auto& t = g_targets[p.n];
    if (!t) {
      auto made = std::make_unique<ClBlastTarget>(p);
      made->Init();
      t = std::move(made);
    }
    Measure(state, p, *t, "clblast");
  });
}

void ShutdownClBlast() {
  g_targets.clear();
  // CLBlast's program cache holds the context: release it before the context goes.
  CLBlastClearCache();
}

}  // namespace peng_bench_ocl::gemm
