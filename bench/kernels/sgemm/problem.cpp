// The sgemm family's shared parts: inputs, the reference, the check, counters.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <thread>

#include "driver/env.h"
#include "sgemm/sgemm.h"

namespace peng_bench::sgemm {

Floats::Floats(size_t n) : count(n) {
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  ptr.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (!ptr) throw std::bad_alloc();
}

void Floats::Free::operator()(float* p) const { std::free(p); }

double Problem::tolerance() const { return kTolerance * std::sqrt(double(n)); }

void OpenBlasSgemm(int n, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
}

namespace {

std::unique_ptr<Problem> MakeProblem(int n) {
  const size_t count = size_t(n) * size_t(n);
  auto p = std::unique_ptr<Problem>(new Problem{n, Floats(count), Floats(count), Floats(count)});
  std::mt19937 rng(20240601u + uint32_t(n));  // fixed seed per size
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < count; ++i) p->a.data()[i] = dist(rng);
  for (size_t i = 0; i < count; ++i) p->b.data()[i] = dist(rng);
  Poison(p->c_ref);
  OpenBlasSgemm(n, p->a.data(), p->b.data(), p->c_ref.data());

  // Check the reference itself: double-precision dot products at the four
  // corners and 1020 random entries.
  std::uniform_int_distribution<int> pick(0, n - 1);
  double worst = 0;
  for (int s = 0; s < 1024; ++s) {
    int i = s < 4 ? (s & 1) * (n - 1) : pick(rng);
    int j = s < 4 ? (s >> 1) * (n - 1) : pick(rng);
    double want = 0;
    for (int k = 0; k < n; ++k) {
      want += double(p->a.data()[size_t(i) * n + k]) * double(p->b.data()[size_t(k) * n + j]);
    }
    double err = std::abs(double(p->c_ref.data()[size_t(i) * n + j]) - want);
    if (!(err <= worst)) worst = std::isnan(err) ? std::numeric_limits<double>::infinity() : err;
  }
  if (!(worst <= p->tolerance())) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "reference (OpenBLAS) at n=%d is off by %.3g from float64 dot products "
                  "(tolerance %.3g)",
                  n, worst, p->tolerance());
    throw BenchError(msg);
  }
  return p;
}

}  // namespace

const Problem& GetProblem(int n) {
  static std::map<int, std::unique_ptr<Problem>> problems;
  auto it = problems.find(n);
  if (it == problems.end()) it = problems.emplace(n, MakeProblem(n)).first;
  return *it->second;
}

double MaxAbsError(const Problem& p, const float* got) {
  double worst = 0;
  const float* want = p.c_ref.data();
  for (size_t i = 0; i < p.c_ref.size(); ++i) {
    double err = std::abs(double(got[i]) - double(want[i]));
    if (!(err <= worst)) {  // NaN: never <=
      if (std::isnan(err)) return std::numeric_limits<double>::infinity();
      worst = err;
    }
  }
  return worst;
}

double Check(const Problem& p, const float* got, const std::string& what) {
  double err = MaxAbsError(p, got);
  if (!(err <= p.tolerance())) {
    char msg[200];
    std::snprintf(msg, sizeof msg, "%s at n=%d: max |C - C_openblas| = %.3g > tolerance %.3g",
                  what.c_str(), p.n, err, p.tolerance());
    throw BenchError(msg);
  }
  return err;
}

void Poison(Floats& c) { std::fill_n(c.data(), c.size(), std::nanf("")); }

void SetCounters(benchmark::State& state, const Problem& p, double max_abs_error) {
  // kIsRate divides by the timed seconds: real time under UseRealTime().
  state.counters["GFLOP/s"] =
      benchmark::Counter(p.flops() * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["max_abs_err"] = max_abs_error;
}

void Measure(benchmark::State& state, const Problem& p, Target& target, const char* what) {
  // When the library changes, let the previous one's idle workers park first:
  // OpenBLAS's spin (with sched_yield) for about 2^28 cycles after each call,
  // OpenMP's for a while too, and on two cores they would take a core from
  // the next library's first iterations.
  static std::string last_library;
  if (last_library != what) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    last_library = what;
  }
  if (!target.checked) {
    target.Poison();
    target.Run();
    Check(p, target.Result(), what);
    target.checked = true;
  }
  for (auto _ : state) target.Run();
  double err = Check(p, target.Result(), std::string(what) + " (after the timed runs)");
  SetCounters(state, p, err);
}

}  // namespace peng_bench::sgemm
