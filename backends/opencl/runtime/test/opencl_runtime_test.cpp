// The opencl backend through the public runtime API, on platforms/dev-opencl.toml
// (cpu0 and the first OpenCL device as "opencl:0"): a module.peng holding
// OpenCL C (test_kernels.cl) runs against references computed here, alone and
// in a graph with a CPU task; a program that does not build and code that
// needs a missing extension are refused with the reason; a host-unified
// device in host memory runs with no copies. Skips when the machine has no
// OpenCL device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <CL/cl.h>

#include "device_query.h"
#include "artifact/module_file.h"
#include "peng/hal.h"
#include "peng/peng.h"

extern "C" const peng_hal_factory_t* peng_backend_opencl_factory(void);

namespace {

namespace art = peng::artifact;

std::string TestKernels() {
  std::ifstream in(PENG_OPENCL_TEST_KERNELS);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

art::ArgInfo Arg(peng_access_t access, std::vector<int64_t> shape) {
  return {PENG_DTYPE_F32, access, std::move(shape)};
}

art::Entry OpenClEntry(uint32_t kernel, const char* symbol, std::vector<peng_grid_dim_t> grid,
                       uint32_t wg_x, uint32_t wg_y) {
  art::Entry e;
  e.kernel = kernel;
  e.symbol = symbol;
  for (size_t i = 0; i < grid.size(); ++i) e.launch.grid[i] = grid[i];
  e.launch.workgroup_size[0] = wg_x;
  e.launch.workgroup_size[1] = wg_y;
  e.launch.workgroup_size[2] = 1;
  return e;
}

// axpb over [n] and transpose_scale over dynamic 2-D shapes, as one opencl
// executable; `source` replaces test_kernels.cl, `features` are the
// extensions it claims to need.
std::vector<uint8_t> OpenClModule(int64_t n, const std::string& source,
                                  std::vector<std::string> features = {}) {
  art::ModuleFile m;
  m.producer = "opencl_runtime_test";
  art::KernelInfo axpb;
  axpb.name = "axpb";
  axpb.args = {Arg(PENG_ACCESS_READ, {n}), Arg(PENG_ACCESS_READ, {n}), Arg(PENG_ACCESS_WRITE, {n})};
  axpb.constant_count = 2;
  axpb.flops = 3.0 * double(n);
  axpb.bytes = 12.0 * double(n);
  m.kernels.push_back(axpb);
  art::KernelInfo transpose;
  transpose.name = "transpose_scale";
  transpose.args = {Arg(PENG_ACCESS_READ, {-1, -1}), Arg(PENG_ACCESS_WRITE, {-1, -1})};
  transpose.constant_count = 1;
  m.kernels.push_back(transpose);
  art::Executable x;
  x.target = "opencl";
  x.format = "opencl-c";
  x.features = std::move(features);
  x.code.assign(source.begin(), source.end());
  // x along the output (arg 2) in work-groups of 64; the transpose's x along
  // its input's columns, y along its rows, in 8 x 8 work-groups.
  x.entries.push_back(OpenClEntry(0, "axpb", {{2, 0, 64}}, 64, 1));
  x.entries.push_back(OpenClEntry(1, "transpose_scale", {{0, 1, 8}, {0, 0, 8}}, 8, 8));
  m.executables.push_back(std::move(x));
  return art::Serialize(m);
}

// out[i] = -in[i], a host kernel for the mixed graph.
int Negate(const peng_dispatch_state_t* s, const peng_workgroup_state_t*) {
  const float* in = static_cast<const float*>(s->bindings[0]);
  float* out = static_cast<float*>(s->bindings[1]);
  for (int64_t i = 0; i < s->shapes[0][0]; ++i) out[i] = -in[i];
  return 0;
}

class OpenClRuntime : public ::testing::Test {
 protected:
  void SetUp() override {
    uint32_t count = 0;
    ASSERT_EQ(peng_backend_opencl_factory()->enumerate(&count), PENG_OK);
    if (count == 0) GTEST_SKIP() << "this machine has no OpenCL device";
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    o.platform_path = PENG_SOURCE_DIR "/platforms/dev-opencl.toml";
    o.enable_trace = 1;
    ASSERT_EQ(peng_runtime_create(&o, &rt_), PENG_OK) << peng_last_error_message();
    ASSERT_EQ(peng_runtime_find_device(rt_, "opencl:0", &ocl_), PENG_OK);
  }
  void TearDown() override {
    for (peng_buffer_t b : buffers_) peng_buffer_release(b);
    if (module_) peng_module_release(module_);
    if (rt_) peng_runtime_release(rt_);
  }

  peng_buffer_t Buffer(const std::vector<float>& contents) {
    peng_buffer_t b = nullptr;
    EXPECT_EQ(peng_buffer_create(rt_, contents.size() * 4, &b), PENG_OK);
    EXPECT_EQ(peng_buffer_write(b, 0, contents.size() * 4, contents.data()), PENG_OK);
    buffers_.push_back(b);
    return b;
  }
  std::vector<float> Contents(peng_buffer_t b, size_t n) {
    std::vector<float> v(n);
    EXPECT_EQ(peng_buffer_read(b, 0, n * 4, v.data()), PENG_OK) << peng_last_error_message();
    return v;
  }
  void LoadModule(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(peng_module_load(rt_, "ocl", bytes.data(), bytes.size(), &module_), PENG_OK)
        << peng_last_error_message();
  }
  peng_kernel_t Kernel(const char* name) {
    peng_kernel_t k = nullptr;
    EXPECT_EQ(peng_module_find_kernel(module_, name, &k), PENG_OK);
    return k;
  }
  peng_status_t Run(peng_graph_t g) {
    peng_event_t done;
    peng_status_t st = peng_graph_submit(g, nullptr, 0, &done);
    if (st != PENG_OK) return st;
    st = peng_event_wait(done, PENG_WAIT_FOREVER);
    peng_event_release(done);
    return st;
  }

  static peng_tensor_arg_t Tensor(peng_buffer_t b, std::vector<int64_t> shape) {
    peng_tensor_arg_t t{};
    t.buffer = b;
    t.dtype = PENG_DTYPE_F32;
    t.rank = uint32_t(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) t.shape[i] = shape[i];
    return t;
  }

  peng_runtime_t rt_ = nullptr;
  peng_device_t ocl_ = nullptr;
  peng_module_t module_ = nullptr;
  std::vector<peng_buffer_t> buffers_;
};

TEST_F(OpenClRuntime, ProfileNamesTheDevice) {
  peng_device_info_t info;
  ASSERT_EQ(peng_device_info(ocl_, &info), PENG_OK);
  EXPECT_STREQ(info.backend, "opencl");
  EXPECT_STREQ(info.target, "opencl");
  EXPECT_EQ(info.kind, PENG_DEVICE_NPU);
  EXPECT_NE(info.memory_space, 0u);
  uint32_t count = 0;
  ASSERT_EQ(peng_runtime_device_count(rt_, &count), PENG_OK);
  EXPECT_EQ(count, 2u);
}

// A runtime on a profile with cpu0 and OpenCL device 0 in `memory` (and
// `extra` lines for it); *rt is NULL if the runtime refused the profile.
peng_status_t ProfileRuntime(const std::string& memory, const std::string& extra,
                             peng_runtime_t* rt) {
  std::string path = testing::TempDir() + "peng_opencl_memory_" + memory + ".toml";
  {
    std::ofstream(path) << "[[device]]\nname = \"cpu0\"\nbackend = \"cpu\"\n"
                           "[[device]]\nname = \"opencl:0\"\nbackend = \"opencl\"\nkind = \"npu\"\n"
                           "memory = \""
                        << memory << "\"\n"
                        << extra;
  }
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = path.c_str();
  o.enable_trace = 1;
  *rt = nullptr;
  peng_status_t st = peng_runtime_create(&o, rt);
  std::remove(path.c_str());
  return st;
}

// A device with memory of its own (zero_copy = false stands in for one on a
// host-unified machine) in a profile that leaves `memory` at "host" is
// refused with the fix.
TEST_F(OpenClRuntime, DeviceWithItsOwnMemoryMustBeDiscrete) {
  peng_runtime_t rt = nullptr;
  EXPECT_EQ(ProfileRuntime("host", "zero_copy = false\n", &rt), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(peng_last_error_message()).find("memory = \"discrete\""),
            std::string::npos)
      << peng_last_error_message();
  EXPECT_EQ(rt, nullptr);
}

// The copies between host memory and the device's a trace recorded.
int CountTransfers(peng_runtime_t rt) {
  std::string path = testing::TempDir() + "peng_opencl_transfers.json";
  if (peng_runtime_write_trace(rt, path.c_str()) != PENG_OK) return -1;
  std::ifstream in(path);
  std::string trace{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::remove(path.c_str());
  int count = 0;
  for (size_t at = trace.find("\"transfer\""); at != std::string::npos;
       at = trace.find("\"transfer\"", at + 1)) {
    ++count;
  }
  return count;
}

// axpb on opencl:0 with the data written and read through the runtime: in
// host memory (memory = "host") the device works on the runtime's host
// buffers with no copy in or out; with memory of its own, the same program
// copies each input in and the output back. Results are checked either way.
TEST_F(OpenClRuntime, HostUnifiedDeviceInHostMemoryRunsWithoutCopies) {
  if (!DeviceIsHostUnified()) {
    GTEST_SKIP() << "the OpenCL device has no host-unified memory with fine-grained SVM";
  }
  const int64_t n = 1001;
  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) a[i] = float(i % 13) - 6, b[i] = float(i) / 8;
  for (const char* memory : {"host", "discrete"}) {
    SCOPED_TRACE(memory);
    peng_runtime_t rt = nullptr;
    ASSERT_EQ(ProfileRuntime(memory, "", &rt), PENG_OK) << peng_last_error_message();
    peng_device_t ocl;
    ASSERT_EQ(peng_runtime_find_device(rt, "opencl:0", &ocl), PENG_OK);
    peng_device_info_t info;
    ASSERT_EQ(peng_device_info(ocl, &info), PENG_OK);
    EXPECT_EQ(info.memory_space == 0, std::string(memory) == "host");
    std::vector<uint8_t> bytes = OpenClModule(n, TestKernels());
    peng_module_t module;
    ASSERT_EQ(peng_module_load(rt, "ocl", bytes.data(), bytes.size(), &module), PENG_OK)
        << peng_last_error_message();
    peng_kernel_t axpb;
    ASSERT_EQ(peng_module_find_kernel(module, "axpb", &axpb), PENG_OK);
    peng_buffer_t ba, bb, bc;
    ASSERT_EQ(peng_buffer_create(rt, n * 4, &ba), PENG_OK);
    ASSERT_EQ(peng_buffer_create(rt, n * 4, &bb), PENG_OK);
    ASSERT_EQ(peng_buffer_create(rt, n * 4, &bc), PENG_OK);
    ASSERT_EQ(peng_buffer_write(ba, 0, n * 4, a.data()), PENG_OK);
    ASSERT_EQ(peng_buffer_write(bb, 0, n * 4, b.data()), PENG_OK);
    peng_graph_t g;
    ASSERT_EQ(peng_graph_create(rt, &g), PENG_OK);
    peng_tensor_arg_t args[] = {Tensor(ba, {n}), Tensor(bb, {n}), Tensor(bc, {n})};
    const int64_t constants[] = {3, -2};
    peng_task_options_t placed{0, ocl};
    ASSERT_EQ(peng_graph_add_task(g, axpb, args, 3, constants, 2, &placed, nullptr), PENG_OK)
        << peng_last_error_message();
    ASSERT_EQ(Run(g), PENG_OK) << peng_last_error_message();
    std::vector<float> c(n, NAN);
    ASSERT_EQ(peng_buffer_read(bc, 0, n * 4, c.data()), PENG_OK);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(c[i], a[i] * 3.0f + b[i] - 2.0f) << "element " << i;  // exact in f32
    }
    uint64_t valid = 0;
    ASSERT_EQ(peng_buffer_valid_spaces(bc, &valid), PENG_OK);
    EXPECT_TRUE(valid & 1) << "the result is not valid in host memory";
    if (info.memory_space == 0) {
      EXPECT_EQ(CountTransfers(rt), 0) << "a device in host memory needs no copies";
    } else {
      EXPECT_EQ(CountTransfers(rt), 3) << "two inputs in, one result out";
    }
    peng_graph_release(g);
    for (peng_buffer_t x : {ba, bb, bc}) peng_buffer_release(x);
    peng_module_release(module);
    peng_runtime_release(rt);
  }
}

TEST_F(OpenClRuntime, VectorKernelWithConstants) {
  const int64_t n = 1000;  // 16 work-groups of 64, the last one part empty
  LoadModule(OpenClModule(n, TestKernels()));
  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) a[i] = float((i * 37) % 101) * 0.25f, b[i] = float(n - i);
  peng_buffer_t ba = Buffer(a), bb = Buffer(b), bc = Buffer(std::vector<float>(n, NAN));
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt_, &g), PENG_OK);
  peng_tensor_arg_t args[] = {Tensor(ba, {n}), Tensor(bb, {n}), Tensor(bc, {n})};
  const int64_t constants[] = {-3, 7};
  ASSERT_EQ(peng_graph_add_task(g, Kernel("axpb"), args, 3, constants, 2, nullptr, nullptr),
            PENG_OK)
      << peng_last_error_message();
  ASSERT_EQ(Run(g), PENG_OK) << peng_last_error_message();
  peng_graph_release(g);
  std::vector<float> c = Contents(bc, n);
  for (int64_t i = 0; i < n; ++i) {
    double want = double(a[i]) * -3.0 + double(b[i]) + 7.0;
    ASSERT_NEAR(c[i], want, 1e-4 * std::fabs(want) + 1e-6) << "element " << i;
  }
}

