#include "driver/starpu_env.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "driver/harness.h"

namespace peng_bench {
namespace {

bool g_started = false;
std::vector<void (*)()> g_shutdown_hooks;
struct starpu_codelet g_noop;
struct starpu_codelet g_count;

void Noop(void**, void*) {}
void Count(void**, void*) { CountTask(); }

void InitCodelet(struct starpu_codelet* cl, starpu_cpu_func_t fn) {
  starpu_codelet_init(cl);
  cl->where = STARPU_CPU;
  cl->cpu_funcs[0] = fn;
  cl->nbuffers = 0;
  cl->model = nullptr;  // no performance model: nothing to calibrate or store
}

void SetDefault(const char* name, const std::string& value) { setenv(name, value.c_str(), 0); }

void Start() {
  if (g_started) return;
  const char* tmp = std::getenv("TMPDIR");
  SetDefault("STARPU_HOME", std::string(tmp && *tmp ? tmp : "/tmp") + "/peng-bench-starpu-" +
                                std::to_string(getuid()));
  SetDefault("STARPU_SILENT", "1");
  SetDefault("STARPU_WORKERS_NOBIND", "1");
  SetDefault("STARPU_CALIBRATE", "0");
  // The worker counts are part of the comparison: they override the environment.
  setenv("STARPU_NCPU", std::to_string(kThreads).c_str(), 1);
  setenv("STARPU_NCUDA", "0", 1);
  setenv("STARPU_NOPENCL", "0", 1);
  setenv("STARPU_NMIC", "0", 1);
  setenv("STARPU_NMPI_MS", "0", 1);

  struct starpu_conf conf;
  starpu_conf_init(&conf);
  conf.ncpus = kThreads;
  conf.ncuda = 0;
  conf.nopencl = 0;
  int ret = starpu_init(&conf);
  if (ret != 0) throw BenchError("starpu_init failed: " + std::string(std::strerror(-ret)));
  starpu_pause();
  g_started = true;
  InitCodelet(&g_noop, Noop);
  InitCodelet(&g_count, Count);
}

}  // namespace

void StarpuCheck(int ret, const char* what) {
  if (ret != 0) {
    throw BenchError(std::string("starpu: ") + what +
                     " failed: " + std::strerror(ret < 0 ? -ret : ret));
  }
}

StarpuScope::StarpuScope() {
  Start();
  starpu_resume();
}

std::string StarpuPolicyLabel() {
  Start();
  // Context 0 is the global one, where every benchmark task goes.
  struct starpu_sched_policy* policy = starpu_sched_ctx_get_sched_policy(0);
  return std::string("sched=") + (policy && policy->policy_name ? policy->policy_name : "?");
}

StarpuScope::~StarpuScope() {
  starpu_task_wait_for_all();  // a benchmark that failed half-way leaves nothing running
  starpu_pause();
}

void ShutdownStarpu() {
  if (!g_started) return;
  starpu_resume();
  starpu_shutdown();
  g_started = false;
  for (auto fn : g_shutdown_hooks) fn();
  g_shutdown_hooks.clear();
}

void AtStarpuShutdown(void (*fn)()) { g_shutdown_hooks.push_back(fn); }

struct starpu_codelet* StarpuNoopCodelet() {
  Start();
  return &g_noop;
}

struct starpu_codelet* StarpuCountCodelet() {
  Start();
  return &g_count;
}

}  // namespace peng_bench
