// Compiled kernels through the device interface: tests/conformance/kernels.mlir
// as pengc compiled it (host, rvv and opencl), loaded and dispatched through
// each backend's vtables with no runtime in between, the way the runtime does it:
// one load per executable, entries by index, the grid, work-group size and
// workspace from each entry's launch metadata. Results are checked against
// plain C++ references. A backend runs every executable it says it supports;
// a backend with the dispatch capability must support one of them (host on
// x86-64, rvv on riscv64, opencl on an OpenCL device), and one without must
// refuse cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "artifact/module_file.h"
#include "backend_registry.h"
#include "peng/hal.h"

namespace peng_cts {
namespace {

constexpr uint64_t kWaitNs = 30ull * 1000 * 1000 * 1000;

using Tensor = std::vector<float>;
// Inputs in order; returns the outputs in order.
using Reference = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

const std::map<std::string, Reference>& References() {
  static const std::map<std::string, Reference> refs = {
      {"add_37x29",
       [](const std::vector<Tensor>& in) {
         Tensor out(in[0].size());
         for (size_t i = 0; i < out.size(); ++i) out[i] = in[0][i] + in[1][i];
         return std::vector<Tensor>{out};
       }},
      {"matmul_13x17x19",
       [](const std::vector<Tensor>& in) {
         const int m = 13, k = 17, n = 19;
         Tensor out(size_t(m) * n, 0.0f);
         for (int i = 0; i < m; ++i) {
           for (int j = 0; j < n; ++j) {
             double acc = 0;
             for (int p = 0; p < k; ++p) acc += double(in[0][i * k + p]) * in[1][p * n + j];
             out[size_t(i) * n + j] = float(acc);
           }
         }
         return std::vector<Tensor>{out};
       }},
      {"shared_temp_96x96",
       [](const std::vector<Tensor>& in) {
         Tensor m(in[0].size()), d(in[0].size());
         for (size_t i = 0; i < m.size(); ++i) {
           float s = in[0][i] + in[1][i];
           m[i] = s * in[0][i];
           d[i] = s - in[1][i];
         }
         return std::vector<Tensor>{m, d};
       }},
  };
  return refs;
}

// The modules the build compiled (PENG_CTS_MODULES: paths joined by ':').
std::vector<std::string> ModulePaths() {
  std::vector<std::string> paths;
  std::string list = PENG_CTS_MODULES;
  for (size_t start = 0; start <= list.size();) {
    size_t end = std::min(list.find(':', start), list.size());
    if (end > start) paths.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return paths;
}

std::optional<peng::artifact::ModuleFile> LoadModule(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto m = peng::artifact::Parse(bytes.data(), bytes.size(), error);
  if (!m) *error = path + ": " + *error;
  return m;
}

// Waits for one completion and keeps its status.
struct Done {
  std::mutex mutex;
  std::condition_variable cv;
  int calls = 0;
  peng_status_t status = PENG_OK;
  static void Fn(void* user, peng_status_t st) {
    auto* d = static_cast<Done*>(user);
    std::lock_guard<std::mutex> lock(d->mutex);
    ++d->calls;
    d->status = st;
    d->cv.notify_all();
  }
  peng_hal_completion_t completion() { return {&Fn, this}; }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return calls > 0; });
  }
};

