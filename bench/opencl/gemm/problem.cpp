// The sgemm family's shared parts: sizes, inputs, the sampled reference, the
// check and the timed loop.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "driver/harness.h"
#include "gemm/gemm.h"

namespace peng_bench_ocl::gemm {
namespace {

constexpr int kSamples = 256;

std::vector<int> ParseSizes() {
  const char* env = std::getenv("PENG_BENCH_GEMM_SIZES");
  if (!env || !*env) return {256, 512, 1024, 2048};
  std::vector<int> sizes;
  std::stringstream list(env);
  std::string item;
  while (std::getline(list, item, ',')) {
    char* end = nullptr;
    long n = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || n < 1 || n > 16384) {
      throw BenchError("PENG_BENCH_GEMM_SIZES: '" + item + "' is not a size (1..16384)");
    }
    sizes.push_back(int(n));
  }
  return sizes;
}

std::unique_ptr<Problem> MakeProblem(int n) {
  auto p = std::make_unique<Problem>();
  p->n = n;
  const size_t count = size_t(n) * size_t(n);
  std::mt19937 rng(20240915u + uint32_t(n));  // fixed seed per size
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  p->a.resize(count);
  p->b.resize(count);
  for (float& x : p->a) x = value(rng);
  for (float& x : p->b) x = value(rng);
  // The corners catch edge handling; the random entries the rest.
  std::uniform_int_distribution<int> pick(0, n - 1);
  for (int s = 0; s < kSamples; ++s) {
    Sample e{};
    e.i = s < 4 ? (s & 1) * (n - 1) : pick(rng);
    e.j = s < 4 ? (s >> 1) * (n - 1) : pick(rng);
    for (int k = 0; k < n; ++k) {
      double term = double(p->a[size_t(e.i) * n + k]) * double(p->b[size_t(k) * n + e.j]);
      e.want += term;
      e.scale += std::abs(term);
    }
    p->samples.push_back(e);
  }
  return p;
}

}  // namespace

const std::vector<int>& Sizes() {
  static const std::vector<int> sizes = ParseSizes();
  return sizes;
}

const Problem& GetProblem(int n) {
  static std::map<int, std::unique_ptr<Problem>> problems;
  auto it = problems.find(n);
  if (it == problems.end()) it = problems.emplace(n, MakeProblem(n)).first;
  return *it->second;
}

double Check(const Problem& p, const std::vector<float>& c, const std::string& who) {
  char msg[256];
  if (c.size() != size_t(p.n) * size_t(p.n)) throw BenchError(who + ": C has the wrong size");
  for (size_t x = 0; x < c.size(); ++x) {
    if (!std::isfinite(c[x])) {
      std::snprintf(msg, sizeof msg, "%s at n=%d: C[%zu][%zu] = %g (never written?)", who.c_str(),
                    p.n, x / p.n, x % p.n, double(c[x]));
      throw BenchError(msg);
    }
  }
  double worst = 0;
  for (const Sample& e : p.samples) {
    double got = c[size_t(e.i) * p.n + e.j];
    double rel = std::abs(got - e.want) / (e.scale > 0 ? e.scale : 1.0);
    if (!(rel <= kRelativeTolerance)) {
      std::snprintf(msg, sizeof msg,
                    "%s at n=%d: C[%d][%d] = %.7g, the float64 reference %.7g: relative error "
                    "%.3g > %.0e",
                    who.c_str(), p.n, e.i, e.j, got, e.want, rel, kRelativeTolerance);
      throw BenchError(msg);
    }
    if (rel > worst) worst = rel;
  }
  return worst;
}

void Measure(benchmark::State& state, const Problem& p, Target& target, const std::string& who) {
  if (!target.checked) {
    target.Poison();
    target.Run();
    Check(p, target.Result(), who);
    target.CheckWarm();
    target.checked = true;
  }
  using Clock = std::chrono::steady_clock;
  double seconds = 0;
  for (auto _ : state) {
    Clock::time_point start = Clock::now();
    target.Run();
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(s);
    seconds += s;
  }
  double err = Check(p, target.Result(), who + " (after the timed runs)");
  if (seconds > 0) {
    state.counters["GFLOP/s"] = p.flops() * double(state.iterations()) / seconds * 1e-9;
  }
  state.counters["max_rel_err"] = err;
}

}  // namespace peng_bench_ocl::gemm
