#include "driver/env.h"

#include <cblas.h>
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace peng_bench {
namespace {

int g_threads = 2;
peng_runtime_t g_runtime = nullptr;
peng_device_t g_cpu = nullptr;
peng_module_t g_module = nullptr;

// oneDNN's OpenMP runtime, found through the symbols libdnnl's own libgomp
// exports (this binary is not built with -fopenmp).
template <typename Fn>
Fn OmpSymbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

std::string CpuIsaName(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_all: return "all";
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "isa " + std::to_string(int(isa));
  }
}

// "<bytes> bytes, fnv1a <hash>" of a file, so that results name the exact
// module measured (pengc changes under the same path).
std::string FileFingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "unreadable";
  std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  char text[64];
  std::snprintf(text, sizeof text, "%zu bytes, fnv1a %016llx", data.size(),
                static_cast<unsigned long long>(h));
  return text;
}

}  // namespace

int Threads() { return g_threads; }
void SetThreads(int n) { g_threads = n; }

void PengCheck(peng_status_t status, const char* what) {
  if (status == PENG_OK) return;
  throw BenchError(std::string("peng: ") + what + " failed: " + peng_status_string(status) +
                   ": " + peng_last_error_message());
}

peng_runtime_t PengRuntime() {
  if (g_runtime) return g_runtime;
  peng_runtime_options_t options;
  peng_runtime_options_init(&options);
  options.policy = PENG_POLICY_EXPLICIT;
  options.cpu_threads = uint32_t(g_threads);
  // Non-NULL empty strings: no profile, plugins or model file, whatever the
  // environment says (NULL would read PENG_PLATFORM and the others). A
  // profile's CPU device takes its thread count from the profile, not
  // cpu_threads, and may carry a timing model.
  options.platform_path = "";
  options.plugin_path = "";
  options.perf_model_path = "";
  PengCheck(peng_runtime_create(&options, &g_runtime), "peng_runtime_create");
  PengCheck(peng_runtime_find_device(g_runtime, "cpu0", &g_cpu), "finding cpu0");
  return g_runtime;
}

peng_device_t PengCpu() {
  PengRuntime();
  return g_cpu;
}

std::string SgemmModulePath() {
  const char* env = std::getenv("PENG_BENCH_SGEMM_MODULE");
  return env && *env ? env : PENG_BENCH_SGEMM_MODULE;
}

peng_module_t PengSgemmModule() {
  if (g_module) return g_module;
  std::string path = SgemmModulePath();
  peng_status_t st = peng_module_load_file(PengRuntime(), path.c_str(), &g_module);
  PengCheck(st, ("loading " + path).c_str());
  return g_module;
}

void ShutdownPengRuntime() {
  if (!g_runtime) return;
  peng_runtime_wait_idle(g_runtime, PENG_WAIT_FOREVER);
  if (g_module) peng_module_release(g_module);
  g_module = nullptr;
  peng_runtime_release(g_runtime);
  g_runtime = nullptr;
  g_cpu = nullptr;
}

void SetLibraryThreads() {
  openblas_set_num_threads(g_threads);
  // Touch oneDNN first so that its libgomp is surely loaded (it is a DT_NEEDED
  // of libdnnl, so it already is), then set the count on this thread, the one
  // that runs every benchmark.
  (void)dnnl_version();
  if (auto set = OmpSymbol<void (*)(int)>("omp_set_num_threads")) set(g_threads);
}

void AddContext() {
  benchmark::AddCustomContext("peng_bench_threads", std::to_string(g_threads));

  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));

  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext("onednn_version", std::to_string(v->major) + "." +
                                                    std::to_string(v->minor) + "." +
                                                    std::to_string(v->patch));
  benchmark::AddCustomContext("onednn_cpu_isa", CpuIsaName(dnnl_get_effective_cpu_isa()));
  auto get = OmpSymbol<int (*)()>("omp_get_max_threads");
  benchmark::AddCustomContext("onednn_omp_threads",
                              get ? std::to_string(get()) : "unknown (no OpenMP runtime found)");

  try {
    peng_device_info_t info;
    PengCheck(peng_device_info(PengCpu(), &info), "peng_device_info");
    benchmark::AddCustomContext("peng_device", std::string(info.name) + " (" + info.backend +
                                                   ", target " + info.target + ")");
    benchmark::AddCustomContext("peng_cpu_threads", std::to_string(info.compute_units));
  } catch (const std::exception& e) {
    benchmark::AddCustomContext("peng_device", std::string("unavailable: ") + e.what());
  }
  benchmark::AddCustomContext("peng_sgemm_module", SgemmModulePath());
  benchmark::AddCustomContext("peng_sgemm_module_file", FileFingerprint(SgemmModulePath()));
}

}  // namespace peng_bench
