#include "driver/peng_env.h"

#include <cstdlib>

#include "artifact/module_file.h"
#include "driver/harness.h"

namespace peng_bench_ocl {
namespace {

namespace art = peng::artifact;

peng_runtime_t g_runtime = nullptr;
peng_device_t g_device = nullptr;
peng_module_t g_module = nullptr;
peng_buffer_t g_x = nullptr;

// empty(x[1]) and mark(out[n], index), each one work-item: a grid of one
// work-group (tile 0) of size 1, as the raw launches use.
std::vector<uint8_t> ModuleImage() {
  art::ModuleFile m;
  m.producer = "peng-bench-opencl";
  art::KernelInfo empty;
  empty.name = "empty";
  empty.args = {{PENG_DTYPE_F32, PENG_ACCESS_READ, {1}}};  // read-only: launches are independent
  m.kernels.push_back(empty);
  art::KernelInfo mark;
  mark.name = "mark";
  mark.args = {{PENG_DTYPE_I32, PENG_ACCESS_READWRITE, {-1}}};
  mark.constant_count = 1;
  m.kernels.push_back(mark);
  art::Executable x;
  x.target = "opencl";
  x.format = "opencl-c";
  std::string source = kKernelSource;
  x.code.assign(source.begin(), source.end());
  for (uint32_t k = 0; k < 2; ++k) {
    art::Entry e;
    e.kernel = k;
    e.symbol = m.kernels[k].name;
    x.entries.push_back(e);  // grid {0, 0, 0}: one work-group; workgroup_size {1, 1, 1}
  }
  m.executables.push_back(std::move(x));
  return art::Serialize(m);
}

peng_tensor_arg_t Tensor(peng_buffer_t b, peng_dtype_t dtype, int64_t n) {
  peng_tensor_arg_t t{};
  t.buffer = b;
  t.dtype = dtype;
  t.rank = 1;
  t.shape[0] = n;
  return t;
}

peng_kernel_t Find(const char* name) {
  PengRuntime();
  peng_kernel_t k = nullptr;
  PengCheck(peng_module_find_kernel(g_module, name, &k), "peng_module_find_kernel");
  return k;
}

}  // namespace

void PengCheck(peng_status_t status, const char* what) {
  if (status == PENG_OK) return;
  throw BenchError(std::string("peng: ") + what + " failed: " + peng_status_string(status) + ": " +
                   peng_last_error_message());
}

std::string PengPlatformPath() {
  const char* env = std::getenv("PENG_PLATFORM");
  return env && *env ? env : PENG_BENCH_OPENCL_PLATFORM;
}

peng_runtime_t PengRuntime() {
  if (g_runtime) return g_runtime;
  std::string platform = PengPlatformPath();
  peng_runtime_options_t options;
  peng_runtime_options_init(&options);
  options.platform_path = platform.c_str();
  PengCheck(peng_runtime_create(&options, &g_runtime), "peng_runtime_create");
  PengCheck(peng_runtime_find_device(g_runtime, "opencl:0", &g_device),
            "peng_runtime_find_device(opencl:0)");
  std::vector<uint8_t> image = ModuleImage();
  PengCheck(peng_module_load(g_runtime, "launch", image.data(), image.size(), &g_module),
            "peng_module_load");
  PengCheck(peng_buffer_create(g_runtime, sizeof(float), &g_x), "peng_buffer_create");
  float zero = 0;
  PengCheck(peng_buffer_write(g_x, 0, sizeof zero, &zero), "peng_buffer_write");
  return g_runtime;
}

peng_device_t PengOpenCl() {
  PengRuntime();
  return g_device;
}

peng_kernel_t PengEmpty() { return Find("empty"); }
peng_kernel_t PengMark() { return Find("mark"); }

peng_buffer_t PengX() {
  PengRuntime();
  return g_x;
}

void PengRun(peng_graph_t graph, uint64_t timeout_ns) {
  peng_event_t done;
  PengCheck(peng_graph_submit(graph, nullptr, 0, &done), "peng_graph_submit");
  peng_status_t status = peng_event_wait(done, timeout_ns);
  if (status == PENG_ERROR_TIMEOUT) status = peng_event_wait(done, PENG_WAIT_FOREVER);
  peng_event_release(done);
  PengCheck(status, "the graph");
}

peng_graph_t PengEmptyGraph(uint32_t n) {
  peng_kernel_t kernel = PengEmpty();
  peng_task_options_t on_device{0, PengOpenCl()};
  peng_tensor_arg_t arg = Tensor(PengX(), PENG_DTYPE_F32, 1);
  peng_graph_t g;
  PengCheck(peng_graph_create(PengRuntime(), &g), "peng_graph_create");
  for (uint32_t i = 0; i < n; ++i) {
    PengCheck(peng_graph_add_task(g, kernel, &arg, 1, nullptr, 0, &on_device, nullptr),
              "peng_graph_add_task(empty)");
  }
  return g;
}

peng_graph_t PengMarkGraph(uint32_t n, peng_buffer_t out) {
  peng_kernel_t kernel = PengMark();
  peng_task_options_t on_device{0, PengOpenCl()};
  peng_tensor_arg_t arg = Tensor(out, PENG_DTYPE_I32, n);
  peng_graph_t g;
  PengCheck(peng_graph_create(PengRuntime(), &g), "peng_graph_create");
  for (uint32_t i = 0; i < n; ++i) {
    int64_t index = i;
    PengCheck(peng_graph_add_task(g, kernel, &arg, 1, &index, 1, &on_device, nullptr),
              "peng_graph_add_task(mark)");
  }
  return g;
}

std::vector<int32_t> PengRead(peng_buffer_t buffer, uint32_t n) {
  std::vector<int32_t> v(n);
  PengCheck(peng_buffer_read(buffer, 0, n * sizeof(int32_t), v.data()), "peng_buffer_read");
  return v;
}

void ShutdownPeng() {
  if (!g_runtime) return;
  peng_runtime_wait_idle(g_runtime, PENG_WAIT_FOREVER);
  peng_buffer_release(g_x);
  peng_module_release(g_module);
  peng_runtime_release(g_runtime);
  g_runtime = nullptr;
  g_device = nullptr;
  g_module = nullptr;
  g_x = nullptr;
}

}  // namespace peng_bench_ocl
