// peng-consumer: a program outside the Peng tree, built against an installed
// SDK (docs/sdk.md), with CMake (CMakeLists.txt here) or with pkg-config:
//
//   pengc kernels.mlir -o kernels.peng --targets=host,rvv
//   c++ main.cpp $(pkg-config --cflags --libs peng) -o peng-consumer
//   ./peng-consumer kernels.peng
//
// It loads kernels.peng twice, from the file and from memory, prints each
// kernel's signature, and runs the layer y = relu(a·b + bias) as a graph of two
// launches: bias_relu reads what matmul writes, so the runtime orders them.
// y is checked against a plain C++ reference computed here, in double.
// Exit status: 0 when every element is within tolerance, 1 on a mismatch or a
// runtime error, 2 on bad usage. Plain C++14, like peng.hpp.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <peng/peng.hpp>

namespace {

constexpr int64_t kM = 29, kK = 17, kN = 23; // as in kernels.mlir

// |y - ref| <= kTolerance. Each y sums 17 products of values in [-1, 1) and a
// bias, so |y| < 18, and f32 rounding in any order, with or without FMA, is
// within about 18 * 2^-24 * 18 = 2e-5 of the exact value. 1e-4 is above that
// and far below what a wrong element is off by.
constexpr double kTolerance = 1e-4;

// Deterministic values in [-1, 1), exact in f32, the same on every machine.
std::vector<float> Pattern(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed;
  for (float &x : v) {
    s = s * 1664525u + 1013904223u; // an LCG: numbers, not statistics
    x = float(int32_t(s >> 8) - (1 << 23)) / float(1 << 23);
  }
  return v;
}

// relu(a·b + bias) in double, independently of the kernels.
std::vector<double> Reference(const std::vector<float> &a, const std::vector<float> &b,
                              const std::vector<float> &bias) {
  std::vector<double> y(size_t(kM * kN));
  for (int64_t i = 0; i < kM; ++i) {
    for (int64_t j = 0; j < kN; ++j) {
      double s = bias[size_t(j)];
      for (int64_t k = 0; k < kK; ++k)
        s += double(a[size_t(i * kK + k)]) * b[size_t(k * kN + j)];
      y[size_t(i * kN + j)] = s > 0 ? s : 0;
    }
  }
  return y;
}

std::string Signature(const peng::Kernel &kernel) {
  std::string s = kernel.name() + "(";
  std::vector<peng_arg_desc_t> args = kernel.args();
  for (size_t i = 0; i < args.size(); ++i) {
    if (i)
      s += ", ";
    s += peng_dtype_name(args[i].dtype);
    s += "[";
    for (uint32_t d = 0; d < args[i].rank; ++d) {
      if (d)
        s += "x";
      s += args[i].shape[d] < 0 ? "?" : std::to_string(args[i].shape[d]);
    }
    s += args[i].access == PENG_ACCESS_READ ? "] in" : "] out";
  }
  return s + ")";
}

// The kernel must take f32 inputs of these shapes and write one f32 result of
// the last shape: what the launches below pass it.
bool HasSignature(const peng::Kernel &kernel, const std::vector<std::vector<int64_t>> &shapes) {
  std::vector<peng_arg_desc_t> args = kernel.args();
  if (args.size() != shapes.size())
    return false;
  for (size_t i = 0; i < args.size(); ++i) {
    peng_access_t want = i + 1 == args.size() ? PENG_ACCESS_WRITE : PENG_ACCESS_READ;
    if (args[i].dtype != PENG_DTYPE_F32 || args[i].access != want ||
        args[i].rank != shapes[i].size())
      return false;
    for (uint32_t d = 0; d < args[i].rank; ++d) {
      if (args[i].shape[d] != shapes[i][d])
        return false;
    }
  }
  return true;
}

std::vector<char> ReadFile(const char *path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw peng::Error(PENG_ERROR_IO, std::string("cannot open '") + path + "'");
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int Run(const char *module_path) {
  peng::Runtime rt;
  peng::Module from_file = rt.load_module_file(module_path);
  std::vector<char> bytes = ReadFile(module_path);
  peng::Module from_memory = rt.load_module("kernels", bytes.data(), bytes.size());
  bytes = {}; // the runtime keeps its own copy
  for (const peng::Kernel &k : from_file.kernels())
    std::printf("kernel %s\n", Signature(k).c_str());
  if (from_memory.kernel_count() != from_file.kernel_count()) {
    std::fprintf(stderr, "peng-consumer: the module loaded from memory differs from the file\n");
    return 1;
  }

  peng::Kernel matmul = from_file.kernel("matmul_29x17x23");
  peng::Kernel bias_relu = from_memory.kernel("bias_relu_29x23");
  if (!HasSignature(matmul, {{kM, kK}, {kK, kN}, {kM, kN}}) ||
      !HasSignature(bias_relu, {{kM, kN}, {kN}, {kM, kN}})) {
    std::fprintf(stderr, "peng-consumer: %s does not hold the kernels of kernels.mlir\n",
                 module_path);
    return 1;
  }

  const std::vector<float> a = Pattern(size_t(kM * kK), 1), b = Pattern(size_t(kK * kN), 2),
                           bias = Pattern(size_t(kN), 3);
  peng::Buffer a_buf = rt.buffer(a.size() * sizeof(float));
  peng::Buffer b_buf = rt.buffer(b.size() * sizeof(float));
  peng::Buffer bias_buf = rt.buffer(bias.size() * sizeof(float));
  peng::Buffer c_buf = rt.buffer(size_t(kM * kN) * sizeof(float));
  peng::Buffer y_buf = rt.buffer(size_t(kM * kN) * sizeof(float));
  a_buf.write(a.data(), a.size() * sizeof(float));
  b_buf.write(b.data(), b.size() * sizeof(float));
  bias_buf.write(bias.data(), bias.size() * sizeof(float));
  // NaN in y: an element that no kernel writes fails the check below.
  const std::vector<float> nan(size_t(kM * kN), std::nanf(""));
  y_buf.write(nan.data(), nan.size() * sizeof(float));

  peng::Graph graph = rt.graph();
  graph.add(matmul, {a_buf.tensor(PENG_DTYPE_F32, {kM, kK}), b_buf.tensor(PENG_DTYPE_F32, {kK, kN}),
                     c_buf.tensor(PENG_DTYPE_F32, {kM, kN})});
  graph.add(bias_relu,
            {c_buf.tensor(PENG_DTYPE_F32, {kM, kN}), bias_buf.tensor(PENG_DTYPE_F32, {kN}),
             y_buf.tensor(PENG_DTYPE_F32, {kM, kN})});
  graph.submit().wait(); // throws peng::Error with the first task error

  const std::vector<float> y = y_buf.read_all<float>();
  const std::vector<double> ref = Reference(a, b, bias);
  size_t bad = 0, zeros = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    zeros += ref[i] == 0;
    double err = std::fabs(double(y[i]) - ref[i]);
    if (!(err <= kTolerance)) { // NaN fails too
      if (++bad <= 5)
        std::fprintf(stderr, "peng-consumer: y[%zu][%zu] = %.9g, reference %.9g\n", i / size_t(kN),
                     i % size_t(kN), double(y[i]), ref[i]);
    }
  }
  if (bad) {
    std::fprintf(stderr, "peng-consumer: %zu of %zu elements off by more than %g\n", bad,
                 ref.size(), kTolerance);
    return 1;
  }
  std::printf("peng-consumer: OK, %zu elements (%zu clamped by relu) within %g\n", ref.size(),
              zeros, kTolerance);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: peng-consumer KERNELS.peng   (pengc kernels.mlir -o KERNELS.peng)\n");
    return 2;
  }
  try {
    return Run(argv[1]);
  } catch (const peng::Error &e) {
    std::fprintf(stderr, "peng-consumer: %s\n", e.what());
    return 1;
  }
}