class CompiledKernels : public ::testing::TestWithParam<BackendConfig> {
 protected:
  void SetUp() override {
    if (std::string why = GetParam().Unavailable(); !why.empty()) GTEST_SKIP() << why;
    std::string error;
    factory_ = GetParam().Factory(&error);
    ASSERT_NE(factory_, nullptr) << error;
    peng_hal_device_params_t params = GetParam().Params();
    params.set_error = [](peng_status_t code, const char* message) {
      LastError() = message ? message : "";
      return code;
    };
    ASSERT_EQ(factory_->create_device(0, &params, &device_), PENG_OK);
    ASSERT_EQ(Vt()->create_queue(device_, &queue_), PENG_OK);
  }
  void TearDown() override {
    if (queue_) {
      EXPECT_EQ(Qvt()->wait_idle(queue_, kWaitNs), PENG_OK);
      Qvt()->destroy(queue_);
    }
    if (device_) Vt()->destroy(device_);
  }
  static std::string& LastError() {
    static std::string message;
    return message;
  }
  const peng_hal_device_vtable_t* Vt() const {
    return PENG_HAL_VTABLE(device_, peng_hal_device_vtable_t);
  }
  const peng_hal_queue_vtable_t* Qvt() const {
    return PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t);
  }

  // Copies through the queue and waits.
  void Copy(peng_hal_copy_t copy) {
    Done done;
    ASSERT_EQ(Qvt()->enqueue_copy(queue_, &copy, done.completion()), PENG_OK);
    ASSERT_TRUE(done.Wait());
    ASSERT_EQ(done.status, PENG_OK);
  }

  // Runs entry `e` of a loaded executable on inputs made from the kernel's
  // signature and checks its outputs against the reference.
  void RunEntry(const peng::artifact::ModuleFile& m, peng_hal_executable_t* exe, uint32_t index,
                const peng::artifact::Entry& e, const std::string& what) {
    const peng::artifact::KernelInfo& k = m.kernels[e.kernel];
    SCOPED_TRACE(what + " kernel " + k.name);
    auto ref = References().find(k.name);
    ASSERT_NE(ref, References().end());
    std::vector<Tensor> inputs;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<peng_hal_buffer_t*> buffers;
    std::vector<uint64_t> sizes;
    std::vector<Tensor> outputs;
    for (size_t a = 0; a < k.args.size(); ++a) {
      ASSERT_EQ(k.args[a].dtype, PENG_DTYPE_F32);
      uint64_t n = 1;
      for (int64_t d : k.args[a].shape) n *= uint64_t(d);
      shapes.push_back(k.args[a].shape);
      sizes.push_back(n * 4);
      peng_hal_buffer_t* b = nullptr;
      ASSERT_EQ(Vt()->allocate(device_, n * 4, &b), PENG_OK);
      buffers.push_back(b);
      Tensor host(n);
      if (k.args[a].access == PENG_ACCESS_READ) {
        for (uint64_t i = 0; i < n; ++i) host[i] = float(int((i * 7 + a * 13) % 23) - 11) / 8.0f;
        inputs.push_back(host);
      } else {
        for (float& v : host) v = std::nanf("");  // poison: every element must be written
        outputs.push_back(host);
      }
      peng_hal_copy_t up{};
      up.src_host = host.data();
      up.dst_buffer = b;
      up.size = n * 4;
      Copy(up);
    }
    std::vector<void*> slots(buffers.size());
    std::vector<const int64_t*> shape_ptrs;
    std::vector<uint32_t> ranks;
    for (auto& s : shapes) {
      shape_ptrs.push_back(s.data());
      ranks.push_back(uint32_t(s.size()));
    }
    peng_hal_dispatch_t d{};
    d.executable = exe;
    d.entry = index;
    d.state.abi_version = PENG_KERNEL_ABI_VERSION;
    for (int g = 0; g < 3; ++g) {
      const peng_grid_dim_t& gd = e.launch.grid[g];
      d.state.workgroup_count[g] =
          gd.tile ? uint32_t((shapes[gd.arg][gd.dim] + gd.tile - 1) / gd.tile) : 1;
    }
    d.state.binding_count = uint32_t(buffers.size());
    d.state.bindings = slots.data();
    d.state.binding_sizes = sizes.data();
    d.state.shapes = shape_ptrs.data();
    d.state.ranks = ranks.data();
    d.state.workspace_size = e.launch.workspace;
    d.buffers = buffers.data();
    d.binding_slots = slots.data();
    d.flops = k.flops;
    d.bytes = k.bytes;
    Done done;
    ASSERT_EQ(Qvt()->enqueue_dispatch(queue_, &d, done.completion()), PENG_OK);
    ASSERT_TRUE(done.Wait());
    ASSERT_EQ(done.status, PENG_OK) << LastError();
    std::vector<Tensor> expected = ref->second(inputs);
    ASSERT_EQ(expected.size(), outputs.size());
    size_t o = 0;
    for (size_t a = 0; a < k.args.size(); ++a) {
      if (k.args[a].access == PENG_ACCESS_READ) continue;
      peng_hal_copy_t down{};
      down.src_buffer = buffers[a];
      down.dst_host = outputs[o].data();
      down.size = sizes[a];
      Copy(down);
      size_t bad = 0;
      for (size_t i = 0; i < expected[o].size(); ++i) {
        float want = expected[o][i], got = outputs[o][i];
        // f32 sums of at most 17 products of eighths: exact up to rounding.
        if (!(std::fabs(got - want) <= 1e-5f * (1.0f + std::fabs(want)))) ++bad;
      }
      EXPECT_EQ(bad, 0u) << "output " << o << ": " << bad << " of " << expected[o].size()
                         << " elements differ";
      ++o;
    }
    for (peng_hal_buffer_t* b : buffers) PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t)->destroy(b);
  }

  void RunSupported(const peng::artifact::ModuleFile& m, int* ran, bool* workspace_seen);

  const peng_hal_factory_t* factory_ = nullptr;
  peng_hal_device_t* device_ = nullptr;
  peng_hal_queue_t* queue_ = nullptr;
};

