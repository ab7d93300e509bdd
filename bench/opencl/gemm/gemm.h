// Family sgemm: C = A * B in f32, square N x N x N, row-major, no transposes,
// alpha 1, beta 0, on the one OpenCL device both sides use (Peng's opencl:0 of
// platforms/dev-opencl.toml; device 0 over all platforms for CLBlast). Sizes:
// PENG_BENCH_GEMM_SIZES (comma-separated), default 256,512,1024,2048.
//
//   peng     sgemm_<N> of gemm/sgemm.mlir (linalg.fill + linalg.matmul),
//            compiled by this build's pengc --targets=opencl, loaded with
//            peng_module_load_file; one graph of one task placed on opencl:0,
//            built once. An iteration is peng_graph_submit + peng_event_wait,
//            with A and B already valid in the device's memory (checked).
//   clblast  CLBlastSgemm(RowMajor, No, No) on an in-order queue of a context
//            of its own on the same device, A, B and C made and filled once.
//            An iteration is the call + clFinish.
//
// Both time one whole C = A * B per iteration (manual time, wall clock, around
// Target::Run); GFLOP/s = 2 N^3 * iterations / timed seconds.
//
// Correctness, before timing: A and B are uniform in [-1, 1) from a fixed seed
// per size; C is filled with NaN, one run computes it, and every entry must be
// finite (so an entry never written fails) and 256 sampled entries (the four
// corners and 252 random (i, j)) must match a double-precision dot product:
// |C_ij - ref_ij| <= kRelativeTolerance * sum_k |A_ik * B_kj|. That sum bounds
// what float rounding can do in any summation order (the error grows like
// sqrt(N) * 6e-8 of it in practice, N * 6e-8 at worst), while a missed or
// doubled term of the dot product is off by about 1 / N of it. The last timed
// run's C is checked again after the loop. A failure is a SkipWithError (the
// row is missing from compare.py's table and reported) and makes the binary exit 1.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peng_bench_ocl::gemm {

inline constexpr double kRelativeTolerance = 1e-4;

// PENG_BENCH_GEMM_SIZES, or 256, 512, 1024, 2048. Throws BenchError on a
// malformed list.
const std::vector<int>& Sizes();

struct Sample {
  int i, j;
  double want;   // sum_k A_ik * B_kj in double precision
  double scale;  // sum_k |A_ik * B_kj|
};

// One size: the inputs and the sampled reference, made once per size.
struct Problem {
  int n;
  std::vector<float> a, b;  // n x n each, row-major
  std::vector<Sample> samples;
  double flops() const { return 2.0 * double(n) * double(n) * double(n); }
  size_t bytes() const { return size_t(n) * size_t(n) * sizeof(float); }
};
const Problem& GetProblem(int n);

// Throws BenchError unless c passes the check above; returns the worst
// sampled relative error.
double Check(const Problem& p, const std::vector<float>& c, const std::string& who);

// One implementation at one size, made on first use and kept for the process.
class Target {
 public:
  virtual ~Target() = default;
  // Fills C with NaN.
  virtual void Poison() = 0;
  // One whole C = A * B, finished: what one timed iteration does.
  virtual void Run() = 0;
  // C of the last run, read back to the host.
  virtual std::vector<float> Result() = 0;
  // After the checked first run: throws BenchError if the state the timed
  // runs start from is not the one README.md describes.
  virtual void CheckWarm() {}
  bool checked = false;
};

// What every sgemm benchmark does: on the target's first use poison, run once
// (also the warm-up: program builds, transfers), Check and CheckWarm; then the
// timed loop; then Check again; then the counters GFLOP/s and max_rel_err.
void Measure(benchmark::State& state, const Problem& p, Target& target, const std::string& who);

// The benchmarks, N = n. Each exists only where it was built: peng with
// pengc, clblast with CLBlast (see CMakeLists.txt).
void Peng(benchmark::State& state, uint32_t n);
void ClBlast(benchmark::State& state, uint32_t n);
// Release the targets, before the Peng runtime and the OpenCL context go.
void ShutdownPeng();
void ShutdownClBlast();
// For the JSON context: the module's path; CLBlast's version.
std::string PengModulePath();
std::string ClBlastVersion();

}  // namespace peng_bench_ocl::gemm
