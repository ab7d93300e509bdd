// peng-bench-kernels: the driver. Sets every library to the same thread count,
// registers each family's implementations size by size in a fixed order (so
// that the numbers compared come from neighbouring moments), records the set-up
// in the JSON context, and exits 1 if any benchmark failed its check.
//
//   peng-bench-kernels [--threads=2] --benchmark_repetitions=3
//       --benchmark_out=kernels.json --benchmark_out_format=json
//   python3 bench/kernels/compare.py kernels.json
//
// Benchmarks are named sgemm/<impl>/<n>/real_time; --benchmark_filter=/256
// picks one size. Environment: PENG_BENCH_SGEMM_MODULE overrides the path of
// the sgemm.peng module (default: the one built with the binary).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "driver/env.h"
#include "sgemm/sgemm.h"

namespace peng_bench {
namespace {

using Fn = void (*)(benchmark::State&);

void RegisterAll() {
  struct Impl {
    const char* name;
    Fn fn;
  };
  // The reference library first: its set-up also makes each size's reference.
  const Impl sgemm_impls[] = {
      {"sgemm/openblas", sgemm::OpenBlas},
      {"sgemm/onednn", sgemm::OneDnn},
      {"sgemm/peng", sgemm::Peng},
  };
  for (int n : sgemm::kSizes) {
    for (const Impl& impl : sgemm_impls) {
      benchmark::RegisterBenchmark(impl.name, impl.fn)
          ->Arg(n)
          ->UseRealTime()  // the work runs on the libraries' threads, not this one
          ->Unit(benchmark::kMillisecond);
    }
  }
}

// Takes --threads=N or --threads N out of argv (Google Benchmark rejects flags
// it does not know). Returns false on a malformed value.
bool ParseThreads(int* argc, char** argv, int* threads) {
  std::vector<char*> rest;
  for (int i = 0; i < *argc; ++i) {
    const char* value = nullptr;
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      value = argv[i] + 10;
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < *argc) {
      value = argv[++i];
    } else {
      rest.push_back(argv[i]);
      continue;
    }
    char* end = nullptr;
    long n = std::strtol(value, &end, 10);
    if (!*value || *end || n < 1 || n > 1024) return false;
    *threads = int(n);
  }
  for (size_t i = 0; i < rest.size(); ++i) argv[i] = rest[i];
  *argc = int(rest.size());
  argv[*argc] = nullptr;
  return true;
}

}  // namespace
}  // namespace peng_bench

int main(int argc, char** argv) {
  int threads = 2;
  if (!peng_bench::ParseThreads(&argc, argv, &threads)) {
    std::fprintf(stderr, "peng-bench-kernels: --threads takes a count from 1 to 1024\n");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  peng_bench::SetThreads(threads);
  peng_bench::SetLibraryThreads();
  peng_bench::RegisterAll();
  peng_bench::AddContext();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  peng_bench::sgemm::ShutdownPeng();
  if (peng_bench::AnyFailed()) {
    std::fprintf(stderr, "peng-bench-kernels: some benchmarks failed (see error_message)\n");
    return 1;
  }
  return 0;
}