// A chain of dependent launches on the device: the runtime enqueues each one
// behind its predecessor with an event wait (HAL device-side ordering), on
// an out-of-order queue where PoCL runs whatever is not waiting; every step
// must see the one before it.
TEST_F(OpenClRuntime, AChainOfLaunchesWaitsOnTheDevice) {
  const int64_t n = 4096;
  const int kSteps = 24;
  LoadModule(OpenClModule(n, TestKernels()));
  std::vector<float> x0(n), b(n);
  for (int64_t i = 0; i < n; ++i) x0[i] = float(i % 13) - 6, b[i] = float(i % 5);
  std::vector<peng_buffer_t> xs = {Buffer(x0)};
  peng_buffer_t bb = Buffer(b);
  for (int s = 0; s < kSteps; ++s) xs.push_back(Buffer(std::vector<float>(n, NAN)));
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt_, &g), PENG_OK);
  peng_task_options_t on_device{0, ocl_};
  for (int s = 0; s < kSteps; ++s) {
    // x[s+1] = x[s] * (s % 2 ? -1 : 1) + b + s: values stay small and exact.
    peng_tensor_arg_t args[] = {Tensor(xs[s], {n}), Tensor(bb, {n}), Tensor(xs[s + 1], {n})};
    const int64_t constants[] = {s % 2 ? -1 : 1, s};
    ASSERT_EQ(peng_graph_add_task(g, Kernel("axpb"), args, 3, constants, 2, &on_device, nullptr),
              PENG_OK)
        << peng_last_error_message();
  }
  for (int rep = 0; rep < 3; ++rep) {
    ASSERT_EQ(Run(g), PENG_OK) << peng_last_error_message();
    std::vector<float> got = Contents(xs[kSteps], n);
    for (int64_t i = 0; i < n; ++i) {
      float want = x0[i];
      for (int s = 0; s < kSteps; ++s) want = want * (s % 2 ? -1.0f : 1.0f) + b[i] + float(s);
      ASSERT_EQ(got[i], want) << "rep " << rep << " element " << i;
    }
  }
  peng_graph_release(g);
}

