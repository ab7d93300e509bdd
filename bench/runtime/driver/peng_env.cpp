#include "driver/peng_env.h"

#include <string>
#include <vector>

#include "driver/harness.h"

namespace peng_bench {
namespace {

peng_runtime_t g_runtime = nullptr;
struct NamedKernel {
  std::string name;
  peng_module_t module;
  peng_kernel_t kernel;
};
std::vector<NamedKernel> g_kernels;

int Noop(const peng_dispatch_state_t*, const peng_workgroup_state_t*) { return 0; }

int Count(const peng_dispatch_state_t*, const peng_workgroup_state_t*) {
  CountTask();
  return 0;
}

}  // namespace

void PengCheck(peng_status_t status, const char* what) {
  if (status == PENG_OK) return;
  throw BenchError(std::string("peng: ") + what + " failed: " + peng_status_string(status) +
                   ": " + peng_last_error_message());
}

peng_runtime_t PengRuntime() {
  if (g_runtime) return g_runtime;
  peng_runtime_options_t options;
  peng_runtime_options_init(&options);
  options.policy = PENG_POLICY_EAGER;
  options.cpu_threads = uint32_t(kThreads);
  PengCheck(peng_runtime_create(&options, &g_runtime), "peng_runtime_create");
  return g_runtime;
}

peng_kernel_t PengKernel(const peng_native_kernel_def_t& def) {
  peng_runtime_t rt = PengRuntime();
  for (const NamedKernel& k : g_kernels) {
    if (k.name == def.name) return k.kernel;
  }
  NamedKernel k{def.name, nullptr, nullptr};
  PengCheck(peng_module_create_native(rt, def.name, &def, 1, &k.module),
            "peng_module_create_native");
  g_kernels.push_back(k);
  PengCheck(peng_module_find_kernel(k.module, def.name, &g_kernels.back().kernel),
            "peng_module_find_kernel");
  return g_kernels.back().kernel;
}

// A grid of one workgroup (tile 0 everywhere): one kernel call per task.
peng_kernel_t PengNoopKernel() {
  return PengKernel({"noop", "host", Noop, 0, nullptr, 0, {}, nullptr});
}

peng_kernel_t PengCountKernel() {
  return PengKernel({"count", "host", Count, 0, nullptr, 0, {}, nullptr});
}

void ShutdownPeng() {
  if (!g_runtime) return;
  peng_runtime_wait_idle(g_runtime, PENG_WAIT_FOREVER);
  for (const NamedKernel& k : g_kernels) peng_module_release(k.module);
  g_kernels.clear();
  peng_runtime_release(g_runtime);
  g_runtime = nullptr;
}

}  // namespace peng_bench
