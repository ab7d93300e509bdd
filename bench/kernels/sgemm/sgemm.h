// Family: f32 matrix multiply, C[M,N] = A[M,K] * B[K,N], square (M = N = K =
// 256, 512, 1024), row-major, dense, no transposes, alpha = 1, beta = 0.
//
//   peng      the kernel sgemm_<n> of sgemm.mlir (linalg.fill + linalg.matmul),
//             compiled by pengc for the host at build time; one peng_graph_t
//             with one task, built once, submitted again per iteration
//             (iteration = peng_graph_submit + peng_event_wait)
//   openblas  cblas_sgemm(CblasRowMajor, NoTrans, NoTrans, ...)
//   onednn    dnnl_sgemm('N', 'N', ...) (oneDNN's C API is row-major)
//
// Each iteration computes the whole C: 2*M*N*K flops, reported as the GFLOP/s
// counter (a rate over wall-clock time: the libraries run on several threads).
//
// Correctness, before anything is timed: A and B are uniform in [-1, 1) from a
// fixed seed; OpenBLAS's C is the reference, itself checked against a
// double-precision dot product at sampled entries; Peng's and oneDNN's C must
// match it within max |C - C_ref| <= kTolerance * sqrt(K). The entries of C
// have a standard deviation of sqrt(K)/3, so this is an error of 1e-3 relative
// to C's scale; float rounding in any summation order stays around 1e-5 here,
// while any indexing or accumulation bug is off by O(1). Each implementation is
// checked before its first timed run (output poisoned with NaN first, so an
// element never written fails), and the output of its last timed iteration is
// checked again after every timed loop. A failure is a SkipWithError, and
// makes the binary exit 1.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace peng_bench::sgemm {

inline constexpr int kSizes[] = {256, 512, 1024};
inline constexpr double kTolerance = 1e-3;

// 64-byte aligned floats (every implementation gets memory aligned alike).
struct Floats {
  explicit Floats(size_t count);
  float* data() { return ptr.get(); }
  const float* data() const { return ptr.get(); }
  size_t size() const { return count; }
  size_t bytes() const { return count * sizeof(float); }
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> ptr;
  size_t count;
};

// One problem size: inputs and OpenBLAS's reference result, made once per size.
struct Problem {
  int n;
  Floats a, b;     // n x n each, row-major
  Floats c_ref;    // OpenBLAS's A*B
  double flops() const { return 2.0 * double(n) * double(n) * double(n); }
  double tolerance() const;
};

// The problem for size n; throws BenchError if the reference fails its check.
const Problem& GetProblem(int n);

// Max |got - c_ref| over all entries (infinity if any entry is NaN).
double MaxAbsError(const Problem& p, const float* got);
// Throws BenchError unless MaxAbsError(p, got) <= p.tolerance(); returns it.
double Check(const Problem& p, const float* got, const std::string& what);
// Sets NaN everywhere, so an entry an implementation never writes fails Check.
void Poison(Floats& c);

// Reports GFLOP/s (a rate over the timed wall-clock time) and the max
// absolute error found by the last check.
void SetCounters(benchmark::State& state, const Problem& p, double max_abs_error);

// One implementation at one size, made once and kept for the process.
class Target {
 public:
  virtual ~Target() = default;
  // Fills the output with NaN.
  virtual void Poison() = 0;
  // One whole C = A*B: what one timed iteration does.
  virtual void Run() = 0;
  // The output of the last Run (read back where the output is not host memory).
  virtual const float* Result() = 0;
  bool checked = false;
};

// The body every benchmark shares: after a switch from another library, a
// 300 ms pause (untimed) so that its idle threads stop spinning; on the
// target's first use, poison, run once
// (also the warm-up) and Check; then the timed loop, one Run per iteration;
// then Check the last iteration's output; then the counters. `what` names the
// implementation in error messages.
void Measure(benchmark::State& state, const Problem& p, Target& target, const char* what);

// The OpenBLAS call, used for the reference and by the openblas benchmark.
void OpenBlasSgemm(int n, const float* a, const float* b, float* c);

// The benchmarks: state.range(0) is n.
void Peng(benchmark::State& state);
void OpenBlas(benchmark::State& state);
void OneDnn(benchmark::State& state);

// Releases the Peng graphs, buffers and module (before the runtime goes).
void ShutdownPeng();

}  // namespace peng_bench::sgemm
