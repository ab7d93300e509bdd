// End-to-end numerics: every kernel of every module that pengc compiled from
// kernels/*.mlir runs on the CPU device (host code natively, rvv code when this
// binary is cross-built for riscv64 and run under qemu-riscv64 at any VLEN),
// and its outputs are compared with kernels/ref under a per-op tolerance.
// The same harness runs a target's modules on another device when built with
// PENG_E2E_DEVICE and PENG_E2E_PLATFORM (peng_e2e_opencl_test: opencl:0 of
// platforms/dev-opencl.toml); the cpu0-only tests then skip.
//
// One test per kernel, registered at start-up from the modules' metadata; a
// kernel without a reference fails, so nothing compiled goes unchecked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "artifact/module_file.h"
#include "peng/peng.h"
#include "dataplane.h"
#include "ref.h"

namespace {

using peng::ref::Tensor;

std::string g_module_dir;  // where pengc put the modules (main sets it)

#ifndef PENG_E2E_DEVICE
#define PENG_E2E_DEVICE "cpu0"
#endif
// The device every kernel runs on, and the platform profile that has it
// (nullptr: the default runtime, cpu0 alone).
const char* const kDevice = PENG_E2E_DEVICE;
#ifdef PENG_E2E_PLATFORM
const char* const kPlatform = PENG_E2E_PLATFORM;
#else
const char* const kPlatform = nullptr;
#endif
bool OnCpu0() { return std::string(kDevice) == "cpu0"; }

peng_status_t CreateRuntime(peng_runtime_t* rt) {
  // PENG_E2E_PROFILE runs the same table on another profile of the device
  // (tests/e2e/data/opencl-local-tiles.toml: other build options).
  const char* profile = std::getenv("PENG_E2E_PROFILE");
  const char* platform = profile && *profile ? profile : kPlatform;
  peng_runtime_options_t options;
  peng_runtime_options_init(&options);
  options.platform_path = platform;
  return peng_runtime_create(platform ? &options : nullptr, rt);
}

struct Tolerance {
  double atol, rtol;
};

struct Reference {
  // Inputs are drawn uniformly from [-range, range].
  double range;
  Tolerance tol;
  std::function<std::vector<Tensor>(const std::vector<Tensor>&)> run;
};

double plus(double a, double b) { return a + b; }
double minus(double a, double b) { return a - b; }
double times(double a, double b) { return a * b; }

// Kernel name = op name + "_" + shape suffix (e.g. matmul_37x29x45).
const std::map<std::string, Reference>& References() {
  using namespace peng::ref;
  auto add = [](auto& in) {
    return std::vector{Binary(in[0], in[1], [](double a, double b) { return a + b; })};
  };
  static const std::map<std::string, Reference> refs = {
      // Sums of K products in f32, in another order than the reference.
      {"matmul", {1, {1e-5, 1e-4}, [](auto& in) { return std::vector{Matmul(in[0], in[1])}; }}},
      {"matmul_bias_relu",
       {1, {1e-5, 1e-4}, [](auto& in) {
          Tensor m = Matmul(in[0], in[1]);
          return std::vector{Unary(Binary(m, in[2], [](double a, double b) { return a + b; }), Relu)};
        }}},
      {"matmul_acc", {1, {1e-5, 1e-4}, [](auto& in) {
         return std::vector{Binary(Matmul(in[0], in[1]), in[2], plus)};
       }}},
      {"matmul_tb", {1, {1e-5, 1e-4}, [](auto& in) {
         return std::vector{Matmul(in[0], Transpose(in[1], {1, 0}))};
       }}},
      {"batch_matmul",
       {1, {1e-5, 1e-4}, [](auto& in) { return std::vector{BatchMatmul(in[0], in[1])}; }}},
      // Broadcasting follows from the argument shapes: one reference serves all.
      {"add", {10, {0, 1e-7}, add}},
      {"add_row", {10, {0, 1e-7}, add}},
      {"add_col", {10, {0, 1e-7}, add}},
      {"mul", {10, {0, 1e-7}, [](auto& in) {
         return std::vector{Binary(in[0], in[1], [](double a, double b) { return a * b; })};
       }}},
      {"relu", {10, {0, 0}, [](auto& in) { return std::vector{Unary(in[0], Relu)}; }}},
      // erf and exp are MLIR's polynomial approximations (no libm in kernels).
      {"gelu", {5, {1e-6, 1e-5}, [](auto& in) { return std::vector{Unary(in[0], Gelu)}; }}},
      {"silu", {10, {1e-6, 1e-5}, [](auto& in) { return std::vector{Unary(in[0], Silu)}; }}},
      {"softmax", {8, {1e-7, 1e-5}, [](auto& in) { return std::vector{Softmax(in[0])}; }}},
      {"layernorm", {3, {1e-5, 1e-4}, [](auto& in) {
         return std::vector{LayerNorm(in[0], in[1], in[2], 1e-5)};
       }}},
      // Copies between strided views (kernels/layout.mlir); data moves exactly.
      {"pad", {10, {0, 0}, [](auto& in) { return std::vector{Pad(in[0], {1, 1}, {1, 1}, 0)}; }}},
      {"pad_value",
       {10, {0, 0}, [](auto& in) { return std::vector{Pad(in[0], {2, 0}, {1, 3}, 1.5)}; }}},
      {"conv2d_same", {1, {1e-5, 1e-4}, [](auto& in) {
         return std::vector{Conv2dNhwc(in[0], in[1], in[2], {1, 1, 1, 1})};
       }}},
      {"transpose_01", {10, {0, 0}, [](auto& in) { return std::vector{Transpose(in[0], {1, 0})}; }}},
      {"transpose_201",
       {10, {0, 0}, [](auto& in) { return std::vector{Transpose(in[0], {2, 0, 1})}; }}},
      {"transpose_120",
       {10, {0, 0}, [](auto& in) { return std::vector{Transpose(in[0], {1, 2, 0})}; }}},
      {"transpose_3102",
       {10, {0, 0}, [](auto& in) { return std::vector{Transpose(in[0], {3, 1, 0, 2})}; }}},
      {"transpose_021",
       {10, {0, 0}, [](auto& in) { return std::vector{Transpose(in[0], {0, 2, 1})}; }}},
      // Other element types (kernels/dtypes.mlir): integers exactly.
      {"add_f64", {10, {0, 1e-7}, add}},
      {"matmul_f64", {1, {1e-6, 1e-6}, [](auto& in) { return std::vector{Matmul(in[0], in[1])}; }}},
      {"add_i8", {10, {0, 0}, add}},
      {"mul_i16", {10, {0, 0}, [](auto& in) {
         return std::vector{Binary(in[0], in[1], [](double a, double b) { return a * b; })};
       }}},
      {"sub_i32", {10, {0, 0}, [](auto& in) {
         return std::vector{Binary(in[0], in[1], [](double a, double b) { return a - b; })};
       }}},
      {"matmul_i32", {10, {0, 0}, [](auto& in) { return std::vector{Matmul(in[0], in[1])}; }}},
      {"matmul_i8i32", {100, {0, 0}, [](auto& in) { return std::vector{Matmul(in[0], in[1])}; }}},
      {"add_i64", {10, {0, 0}, add}},
      // TOSA beyond elementwise (kernels/tosa_ops.mlir).
      {"reduce_sum_axis1", {10, {1e-5, 1e-5}, [](auto& in) {
         return std::vector{ReduceSum(in[0], 1)};
       }}},
      {"reduce_sum_axis0", {10, {1e-5, 1e-5}, [](auto& in) {
         return std::vector{ReduceSum(in[0], 0)};
       }}},
      {"slice", {10, {0, 0}, [](auto& in) {
         return std::vector{Slice(in[0], {2, 1}, {3, 33})};
       }}},
      {"concat_axis1", {10, {0, 0}, [](auto& in) { return std::vector{Concat(in[0], in[1], 1)}; }}},
      {"max_pool_2x2s2", {10, {0, 0}, [](auto& in) { return std::vector{MaxPoolNhwc(in[0], 2, 2)}; }}},
      {"conv2d_s2", {1, {1e-5, 1e-4}, [](auto& in) {
         return std::vector{Conv2dNhwc(in[0], in[1], in[2], {1, 1, 1, 1}, 2)};
       }}},
      {"tosa_matmul",
       {1, {1e-5, 1e-4}, [](auto& in) { return std::vector{BatchMatmul(in[0], in[1])}; }}},
      // Several results (kernels/multi_result.mlir): each must be its own.
      {"add_mul", {10, {0, 1e-6}, [](auto& in) {
         return std::vector{Binary(in[0], in[1], plus), Binary(in[0], in[1], times)};
       }}},
      {"sub_add_mul", {10, {0, 1e-6}, [](auto& in) {
         return std::vector{Binary(in[0], in[1], minus), Binary(in[0], in[1], plus),
                            Binary(in[0], in[1], times)};
       }}},
      {"square_sum", {10, {0, 1e-6}, [](auto& in) {
         Tensor s = Binary(in[0], in[1], plus);
         return std::vector{Binary(s, s, times), s};
       }}},
      {"rowsum_add", {10, {1e-5, 1e-6}, [](auto& in) {
         return std::vector{RowSum(in[0]), Binary(in[0], in[1], plus)};
       }}},
      {"dup_pass", {10, {0, 0}, [](auto& in) {
         Tensor s = Binary(in[0], in[1], plus);
         return std::vector{s, s, in[0]};
       }}},
      {"shared_temp", {10, {0, 1e-6}, [](auto& in) {
         Tensor s = Binary(in[0], in[1], plus);
         return std::vector{Binary(s, in[0], times), Binary(s, in[1], minus)};
       }}},
      {"two_temps", {10, {0, 1e-6}, [](auto& in) {
         Tensor s = Binary(in[0], in[1], plus), t = Binary(in[0], in[1], times);
         return std::vector{Binary(s, t, times), Binary(s, t, minus)};
       }}},
  };
  return refs;
}

bool IsFloat(peng_dtype_t t) { return t == PENG_DTYPE_F32 || t == PENG_DTYPE_F64; }
bool IsTestedDtype(peng_dtype_t t) {
  return IsFloat(t) || t == PENG_DTYPE_I8 || t == PENG_DTYPE_I16 || t == PENG_DTYPE_I32 ||
         t == PENG_DTYPE_I64;
}

template <typename T>
void Store(std::vector<uint8_t>& out, size_t i, T v) {
  std::memcpy(out.data() + i * sizeof(T), &v, sizeof(T));
}
template <typename T>
float Load(const std::vector<uint8_t>& in, size_t i) {
  T v;
  std::memcpy(&v, in.data() + i * sizeof(T), sizeof(T));
  return float(v);
}

// Debian's qemu-riscv64 7.2 asserts in its translator (decode_save_opc) on
// the RVV float-to-int conversions clang vectorizes these loops into; scalar
// code is plenty for test data.
#if defined(__clang__)
#define PENG_SCALAR_LOOP _Pragma("clang loop vectorize(disable)")
#else
#define PENG_SCALAR_LOOP
#endif

// The reference works in float; these convert to and from a buffer's dtype.
std::vector<uint8_t> Encode(peng_dtype_t t, const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * peng_dtype_size(t));
  PENG_SCALAR_LOOP
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t) {
      case PENG_DTYPE_F64: Store<double>(out, i, v[i]); break;
      case PENG_DTYPE_I8: Store<int8_t>(out, i, int8_t(v[i])); break;
      case PENG_DTYPE_I16: Store<int16_t>(out, i, int16_t(v[i])); break;
      case PENG_DTYPE_I32: Store<int32_t>(out, i, int32_t(v[i])); break;
      case PENG_DTYPE_I64: Store<int64_t>(out, i, int64_t(v[i])); break;
      default: Store<float>(out, i, v[i]); break;
    }
  }
  return out;
}

