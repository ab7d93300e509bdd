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

// Runs one kernel of a module on kDevice (cpu0) and checks it against its
// reference. With expect_supported false, checks instead that the device has
// no code for it.
void RunAndCheck(const std::string& path_, const std::string& kernel_, bool expect_supported = true) {
  {
    auto it = References().find(OpName(kernel_));
    ASSERT_NE(it, References().end()) << "no reference for kernel '" << kernel_ << "'";
    const Reference& ref = it->second;

    peng_runtime_t rt;
    ASSERT_EQ(CreateRuntime(&rt), PENG_OK) << peng_last_error_message();
    peng_module_t module;
    ASSERT_EQ(peng_module_load_file(rt, path_.c_str(), &module), PENG_OK)
        << peng_last_error_message();
    peng_kernel_t kernel;
    ASSERT_EQ(peng_module_find_kernel(module, kernel_.c_str(), &kernel), PENG_OK);
    peng_device_t cpu;
    ASSERT_EQ(peng_runtime_find_device(rt, kDevice, &cpu), PENG_OK)
        << "no device " << kDevice << ": " << peng_last_error_message();
    int supported = 0;
    ASSERT_EQ(peng_kernel_supported_on(kernel, cpu, &supported), PENG_OK);
    if (!expect_supported) {
      EXPECT_FALSE(supported) << kDevice << " runs " << kernel_ << " from " << path_;
      peng_module_release(module);
      peng_runtime_release(rt);
      return;
    }
    ASSERT_TRUE(supported) << kDevice << " has no code for " << kernel_ << " in " << path_;
    ASSERT_EQ(peng_runtime_set_policy(rt, PENG_POLICY_EXPLICIT), PENG_OK);

    uint32_t count = 0;
    ASSERT_EQ(peng_kernel_arg_count(kernel, &count), PENG_OK);
    std::mt19937 rng(uint32_t(std::hash<std::string>()(kernel_)));
    std::uniform_real_distribution<float> dist(float(-ref.range), float(ref.range));
    std::vector<peng_tensor_arg_t> args(count);
    std::vector<Tensor> inputs, outputs;
    std::vector<uint32_t> output_args;
    std::vector<peng_dtype_t> output_dtypes;
    for (uint32_t i = 0; i < count; ++i) {
      peng_arg_desc_t d;
      ASSERT_EQ(peng_kernel_arg(kernel, i, &d), PENG_OK);
      ASSERT_TRUE(IsTestedDtype(d.dtype)) << "argument " << i << " is "
                                          << peng_dtype_name(d.dtype);
      Tensor t(std::vector<int64_t>(d.shape, d.shape + d.rank));
      args[i].dtype = d.dtype;
      args[i].rank = d.rank;
      std::copy(d.shape, d.shape + d.rank, args[i].shape);
      size_t bytes = t.data.size() * peng_dtype_size(d.dtype);
      ASSERT_EQ(peng_buffer_create(rt, bytes, &args[i].buffer), PENG_OK);
      if (d.access == PENG_ACCESS_READ) {
        // Integer kernels get integers, which the reference then sees exactly.
        for (float& v : t.data) v = dist(rng);
        if (!IsFloat(d.dtype)) {
          PENG_SCALAR_LOOP
          for (float& v : t.data) v = std::round(v);
        }
        std::vector<uint8_t> raw = Encode(d.dtype, t.data);
        ASSERT_EQ(peng_buffer_write(args[i].buffer, 0, raw.size(), raw.data()), PENG_OK);
        inputs.push_back(std::move(t));
      } else {
        // Poison, so an output element the kernel never writes shows (NaN for
        // floats, a value no test kernel produces for integers).
        std::vector<float> poison(t.data.size(), IsFloat(d.dtype) ? std::nanf("") : 77.0f);
        std::vector<uint8_t> raw = Encode(d.dtype, poison);
        ASSERT_EQ(peng_buffer_write(args[i].buffer, 0, raw.size(), raw.data()), PENG_OK);
        outputs.push_back(std::move(t));
        output_args.push_back(i);
        output_dtypes.push_back(d.dtype);
      }
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
    for (size_t o = 0; o < outputs.size(); ++o) {
      std::vector<uint8_t> raw(outputs[o].data.size() * peng_dtype_size(output_dtypes[o]));
      ASSERT_EQ(peng_buffer_read(args[output_args[o]].buffer, 0, raw.size(), raw.data()), PENG_OK);
      outputs[o].data = Decode(output_dtypes[o], raw);
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
    peng_event_release(done);
    peng_graph_release(graph);
    for (auto& a : args) peng_buffer_release(a.buffer);
    peng_module_release(module);
    peng_runtime_release(rt);
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