// Two transposes in a row (shapes 37 x 29, then 29 x 37) give the input back,
// scaled by both constants; the second runs on the first one's output, in
// the device's memory.
TEST_F(OpenClRuntime, TwoDimensionalKernelUsesShapes) {
  const int64_t rows = 37, cols = 29;
  LoadModule(OpenClModule(8, TestKernels()));
  std::vector<float> in(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) in[i] = float(i % 251) - 125.0f;
  peng_buffer_t bin = Buffer(in), bmid = Buffer(std::vector<float>(rows * cols, NAN)),
                bout = Buffer(std::vector<float>(rows * cols, NAN));
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt_, &g), PENG_OK);
  peng_tensor_arg_t first[] = {Tensor(bin, {rows, cols}), Tensor(bmid, {cols, rows})};
  peng_tensor_arg_t second[] = {Tensor(bmid, {cols, rows}), Tensor(bout, {rows, cols})};
  const int64_t two = 2, minus_three = -3;
  ASSERT_EQ(peng_graph_add_task(g, Kernel("transpose_scale"), first, 2, &two, 1, nullptr, nullptr),
            PENG_OK)
      << peng_last_error_message();
  ASSERT_EQ(peng_graph_add_task(g, Kernel("transpose_scale"), second, 2, &minus_three, 1, nullptr,
                                nullptr),
            PENG_OK)
      << peng_last_error_message();
  ASSERT_EQ(Run(g), PENG_OK) << peng_last_error_message();
  peng_graph_release(g);
  std::vector<float> mid = Contents(bmid, rows * cols), out = Contents(bout, rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_EQ(mid[c * rows + r], in[r * cols + c] * 2.0f) << r << "," << c;
      ASSERT_EQ(out[r * cols + c], in[r * cols + c] * -6.0f) << r << "," << c;
    }
  }
}