std::vector<float> Decode(peng_dtype_t t, const std::vector<uint8_t>& raw) {
  std::vector<float> v(raw.size() / peng_dtype_size(t));
  PENG_SCALAR_LOOP
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t) {
      case PENG_DTYPE_F64: v[i] = Load<double>(raw, i); break;
      case PENG_DTYPE_I8: v[i] = Load<int8_t>(raw, i); break;
      case PENG_DTYPE_I16: v[i] = Load<int16_t>(raw, i); break;
      case PENG_DTYPE_I32: v[i] = Load<int32_t>(raw, i); break;
      case PENG_DTYPE_I64: v[i] = Load<int64_t>(raw, i); break;
      default: v[i] = Load<float>(raw, i); break;
    }
  }
  return v;
}

std::string OpName(const std::string& kernel) {
  size_t cut = kernel.rfind('_');
  return cut == std::string::npos ? kernel : kernel.substr(0, cut);
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One argument's bytes, as the device sees them.
struct Raw {
  peng_dtype_t dtype = PENG_DTYPE_INVALID;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  int64_t size() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Runs one kernel of a module on kDevice (cpu0): make_input fills each input
// (read argument, in order; dtype, shape and byte size set), poison each
// output before the run (so an element the kernel never writes shows), and
// the outputs come back in *outputs. With expect_supported false, checks
// instead that the device has no code for it (*ran stays false).
void RunKernel(const std::string& path, const std::string& name, bool expect_supported,
               const std::function<void(const std::vector<Raw>& earlier, Raw* input)>& make_input,
               const std::function<void(Raw* output)>& poison, std::vector<Raw>* inputs,
               std::vector<Raw>* outputs, bool* ran) {
  *ran = false;
  peng_runtime_t rt;
  ASSERT_EQ(CreateRuntime(&rt), PENG_OK) << peng_last_error_message();
  peng_module_t module;
  ASSERT_EQ(peng_module_load_file(rt, path.c_str(), &module), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t kernel;
  ASSERT_EQ(peng_module_find_kernel(module, name.c_str(), &kernel), PENG_OK);
  peng_device_t cpu;
  ASSERT_EQ(peng_runtime_find_device(rt, kDevice, &cpu), PENG_OK)
      << "no device " << kDevice << ": " << peng_last_error_message();
  int supported = 0;
  ASSERT_EQ(peng_kernel_supported_on(kernel, cpu, &supported), PENG_OK);
  if (!expect_supported) {
    EXPECT_FALSE(supported) << kDevice << " runs " << name << " from " << path;
    peng_module_release(module);
    peng_runtime_release(rt);
    return;
  }
  ASSERT_TRUE(supported) << kDevice << " has no code for " << name << " in " << path;
  ASSERT_EQ(peng_runtime_set_policy(rt, PENG_POLICY_EXPLICIT), PENG_OK);

  uint32_t count = 0;
  ASSERT_EQ(peng_kernel_arg_count(kernel, &count), PENG_OK);
  std::vector<peng_tensor_arg_t> args(count);
  std::vector<uint32_t> output_args;
  for (uint32_t i = 0; i < count; ++i) {
    peng_arg_desc_t d;
    ASSERT_EQ(peng_kernel_arg(kernel, i, &d), PENG_OK);
    Raw t;
    t.dtype = d.dtype;
    t.shape.assign(d.shape, d.shape + d.rank);
    t.bytes.resize(size_t(t.size()) * peng_dtype_size(d.dtype));
    args[i].dtype = d.dtype;
    args[i].rank = d.rank;
    std::copy(d.shape, d.shape + d.rank, args[i].shape);
    ASSERT_EQ(peng_buffer_create(rt, t.bytes.size(), &args[i].buffer), PENG_OK);
    if (d.access == PENG_ACCESS_READ) {
      make_input(*inputs, &t);
      if (testing::Test::HasFatalFailure()) return;
      inputs->push_back(std::move(t));
    } else {
      poison(&t);
      outputs->push_back(std::move(t));
      output_args.push_back(i);
    }
    const Raw& written = d.access == PENG_ACCESS_READ ? inputs->back() : outputs->back();
    ASSERT_EQ(peng_buffer_write(args[i].buffer, 0, written.bytes.size(), written.bytes.data()),
              PENG_OK);
  }
  peng_graph_t graph;
  ASSERT_EQ(peng_graph_create(rt, &graph), PENG_OK);
  peng_task_options_t options{};
  options.device = cpu;
  ASSERT_EQ(peng_graph_add_task(graph, kernel, args.data(), count, nullptr, 0, &options, nullptr),
            PENG_OK)
      << peng_last_error_message();
  peng_event_t done;
  ASSERT_EQ(peng_graph_submit(graph, nullptr, 0, &done), PENG_OK);
  ASSERT_EQ(peng_event_wait(done, UINT64_MAX), PENG_OK) << peng_last_error_message();
  for (size_t o = 0; o < outputs->size(); ++o) {
    Raw& out = (*outputs)[o];
    ASSERT_EQ(peng_buffer_read(args[output_args[o]].buffer, 0, out.bytes.size(), out.bytes.data()),
              PENG_OK);
  }
  *ran = true;
  peng_event_release(done);
  peng_graph_release(graph);
  for (auto& a : args) peng_buffer_release(a.buffer);
  peng_module_release(module);
  peng_runtime_release(rt);
}

// ---- data-plane kernels (kernels/dataplane.mlir): exact references

using peng::ref::Bytes;

template <typename T>
std::vector<T> Values(const Raw& r) {
  std::vector<T> v(r.bytes.size() / sizeof(T));
  std::memcpy(v.data(), r.bytes.data(), v.size() * sizeof(T));
  return v;
}
template <typename T>
Bytes BytesOf(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
std::vector<int64_t> Indices(const Raw& r) {
  std::vector<int64_t> v;
  if (r.dtype == PENG_DTYPE_I32) {
    for (int32_t i : Values<int32_t>(r)) v.push_back(i);
  } else {
    v = Values<int64_t>(r);
  }
  return v;
}

struct ExactReference {
  // Fills one input; nullptr: random bytes (any bit pattern, NaNs included:
  // data movement must carry them unchanged).
  std::function<void(std::mt19937& rng, const std::vector<Raw>& earlier, Raw* input)> make_input;
  // The expected bytes of each output (outs give their dtypes and shapes).
  std::function<std::vector<Bytes>(const std::vector<Raw>& in, const std::vector<Raw>& outs)> run;
};

void RandomBytes(std::mt19937& rng, Raw* r) {
  for (uint8_t& b : r->bytes) b = uint8_t(rng());
}

// Row indices for a table of the first input's rows: in range, negative
// (from the end), and a few out of range, which the kernels clamp (gather) or
// skip (scatter); repeats happen (a scatter's later update wins).
void RowIndices(std::mt19937& rng, const std::vector<Raw>& earlier, Raw* r) {
  int64_t rows = earlier.at(0).shape.at(0);
  std::uniform_int_distribution<int64_t> dist(-rows - 3, rows + 2);
  std::vector<int64_t> v(size_t(r->size()));
  for (int64_t& i : v) i = dist(rng);
  v[0] = v.back();  // one repeat for sure
  if (r->dtype == PENG_DTYPE_I32) {
    std::vector<int32_t> n(v.begin(), v.end());
    r->bytes = BytesOf(n);
  } else {
    r->bytes = BytesOf(v);
  }
}

// f32 inputs for the narrowing conversions: random bit patterns (NaNs with
// payloads, infinities, f32 subnormals), values around f16's range and
// subnormals, exact ties between two f16 and two bf16 values, and edges.
void NarrowingInputs(std::mt19937& rng, const std::vector<Raw>&, Raw* r) {
  std::vector<float> v(size_t(r->size()));
  const float edges[] = {0.0f, -0.0f, 65504.0f, 65519.996f, 65520.0f, -65520.0f, 0x1p-24f, 0x1p-25f,
                         0x1.000002p-25f, 0x1.8p-24f, 0x1p-14f, 0x1.ff8p-15f, 3.3895314e38f,
                         3.4028235e38f, INFINITY, -INFINITY, NAN, 1.0f};
  std::uniform_int_distribution<int> exponent(-27, 17);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    switch (i % 4) {
      case 0: break;  // any bit pattern
      case 1: f = std::ldexp(float(bits % 4096) / 4096.0f + 1.0f, exponent(rng)); break;
      case 2: {
        // m + 1/2 ulp at 11 or 8 significant bits: a tie for f16 or bf16.
        int digits = (bits & 1) ? 11 : 8;
        float m = float((1 << (digits - 1)) + (bits >> 8) % (1 << (digits - 1)));
        f = std::ldexp(m + 0.5f, exponent(rng) - digits + 1);
        break;
      }
      case 3: f = edges[(i / 4) % std::size(edges)]; break;
    }
    v[i] = (bits & 0x80000000u) && i % 4 != 0 ? -f : f;
  }
  r->bytes = BytesOf(v);
}

// Every 16-bit pattern, in order (the widening conversions take 65536).
void AllHalfPatterns(std::mt19937&, const std::vector<Raw>&, Raw* r) {
  std::vector<uint16_t> v(size_t(r->size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = uint16_t(i);
  r->bytes = BytesOf(v);
}

// Quantization: x in [-20, 20] (some saturate at the scales below) with
// ties, infinities and a NaN; scales with exact ties (powers of two) and
// without; zero points in [-20, 20].
void QuantInputs(std::mt19937& rng, const std::vector<Raw>& earlier, Raw* r) {
  if (earlier.empty() && r->dtype == PENG_DTYPE_F32) {
    std::uniform_real_distribution<float> dist(-20, 20);
    std::vector<float> v(size_t(r->size()));
    for (size_t i = 0; i < v.size(); ++i) {
      v[i] = i % 5 == 0 ? (std::round(dist(rng) * 8) + 0.5f) / 8 : dist(rng);
    }
    v[1] = INFINITY, v[2] = -INFINITY, v[3] = NAN, v[4] = 0.0f;
    r->bytes = BytesOf(v);
  } else if (earlier.empty()) {
    RandomBytes(rng, r);  // dequantize: any int8
  } else if (r->dtype == PENG_DTYPE_F32) {
    const float scales[] = {0.125f, 0.037f, 1.0f, 0.5f, 0.1f};
    std::vector<float> v(size_t(r->size()));
    for (size_t i = 0; i < v.size(); ++i) v[i] = scales[(i + 4) % std::size(scales)];
    r->bytes = BytesOf(v);
  } else {
    std::uniform_int_distribution<int> dist(-20, 20);
    std::vector<int8_t> v(size_t(r->size()));
    for (int8_t& z : v) z = int8_t(dist(rng));
    r->bytes = BytesOf(v);
  }
}

// Quantize (or dequantize) along `axis` of the first input: scale and zero
// point have one element (per tensor, axis -1) or one per index of that axis.
std::vector<Bytes> Quantize(const std::vector<Raw>& in, int axis, bool dequantize) {
  std::vector<float> scale = Values<float>(in[1]);
  std::vector<int8_t> zero = Values<int8_t>(in[2]);
  int64_t inner = 1, extent = 1;
  if (axis >= 0) {
    extent = in[0].shape[size_t(axis)];
    for (size_t d = size_t(axis) + 1; d < in[0].shape.size(); ++d) inner *= in[0].shape[d];
  }
  auto channel = [&](size_t i) { return axis < 0 ? 0 : size_t((int64_t(i) / inner) % extent); };
  if (dequantize) {
    std::vector<int8_t> q = Values<int8_t>(in[0]);
    std::vector<float> y(q.size());
    for (size_t i = 0; i < q.size(); ++i) {
      y[i] = peng::ref::DequantizeLinear(q[i], scale[channel(i)], zero[channel(i)]);
    }
    return {BytesOf(y)};
  }
  std::vector<float> x = Values<float>(in[0]);
  std::vector<int8_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    y[i] = peng::ref::QuantizeLinear(x[i], scale[channel(i)], zero[channel(i)]);
  }
  return {BytesOf(y)};
}

std::vector<Bytes> TransposeRef(const std::vector<Raw>& in, std::vector<int64_t> perm) {
  return {peng::ref::TransposeBytes(in[0].bytes, in[0].shape, perm,
                                    peng_dtype_size(in[0].dtype))};
}

template <typename From, typename To>
std::vector<Bytes> Convert(const std::vector<Raw>& in, To (*f)(From)) {
  std::vector<To> out;
  for (From x : Values<From>(in[0])) out.push_back(f(x));
  return {BytesOf(out)};
}

// Kernel name = op name + "_" + shape suffix, as for References().
const std::map<std::string, ExactReference>& ExactReferences() {
  using namespace peng::ref;
  using In = const std::vector<Raw>&;
  static const std::map<std::string, ExactReference> refs = {
      {"copy_f32", ExactReference{nullptr, [](In in, In) { return std::vector<Bytes>{in[0].bytes}; }}},
      {"copy_i8", ExactReference{nullptr, [](In in, In) { return std::vector<Bytes>{in[0].bytes}; }}},
      {"gather_rows_i32", ExactReference{nullptr, nullptr}},
      {"gather_rows_i64", ExactReference{nullptr, nullptr}},
      {"scatter_rows_i32", ExactReference{nullptr, nullptr}},
      {"scatter_rows_i64", ExactReference{nullptr, nullptr}},
      {"transpose_nchw_nhwc_f32", ExactReference{nullptr, [](In in, In) { return TransposeRef(in, {0, 2, 3, 1}); }}},
      {"transpose_nhwc_nchw_i8", ExactReference{nullptr, [](In in, In) { return TransposeRef(in, {0, 3, 1, 2}); }}},
      {"transpose_nchw_nhwc_f16", ExactReference{nullptr, [](In in, In) { return TransposeRef(in, {0, 2, 3, 1}); }}},
      {"transpose_batched_i16", ExactReference{nullptr, [](In in, In) { return TransposeRef(in, {0, 2, 1}); }}},
      {"pack_f32", ExactReference{nullptr, [](In in, In) {
         return std::vector<Bytes>{Pack2d(in[0].bytes, 37, 45, 8, 16, 4, Bytes(4, 0))};
       }}},
      {"unpack_f32", ExactReference{nullptr, [](In in, In) {
         return std::vector<Bytes>{Unpack2d(in[0].bytes, 37, 45, 8, 16, 4)};
       }}},
      {"pack_bf16", ExactReference{nullptr, [](In in, In) {
         uint16_t pad = F32ToBf16(1.5f);
         return std::vector<Bytes>{Pack2d(in[0].bytes, 19, 70, 4, 32, 2, BytesOf(std::vector{pad}))};
       }}},
      {"f32_to_f16", ExactReference{NarrowingInputs, [](In in, In) { return Convert(in, F32ToF16); }}},
      {"f16_to_f32", ExactReference{AllHalfPatterns, [](In in, In) { return Convert(in, F16ToF32); }}},
      {"f32_to_bf16", ExactReference{NarrowingInputs, [](In in, In) { return Convert(in, F32ToBf16); }}},
      {"bf16_to_f32", ExactReference{AllHalfPatterns, [](In in, In) { return Convert(in, Bf16ToF32); }}},
      {"quantize_per_tensor", ExactReference{QuantInputs, [](In in, In) { return Quantize(in, -1, false); }}},
      {"dequantize_per_tensor", ExactReference{QuantInputs, [](In in, In) { return Quantize(in, -1, true); }}},
      {"quantize_per_channel", ExactReference{QuantInputs, [](In in, In) { return Quantize(in, 1, false); }}},
      {"dequantize_per_channel", ExactReference{QuantInputs, [](In in, In) { return Quantize(in, 1, true); }}},
      {"crc32c", ExactReference{nullptr, [](In in, In) {
         uint32_t crc = Crc32c(in[0].bytes.data(), in[0].bytes.size());
         return std::vector<Bytes>{BytesOf(std::vector{crc})};
       }}},
  };
  return refs;
}

// Gather and scatter, for any element type: rows of the table's row size.
std::vector<Bytes> RowsRef(const std::string& op, const std::vector<Raw>& in) {
  int64_t rows = in[0].shape[0];
  size_t row_bytes = in[0].bytes.size() / size_t(rows);
  if (op.rfind("gather", 0) == 0) {
    return {peng::ref::GatherRows(in[0].bytes, rows, row_bytes, Indices(in[1]))};
  }
  return {peng::ref::ScatterRows(in[0].bytes, rows, row_bytes, Indices(in[1]), in[2].bytes)};
}

// Runs a data-plane kernel and compares every output bit for bit.
void RunExactAndCheck(const std::string& path, const std::string& name,
                      const std::string& op, const ExactReference& ref) {
  std::mt19937 rng(uint32_t(std::hash<std::string>()(name)));
  bool rows = op.rfind("gather_rows", 0) == 0 || op.rfind("scatter_rows", 0) == 0;
  auto make_input = [&](const std::vector<Raw>& earlier, Raw* r) {
    if (name == "crc32c_9") {
      r->bytes.assign(std::begin(peng::ref::kCrcCheckInput), std::end(peng::ref::kCrcCheckInput));
    } else if (rows && earlier.size() == 1) {
      RowIndices(rng, earlier, r);
    } else if (ref.make_input) {
      ref.make_input(rng, earlier, r);
    } else {
      RandomBytes(rng, r);
    }
    ASSERT_EQ(r->bytes.size(), size_t(r->size()) * peng_dtype_size(r->dtype));
  };
  auto poison = [](Raw* r) { std::fill(r->bytes.begin(), r->bytes.end(), uint8_t(0xA5)); };
  std::vector<Raw> inputs, outputs;
  bool ran = false;
  RunKernel(path, name, true, make_input, poison, &inputs, &outputs, &ran);
  if (!ran) return;
  std::vector<Bytes> expected = rows ? RowsRef(op, inputs) : ref.run(inputs, outputs);
  ASSERT_EQ(expected.size(), outputs.size());
  if (name == "crc32c_9") {
    uint32_t crc;
    std::memcpy(&crc, outputs[0].bytes.data(), 4);
    EXPECT_EQ(crc, peng::ref::kCrc32cCheck) << "crc32c(\"123456789\")";
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    ASSERT_EQ(expected[o].size(), outputs[o].bytes.size()) << "output " << o;
    size_t elem = peng_dtype_size(outputs[o].dtype);
    int reported = 0;
    for (size_t i = 0; i < expected[o].size(); i += elem) {
      if (std::memcmp(&expected[o][i], &outputs[o].bytes[i], elem) == 0) continue;
      if (reported++ < 5) {
        auto hex = [](const uint8_t* p, size_t size) {
          char text[24];
          uint64_t v = 0;
          std::memcpy(&v, p, size);
          std::snprintf(text, sizeof(text), "0x%0*llx", int(2 * size), (unsigned long long)v);
          return std::string(text);
        };
        // The input element that became this one, for elementwise kernels.
        std::string input;
        size_t in_elem = peng_dtype_size(inputs[0].dtype);
        if (inputs[0].bytes.size() / in_elem == expected[o].size() / elem) {
          input = ", input " + hex(&inputs[0].bytes[i / elem * in_elem], in_elem);
        }
        ADD_FAILURE() << name << " output " << o << " element " << i / elem << ": got "
                      << hex(&outputs[o].bytes[i], elem) << ", want " << hex(&expected[o][i], elem)
                      << input;
      }
    }
    EXPECT_EQ(reported, 0) << reported << " elements differ (bitwise comparison)";
  }
}

// Runs one kernel of a module on kDevice (cpu0) and checks it against its
// reference. With expect_supported false, checks instead that the device has
// no code for it.
void RunAndCheck(const std::string& path_, const std::string& kernel_, bool expect_supported = true) {
  std::string op = OpName(kernel_);
  if (auto exact = ExactReferences().find(op); exact != ExactReferences().end()) {
    RunExactAndCheck(path_, kernel_, op, exact->second);
    return;
  }
  auto it = References().find(op);
  ASSERT_NE(it, References().end()) << "no reference for kernel '" << kernel_ << "'";
  const Reference& ref = it->second;

  std::mt19937 rng(uint32_t(std::hash<std::string>()(kernel_)));
  std::uniform_real_distribution<float> dist(float(-ref.range), float(ref.range));
  std::vector<Tensor> inputs;
  auto make_input = [&](const std::vector<Raw>&, Raw* r) {
    ASSERT_TRUE(IsTestedDtype(r->dtype)) << "an input is " << peng_dtype_name(r->dtype);
    Tensor t(r->shape);
    // Integer kernels get integers, which the reference then sees exactly.
    for (float& v : t.data) v = dist(rng);
    if (!IsFloat(r->dtype)) {
      PENG_SCALAR_LOOP
      for (float& v : t.data) v = std::round(v);
    }
    r->bytes = Encode(r->dtype, t.data);
    inputs.push_back(std::move(t));
  };
  // Poison (NaN for floats, a value no test kernel produces for integers).
  auto poison = [](Raw* r) {
    std::vector<float> p(size_t(r->size()), IsFloat(r->dtype) ? std::nanf("") : 77.0f);
    r->bytes = Encode(r->dtype, p);
  };
  std::vector<Raw> raw_inputs, raw_outputs;
  bool ran = false;
  RunKernel(path_, kernel_, expect_supported, make_input, poison, &raw_inputs, &raw_outputs, &ran);
  if (!ran) return;
  std::vector<Tensor> outputs;
  for (const Raw& r : raw_outputs) {
    ASSERT_TRUE(IsTestedDtype(r.dtype)) << "an output is " << peng_dtype_name(r.dtype);
    Tensor t(r.shape);
    t.data = Decode(r.dtype, r.bytes);
    outputs.push_back(std::move(t));
  }

  std::vector<Tensor> expected = ref.run(inputs);
  ASSERT_EQ(expected.size(), outputs.size());
  for (size_t o = 0; o < outputs.size(); ++o) {
    ASSERT_EQ(expected[o].shape, outputs[o].shape);
    int reported = 0;
    double worst = 0;
    for (int64_t i = 0; i < expected[o].size(); ++i) {
      double want = expected[o].data[i], got = outputs[o].data[i];
      double err = std::abs(got - want);
      double allowed = ref.tol.atol + ref.tol.rtol * std::abs(want);
      worst = std::max(worst, err);
      if (!(err <= allowed)) {  // also catches NaN
        if (reported++ < 5) {
          ADD_FAILURE() << kernel_ << " output " << o << " element " << i << ": got " << got
                        << ", want " << want << " (allowed error " << allowed << ")";
        }
      }
    }
    EXPECT_EQ(reported, 0) << reported << " elements out of tolerance";
    testing::Test::RecordProperty("max_abs_error_" + std::to_string(o), std::to_string(worst));
  }
}

class KernelTest : public testing::Test {
 public:
  KernelTest(std::string module_path, std::string kernel)
      : path_(std::move(module_path)), kernel_(std::move(kernel)) {}
  void TestBody() override { RunAndCheck(path_, kernel_); }

 private:
  std::string path_, kernel_;
};

// A module with only VLEN-256 rvv code: cpu0 selects it from its VLEN (vlenb)
// when that is 256, and has no code for it otherwise (or on another arch).
TEST(VlenSpecialised, SelectedOnlyAtItsVlen) {
  if (!OnCpu0()) GTEST_SKIP() << "a cpu0 test";
  peng_runtime_t rt;
  ASSERT_EQ(peng_runtime_create(nullptr, &rt), PENG_OK);
  peng_device_t cpu;
  ASSERT_EQ(peng_runtime_find_device(rt, "cpu0", &cpu), PENG_OK);
  peng_device_info_t info;
  ASSERT_EQ(peng_device_info(cpu, &info), PENG_OK);
  peng_runtime_release(rt);
#if defined(__riscv)
  bool match = info.vector_bits == 256;
#else
  bool match = false;
#endif
  for (const char* k : {"matmul_37x29x45", "matmul_1x67x131", "matmul_13x517x35"}) {
    RunAndCheck(PENG_E2E_VLEN256_MODULE, k, match);
  }
}

// A module whose metadata promises less workspace than the code uses: the
// kernel's entry point sees the short workspace and fails the task instead
// of writing past it.
TEST(Workspace, ShortWorkspaceFailsTheTask) {
  if (!OnCpu0()) GTEST_SKIP() << "a cpu0 test";
  std::vector<uint8_t> bytes = ReadFile(g_module_dir + "/multi_result.peng");
  std::string error;
  auto parsed = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  ASSERT_TRUE(parsed) << error;
  uint32_t index = 0;
  while (index < parsed->kernels.size() &&
         parsed->kernels[index].name != "shared_temp_1024x1024") {
    ++index;
  }
  ASSERT_LT(index, parsed->kernels.size());
  // Every variant of it (host, rvv) promises too little.
  int tampered_entries = 0;
  for (auto& x : parsed->executables) {
    for (auto& e : x.entries) {
      if (e.kernel != index) continue;
      ASSERT_GE(e.launch.workspace, uint64_t(4) << 20)
          << "the 4 MiB temporary is not in the " << x.target << " workspace";
      e.launch.workspace = 64;
      ++tampered_entries;
    }
  }
  ASSERT_GT(tampered_entries, 0);
  std::vector<uint8_t> tampered = peng::artifact::Serialize(*parsed);

  peng_runtime_t rt;
  ASSERT_EQ(peng_runtime_create(nullptr, &rt), PENG_OK);
  peng_module_t module;
  ASSERT_EQ(peng_module_load(rt, "short", tampered.data(), tampered.size(), &module), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t kernel;
  ASSERT_EQ(peng_module_find_kernel(module, "shared_temp_1024x1024", &kernel), PENG_OK);
  std::vector<peng_tensor_arg_t> args(4);
  for (auto& a : args) {
    a.dtype = PENG_DTYPE_F32;
    a.rank = 2;
    a.shape[0] = a.shape[1] = 1024;
    ASSERT_EQ(peng_buffer_create(rt, 1024 * 1024 * 4, &a.buffer), PENG_OK);
  }
  peng_graph_t graph;
  ASSERT_EQ(peng_graph_create(rt, &graph), PENG_OK);
  ASSERT_EQ(peng_graph_add_task(graph, kernel, args.data(), 4, nullptr, 0, nullptr, nullptr),
            PENG_OK)
      << peng_last_error_message();
  peng_event_t done;
  ASSERT_EQ(peng_graph_submit(graph, nullptr, 0, &done), PENG_OK);
  EXPECT_EQ(peng_event_wait(done, UINT64_MAX), PENG_ERROR_KERNEL_FAILED);
  peng_event_release(done);
  peng_graph_release(graph);
  for (auto& a : args) peng_buffer_release(a.buffer);
  peng_module_release(module);
  peng_runtime_release(rt);
}

// One buffer as input and output: relu declares that pair safe in place and
// computes correctly through it; a transpose does not, and is refused when the
// task is added (it would read elements it already overwrote).
TEST(InPlace, EltwiseRunsInPlaceTransposeIsRefused) {
  if (!OnCpu0()) GTEST_SKIP() << "a cpu0 test";
  peng_runtime_t rt;
  ASSERT_EQ(peng_runtime_create(nullptr, &rt), PENG_OK);
  peng_module_t elementwise, layout;
  ASSERT_EQ(peng_module_load_file(rt, (g_module_dir + "/elementwise.peng").c_str(), &elementwise),
            PENG_OK)
      << peng_last_error_message();
  ASSERT_EQ(peng_module_load_file(rt, (g_module_dir + "/layout.peng").c_str(), &layout), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t relu, transpose;
  ASSERT_EQ(peng_module_find_kernel(elementwise, "relu_1001", &relu), PENG_OK);
  ASSERT_EQ(peng_module_find_kernel(layout, "transpose_01_37x29", &transpose), PENG_OK);

  Tensor x({1001});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-10, 10);
  for (float& v : x.data) v = dist(rng);
  peng_buffer_t buffer;
  ASSERT_EQ(peng_buffer_create(rt, 1001 * 4, &buffer), PENG_OK);
  ASSERT_EQ(peng_buffer_write(buffer, 0, 1001 * 4, x.data.data()), PENG_OK);
  peng_tensor_arg_t same[2] = {{buffer, PENG_DTYPE_F32, 1, {1001}},
                               {buffer, PENG_DTYPE_F32, 1, {1001}}};
  peng_graph_t graph;
  ASSERT_EQ(peng_graph_create(rt, &graph), PENG_OK);
  ASSERT_EQ(peng_graph_add_task(graph, relu, same, 2, nullptr, 0, nullptr, nullptr), PENG_OK)
      << peng_last_error_message();
  peng_event_t done;
  ASSERT_EQ(peng_graph_submit(graph, nullptr, 0, &done), PENG_OK);
  ASSERT_EQ(peng_event_wait(done, UINT64_MAX), PENG_OK);
  Tensor got({1001});
  ASSERT_EQ(peng_buffer_read(buffer, 0, 1001 * 4, got.data.data()), PENG_OK);
  EXPECT_EQ(got.data, peng::ref::Unary(x, peng::ref::Relu).data);

  peng_buffer_t square;
  ASSERT_EQ(peng_buffer_create(rt, 37 * 29 * 4, &square), PENG_OK);
  peng_tensor_arg_t aliased[2] = {{square, PENG_DTYPE_F32, 2, {37, 29}},
                                  {square, PENG_DTYPE_F32, 2, {29, 37}}};
  EXPECT_EQ(peng_graph_add_task(graph, transpose, aliased, 2, nullptr, 0, nullptr, nullptr),
            PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(peng_last_error_message()).find("are the same buffer"), std::string::npos)
      << peng_last_error_message();

  peng_event_release(done);
  peng_graph_release(graph);
  peng_buffer_release(buffer);
  peng_buffer_release(square);
  peng_module_release(elementwise);
  peng_module_release(layout);
  peng_runtime_release(rt);
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const char* dir = std::getenv("PENG_E2E_MODULE_DIR");
  std::string module_dir = dir ? dir : PENG_E2E_MODULE_DIR;
  g_module_dir = module_dir;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(module_dir)) {
    if (entry.path().extension() == ".peng") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "e2e: no .peng modules in %s\n", module_dir.c_str());
    return 1;
  }
  for (const std::string& path : files) {
    std::vector<uint8_t> bytes = ReadFile(path);
    std::string error;
    auto parsed = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
    if (!parsed) {
      std::fprintf(stderr, "e2e: %s: %s\n", path.c_str(), error.c_str());
      return 1;
    }
    std::string suite = std::filesystem::path(path).stem().string();
    for (const auto& k : parsed->kernels) {
      testing::RegisterTest(suite.c_str(), k.name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [path, name = k.name]() -> testing::Test* {
                              return new KernelTest(path, name);
                            });
    }
  }
  return RUN_ALL_TESTS();
}