TEST_P(CompiledKernels, EveryExecutableTheBackendSupportsRunsCorrectly) {
  int ran = 0;
  bool workspace_seen = false;
  for (const std::string& path : ModulePaths()) {
    SCOPED_TRACE(path);
    std::string error;
    auto m = LoadModule(path, &error);
    ASSERT_TRUE(m) << error;
    RunSupported(*m, &ran, &workspace_seen);
  }
  EXPECT_TRUE(workspace_seen) << "the modules lost their workspace kernel";
  if (GetParam().Has(kDispatch)) {
    EXPECT_GE(ran, 1) << "a backend that dispatches runs one of the module's targets";
  } else {
    EXPECT_EQ(ran, 0);
  }
}

// Every executable of `m` the device supports runs each of its entries.
void CompiledKernels::RunSupported(const peng::artifact::ModuleFile& m, int* ran,
                                   bool* workspace_seen) {
  for (const auto& x : m.executables) {
    std::string features;
    for (const auto& f : x.features) features += (features.empty() ? "" : ",") + f;
    std::vector<peng_hal_entry_spec_t> entries(x.entries.size());
    for (size_t i = 0; i < x.entries.size(); ++i) {
      entries[i].name = m.kernels[x.entries[i].kernel].name.c_str();
      entries[i].symbol = x.entries[i].symbol.c_str();
      std::memcpy(entries[i].workgroup_size, x.entries[i].launch.workgroup_size,
                  sizeof entries[i].workgroup_size);
      entries[i].workspace_size = x.entries[i].launch.workspace;
      *workspace_seen |= x.entries[i].launch.workspace > 0;
    }
    peng_hal_executable_spec_t spec{};
    spec.target = x.target.c_str();
    spec.format = x.format.c_str();
    spec.code = x.code.data();
    spec.code_size = x.code.size();
    spec.arch = x.arch.c_str();
    spec.features = features.c_str();
    spec.min_vlen = x.min_vlen;
    spec.max_vlen = x.max_vlen;
    spec.entry_count = uint32_t(entries.size());
    spec.entries = entries.data();
    int supported = -1;
    ASSERT_EQ(Vt()->supports(device_, &spec, &supported), PENG_OK);
    peng_hal_executable_t* exe = nullptr;
    peng_status_t st = Vt()->load_executable(device_, &spec, &exe);
    if (!supported) {
      // Unsupported code is never loaded.
      EXPECT_NE(st, PENG_OK) << x.target;
      if (st == PENG_OK && exe) PENG_HAL_VTABLE(exe, peng_hal_executable_vtable_t)->destroy(exe);
      continue;
    }
    ASSERT_EQ(st, PENG_OK) << x.target << ": " << LastError();
    ASSERT_NE(exe, nullptr);
    for (uint32_t i = 0; i < x.entries.size(); ++i) RunEntry(m, exe, i, x.entries[i], x.target);
    ASSERT_EQ(Qvt()->wait_idle(queue_, kWaitNs), PENG_OK);
    PENG_HAL_VTABLE(exe, peng_hal_executable_vtable_t)->destroy(exe);
    ++*ran;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CompiledKernels, ::testing::ValuesIn(AllBackends()),
                         [](const ::testing::TestParamInfo<BackendConfig>& info) {
                           std::string s = info.param.name;
                           for (char& c : s) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return s;
                         });

}  // namespace
}  // namespace peng_cts