// axpb on opencl:0, then a host kernel on cpu0 reading its result: the data
// moves from the device's memory to the host's, and the trace has both devices.
TEST_F(OpenClRuntime, GraphMixesCpuAndOpenClTasks) {
  const int64_t n = 333;
  LoadModule(OpenClModule(n, TestKernels()));
  peng_arg_desc_t negate_args[2] = {};
  for (auto& a : negate_args) a.dtype = PENG_DTYPE_F32, a.rank = 1, a.shape[0] = n;
  negate_args[0].access = PENG_ACCESS_READ;
  negate_args[1].access = PENG_ACCESS_WRITE;
  peng_native_kernel_def_t def{};
  def.name = "negate";
  def.target = "host";
  def.fn = Negate;
  def.arg_count = 2;
  def.args = negate_args;
  peng_module_t host_module;
  ASSERT_EQ(peng_module_create_native(rt_, "host", &def, 1, &host_module), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t negate;
  ASSERT_EQ(peng_module_find_kernel(host_module, "negate", &negate), PENG_OK);

  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) a[i] = float(i), b[i] = 0.5f;
  peng_buffer_t ba = Buffer(a), bb = Buffer(b), bc = Buffer(std::vector<float>(n, NAN)),
                bd = Buffer(std::vector<float>(n, NAN));
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt_, &g), PENG_OK);
  peng_tensor_arg_t on_device[] = {Tensor(ba, {n}), Tensor(bb, {n}), Tensor(bc, {n})};
  peng_tensor_arg_t on_host[] = {Tensor(bc, {n}), Tensor(bd, {n})};
  const int64_t constants[] = {2, 1};
  ASSERT_EQ(peng_graph_add_task(g, Kernel("axpb"), on_device, 3, constants, 2, nullptr, nullptr),
            PENG_OK);
  ASSERT_EQ(peng_graph_add_task(g, negate, on_host, 2, nullptr, 0, nullptr, nullptr), PENG_OK)
      << peng_last_error_message();
  ASSERT_EQ(Run(g), PENG_OK) << peng_last_error_message();
  peng_graph_release(g);
  std::vector<float> d = Contents(bd, n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(d[i], -(float(i) * 2.0f + 0.5f + 1.0f)) << i;

  std::string path = testing::TempDir() + "peng_opencl_trace.json";
  ASSERT_EQ(peng_runtime_write_trace(rt_, path.c_str()), PENG_OK) << peng_last_error_message();
  std::ifstream in(path);
  std::string trace{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::remove(path.c_str());
  EXPECT_NE(trace.find("opencl:0"), std::string::npos);
  EXPECT_NE(trace.find("cpu0"), std::string::npos);
  EXPECT_NE(trace.find("axpb"), std::string::npos);
  EXPECT_NE(trace.find("negate"), std::string::npos);
  peng_module_release(host_module);
}

// A device lost mid-run (the test setting makes the second launch see
// CL_DEVICE_NOT_AVAILABLE): that task fails with PENG_ERROR_DEVICE_LOST, the
// device reports itself lost, later work for it fails at once, and the
// runtime goes on with the CPU.
TEST_F(OpenClRuntime, LostDeviceFailsItsTasksAndTheRuntimeGoesOn) {
  peng_runtime_t rt = nullptr;
  ASSERT_EQ(ProfileRuntime("discrete", "force_device_lost = 1\n", &rt), PENG_OK)
      << peng_last_error_message();
  const int64_t n = 64;
  std::vector<uint8_t> bytes = OpenClModule(n, TestKernels());
  peng_module_t module;
  ASSERT_EQ(peng_module_load(rt, "ocl", bytes.data(), bytes.size(), &module), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t axpb;
  ASSERT_EQ(peng_module_find_kernel(module, "axpb", &axpb), PENG_OK);
  std::vector<peng_buffer_t> buffers;
  auto buffer = [&](float value) {
    peng_buffer_t b = nullptr;
    std::vector<float> v(n, value);
    EXPECT_EQ(peng_buffer_create(rt, n * 4, &b), PENG_OK);
    EXPECT_EQ(peng_buffer_write(b, 0, n * 4, v.data()), PENG_OK);
    buffers.push_back(b);
    return b;
  };
  auto run = [&](peng_buffer_t out) {
    peng_graph_t g;
    EXPECT_EQ(peng_graph_create(rt, &g), PENG_OK);
    peng_tensor_arg_t args[] = {Tensor(buffer(1.0f), {n}), Tensor(buffer(2.0f), {n}),
                                Tensor(out, {n})};
    const int64_t constants[] = {3, 4};
    EXPECT_EQ(peng_graph_add_task(g, axpb, args, 3, constants, 2, nullptr, nullptr), PENG_OK);
    peng_event_t done;
    peng_status_t st = peng_graph_submit(g, nullptr, 0, &done);
    if (st == PENG_OK) {
      st = peng_event_wait(done, PENG_WAIT_FOREVER);
      peng_event_release(done);
    }
    peng_graph_release(g);
    return st;
  };
  peng_buffer_t first = buffer(NAN);
  ASSERT_EQ(run(first), PENG_OK) << peng_last_error_message();
  std::vector<float> c(n);
  ASSERT_EQ(peng_buffer_read(first, 0, n * 4, c.data()), PENG_OK);
  EXPECT_EQ(c[n - 1], 1.0f * 3 + 2.0f + 4);

  EXPECT_EQ(run(buffer(NAN)), PENG_ERROR_DEVICE_LOST);
  // The scheduler's lost-device path looked for another device to run it.
  EXPECT_NE(std::string(peng_last_error_message()).find("lost"), std::string::npos)
      << peng_last_error_message();
  peng_device_t ocl;
  ASSERT_EQ(peng_runtime_find_device(rt, "opencl:0", &ocl), PENG_OK);
  peng_device_info_t info;
  ASSERT_EQ(peng_device_info(ocl, &info), PENG_OK);
  EXPECT_NE(info.lost, 0u);
  EXPECT_NE(run(buffer(NAN)), PENG_OK);  // nothing else runs opencl code

  // The CPU still runs.
  peng_native_kernel_def_t def{};
  peng_arg_desc_t negate_args[2] = {};
  for (auto& a : negate_args) a.dtype = PENG_DTYPE_F32, a.rank = 1, a.shape[0] = n;
  negate_args[0].access = PENG_ACCESS_READ;
  negate_args[1].access = PENG_ACCESS_WRITE;
  def.name = "negate";
  def.target = "host";
  def.fn = Negate;
  def.arg_count = 2;
  def.args = negate_args;
  peng_module_t host_module;
  ASSERT_EQ(peng_module_create_native(rt, "host", &def, 1, &host_module), PENG_OK);
  peng_kernel_t negate;
  ASSERT_EQ(peng_module_find_kernel(host_module, "negate", &negate), PENG_OK);
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt, &g), PENG_OK);
  peng_buffer_t out = buffer(NAN);
  peng_tensor_arg_t args[] = {Tensor(first, {n}), Tensor(out, {n})};
  ASSERT_EQ(peng_graph_add_task(g, negate, args, 2, nullptr, 0, nullptr, nullptr), PENG_OK);
  peng_event_t done;
  ASSERT_EQ(peng_graph_submit(g, nullptr, 0, &done), PENG_OK);
  EXPECT_EQ(peng_event_wait(done, PENG_WAIT_FOREVER), PENG_OK) << peng_last_error_message();
  peng_event_release(done);
  peng_graph_release(g);
  ASSERT_EQ(peng_buffer_read(out, 0, n * 4, c.data()), PENG_OK);
  EXPECT_EQ(c[0], -9.0f);

  for (peng_buffer_t b : buffers) peng_buffer_release(b);
  peng_module_release(host_module);
  peng_module_release(module);
  peng_runtime_release(rt);
}

// The device's own figures (HAL `describe`): what clinfo shows, the build
// options the kernels see; a short buffer gets a cut, terminated text and the
// full length.
TEST_F(OpenClRuntime, DescribesTheDeviceLikeClinfo) {
  size_t length = 0;
  ASSERT_EQ(peng_device_describe(ocl_, nullptr, 0, &length), PENG_OK);
  ASSERT_GT(length, 0u);
  std::string text(length + 1, '\0');
  ASSERT_EQ(peng_device_describe(ocl_, &text[0], text.size(), &length), PENG_OK);
  text.resize(length);
  for (const char* want : {"OpenCL device: ", "Driver version: ", "Max work-group size: ",
                           "Max work-item sizes: ", "Local memory: ", "fp64 (cl_khr_fp64): ",
                           "Build options: -DPENG_DEVICE_LOCAL_MEM_DEDICATED="}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;
  }
  char cut[10];
  size_t full = 0;
  ASSERT_EQ(peng_device_describe(ocl_, cut, sizeof cut, &full), PENG_OK);
  EXPECT_EQ(full, length);
  EXPECT_EQ(std::string(cut), text.substr(0, 9));
}

TEST_F(OpenClRuntime, ProgramThatDoesNotBuildIsRefusedWithItsLog) {
  std::string broken = TestKernels() + "\n__kernel void extra(__global float* x) { x[0] = "
                                       "peng_no_such_symbol; }\n";
  LoadModule(OpenClModule(16, broken));  // the module loads; its kernels have no device
  peng_buffer_t a = Buffer(std::vector<float>(16)), b = Buffer(std::vector<float>(16)),
                c = Buffer(std::vector<float>(16));
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt_, &g), PENG_OK);
  peng_tensor_arg_t args[] = {Tensor(a, {16}), Tensor(b, {16}), Tensor(c, {16})};
  const int64_t constants[] = {1, 1};
  EXPECT_EQ(peng_graph_add_task(g, Kernel("axpb"), args, 3, constants, 2, nullptr, nullptr),
            PENG_ERROR_UNSUPPORTED);
  std::string message = peng_last_error_message();
  EXPECT_NE(message.find("does not build"), std::string::npos) << message;
  EXPECT_NE(message.find("peng_no_such_symbol"), std::string::npos) << message;
  peng_graph_release(g);
}

TEST_F(OpenClRuntime, CodeNeedingAMissingExtensionIsRefused) {
  LoadModule(OpenClModule(16, TestKernels(), {"cl_peng_imaginary_extension"}));
  int supported = -1;
  ASSERT_EQ(peng_kernel_supported_on(Kernel("axpb"), ocl_, &supported), PENG_OK);
  EXPECT_EQ(supported, 0);
  peng_buffer_t a = Buffer(std::vector<float>(16)), b = Buffer(std::vector<float>(16)),
                c = Buffer(std::vector<float>(16));
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt_, &g), PENG_OK);
  peng_tensor_arg_t args[] = {Tensor(a, {16}), Tensor(b, {16}), Tensor(c, {16})};
  const int64_t constants[] = {1, 1};
  EXPECT_EQ(peng_graph_add_task(g, Kernel("axpb"), args, 3, constants, 2, nullptr, nullptr),
            PENG_ERROR_UNSUPPORTED);
  std::string message = peng_last_error_message();
  EXPECT_NE(message.find("needs cl_peng_imaginary_extension"), std::string::npos) << message;
  peng_graph_release(g);
}

}  // namespace
