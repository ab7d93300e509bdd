// Task graphs across the host CPU and emulated accelerators, with pengc's
// kernels (tests/e2e's modules: host and rvv code):
// - one graph runs on cpu0, emu:npu0, emu:dpu0 (and opencl:0 where the build
//   has it) at once, with data moving between their memories; its results
//   equal a plain C++ reference and its trace has a track of tasks for every
//   device;
// - the emulated NPU killed (SIGKILL) or hung (a dispatch that never ends,
//   caught by the watchdog) in the middle of a 1000-task graph: the graph
//   completes with the right results on the other devices, the NPU is lost
//   and says why, and its server is gone;
// - the DPU takes data-plane kernels only, and the cost model sends them to
//   it when its models say it finishes first (and elsewhere when not).
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emu_test_util.h"
#include "peng/peng.h"

namespace {

namespace fs = std::filesystem;
using peng_emu_test::Describe;
using peng_emu_test::DescribedNumber;
using peng_emu_test::Lost;
using peng_emu_test::ProcessExists;

// kernels/elementwise.mlir's add_33x47: out = a + b, f32 [33, 47].
constexpr int64_t kRows = 33, kCols = 47, kElems = kRows * kCols;
constexpr uint64_t kBytes = kElems * sizeof(float);

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / ("peng-emu-graph-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// The three devices of the development profile, cpu0 slowed by a timing
// model (1 ms a task, one thread) so that the accelerators get a real share
// of the work; `npu_extra` adds keys to the NPU.
std::string Profile(const std::string& npu_extra, bool with_opencl) {
  std::string p =
      "[platform]\nname = \"emu-graph-test\"\n"
      "[[device]]\nname = \"cpu0\"\nbackend = \"cpu\"\nkind = \"cpu\"\nthreads = 1\n"
      "  [device.timing]\n  gflops = 1000.0\n  launch_us = 1000.0\n"
      "[[device]]\nname = \"emu:npu0\"\nbackend = \"emu\"\nkind = \"npu\"\n"
      "memory = \"discrete\"\nmemory_mb = 64\nvlen = 256\nharts = 2\n" +
      npu_extra +
      "[[device]]\nname = \"emu:dpu0\"\nbackend = \"emu\"\nkind = \"dpu\"\n"
      "kernels = \"data_plane\"\nmemory = \"discrete\"\nmemory_mb = 32\nvlen = 128\nharts = 1\n";
#ifdef PENG_TEST_WITH_OPENCL
  if (with_opencl) {
    p += "[[device]]\nname = \"opencl:0\"\nbackend = \"opencl\"\nindex = 0\nkind = \"gpu\"\n"
         "memory = \"discrete\"\n";
  }
#else
  (void)with_opencl;
#endif
  return p;
}

struct Runtime {
  peng_runtime_t rt = nullptr;
  peng_module_t elementwise = nullptr, dataplane = nullptr;
  peng_kernel_t add = nullptr;   // compute
  peng_kernel_t copy = nullptr;  // data plane: copy_f32_37x53
  std::string profile_path;

  explicit Runtime(const std::string& profile, bool trace = false,
                   peng_policy_t policy = PENG_POLICY_EAGER, const char* models = nullptr,
                   uint32_t watchdog_ms = 0) {
    profile_path = TempPath("profile.toml");
    std::ofstream(profile_path) << profile;
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    o.platform_path = profile_path.c_str();
    o.policy = policy;
    o.enable_trace = trace ? 1 : 0;
    o.perf_model_path = models;
    o.watchdog_ms = watchdog_ms;
    EXPECT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
    EXPECT_EQ(peng_module_load_file(rt, PENG_TEST_MODULE_DIR "/elementwise.peng", &elementwise),
              PENG_OK)
        << peng_last_error_message();
    EXPECT_EQ(peng_module_find_kernel(elementwise, "add_33x47", &add), PENG_OK);
    EXPECT_EQ(peng_module_load_file(rt, PENG_TEST_MODULE_DIR "/dataplane.peng", &dataplane),
              PENG_OK)
        << peng_last_error_message();
    EXPECT_EQ(peng_module_find_kernel(dataplane, "copy_f32_37x53", &copy), PENG_OK);
  }
  ~Runtime() {
    if (dataplane) peng_module_release(dataplane);
    if (elementwise) peng_module_release(elementwise);
    if (rt) peng_runtime_release(rt);
    fs::remove(profile_path);
  }
  peng_device_t device(const char* name) const {
    peng_device_t d = nullptr;
    EXPECT_EQ(peng_runtime_find_device(rt, name, &d), PENG_OK) << name;
    return d;
  }
};

long long Dispatches(peng_device_t d) {
  std::string text = Describe(d);
  size_t at = text.find(" dispatch(es) done");
  if (at == std::string::npos) return -1;
  size_t begin = text.rfind(' ', at - 1);
  return std::atoll(text.c_str() + begin + 1);
}

// Submits `g`, waits for it (two minutes at most: a hang fails the test
// instead of stalling it), and releases it; the run's status.
peng_status_t RunAndRelease(peng_graph_t g) {
  peng_event_t done = nullptr;
  peng_status_t st = peng_graph_submit(g, nullptr, 0, &done);
  if (st == PENG_OK) {
    st = peng_event_wait(done, 120ull * 1000 * 1000 * 1000);
    peng_event_release(done);
  }
  peng_graph_release(g);
  return st;
}

peng_tensor_arg_t Tensor(peng_buffer_t b) {
  peng_tensor_arg_t t{};
  t.buffer = b;
  t.dtype = PENG_DTYPE_F32;
  t.rank = 2;
  t.shape[0] = kRows;
  t.shape[1] = kCols;
  return t;
}

// `chains` independent chains of `steps` adds: x[k+1] = x[k] + d, each step
// into a buffer of its own. The reference repeats the same f32 additions in
// the same order, so results must match exactly.
struct Chains {
  int chains, steps;
  std::vector<peng_buffer_t> buffers;  // per chain: d, x0 .. x_steps
  std::vector<std::vector<float>> expected;

  Chains(const Runtime& r, int chains, int steps) : chains(chains), steps(steps) {
    for (int c = 0; c < chains; ++c) {
      std::vector<float> d(kElems), x(kElems);
      for (int64_t i = 0; i < kElems; ++i) {
        d[i] = float((i * 7 + c * 13) % 101) * 0.0625f - 3.0f;
        x[i] = float((i * 3 + c) % 17) * 0.5f;
      }
      for (int k = 0; k < steps + 2; ++k) {
        peng_buffer_t b = nullptr;
        EXPECT_EQ(peng_buffer_create(r.rt, kBytes, &b), PENG_OK);
        buffers.push_back(b);
      }
      EXPECT_EQ(peng_buffer_write(buffer(c, -1), 0, kBytes, d.data()), PENG_OK);
      EXPECT_EQ(peng_buffer_write(buffer(c, 0), 0, kBytes, x.data()), PENG_OK);
      for (int k = 0; k < steps; ++k) {
        for (int64_t i = 0; i < kElems; ++i) x[i] = x[i] + d[i];
      }
      expected.push_back(x);
    }
  }
  ~Chains() {
    for (peng_buffer_t b : buffers) peng_buffer_release(b);
  }
  // k = -1: the chain's d; 0..steps: x[k].
  peng_buffer_t buffer(int chain, int k) const { return buffers[size_t(chain * (steps + 2) + k + 1)]; }

  peng_graph_t Build(const Runtime& r) const {
    peng_graph_t g = nullptr;
    EXPECT_EQ(peng_graph_create(r.rt, &g), PENG_OK);
    // Breadth first: every chain's first step, then every second step, so
    // that all devices have work from the start.
    for (int k = 0; k < steps; ++k) {
      for (int c = 0; c < chains; ++c) {
        peng_tensor_arg_t args[3] = {Tensor(buffer(c, k)), Tensor(buffer(c, -1)),
                                     Tensor(buffer(c, k + 1))};
        EXPECT_EQ(peng_graph_add_task(g, r.add, args, 3, nullptr, 0, nullptr, nullptr), PENG_OK)
            << peng_last_error_message();
      }
    }
    return g;
  }

  // Every chain's last buffer against the reference, exactly.
  void Check() const {
    std::vector<float> out(kElems);
    for (int c = 0; c < chains; ++c) {
      ASSERT_EQ(peng_buffer_read(buffer(c, steps), 0, kBytes, out.data()), PENG_OK)
          << "chain " << c << ": " << peng_last_error_message();
      for (int64_t i = 0; i < kElems; ++i) {
        ASSERT_EQ(out[i], expected[size_t(c)][size_t(i)]) << "chain " << c << " element " << i;
      }
    }
  }
};

// Data-plane chains: `chains` buffers of [37, 53] f32 copied `steps` times
// (copy_f32_37x53, a DPU's kind of work); each last copy equals the first
// buffer bit for bit.
struct CopyChains {
  static constexpr int64_t kElems = 37 * 53;
  int chains, steps;
  std::vector<peng_buffer_t> buffers;  // per chain: x0 .. x_steps
  std::vector<std::vector<float>> first;

  CopyChains(const Runtime& r, int chains, int steps) : chains(chains), steps(steps) {
    for (int c = 0; c < chains; ++c) {
      std::vector<float> x(kElems);
      for (int64_t i = 0; i < kElems; ++i) x[size_t(i)] = float(i * 31 + c) * 0.25f - 100.0f;
      for (int k = 0; k <= steps; ++k) {
        peng_buffer_t b = nullptr;
        EXPECT_EQ(peng_buffer_create(r.rt, kElems * 4, &b), PENG_OK);
        buffers.push_back(b);
      }
      EXPECT_EQ(peng_buffer_write(buffer(c, 0), 0, kElems * 4, x.data()), PENG_OK);
      first.push_back(std::move(x));
    }
  }
  ~CopyChains() {
    for (peng_buffer_t b : buffers) peng_buffer_release(b);
  }
  peng_buffer_t buffer(int chain, int k) const { return buffers[size_t(chain * (steps + 1) + k)]; }
  void Add(const Runtime& r, peng_graph_t g) const {
    for (int k = 0; k < steps; ++k) {
      for (int c = 0; c < chains; ++c) {
        peng_tensor_arg_t args[2] = {};
        for (int i = 0; i < 2; ++i) {
          args[i].buffer = buffer(c, k + i);
          args[i].dtype = PENG_DTYPE_F32;
          args[i].rank = 2;
          args[i].shape[0] = 37;
          args[i].shape[1] = 53;
        }
        EXPECT_EQ(peng_graph_add_task(g, r.copy, args, 2, nullptr, 0, nullptr, nullptr), PENG_OK)
            << peng_last_error_message();
      }
    }
  }
  void Check() const {
    std::vector<float> out(kElems);
    for (int c = 0; c < chains; ++c) {
      ASSERT_EQ(peng_buffer_read(buffer(c, steps), 0, kElems * 4, out.data()), PENG_OK);
      ASSERT_EQ(std::memcmp(out.data(), first[size_t(c)].data(), kElems * 4), 0) << "chain " << c;
    }
  }
};

// Tasks per device track in a Chrome trace written by the runtime, and
// (*recomputed) how many of them were producers run again.
std::map<std::string, int> TasksPerTrack(const std::string& path, int* recomputed = nullptr) {
  std::ifstream in(path);
  nlohmann::json trace = nlohmann::json::parse(in);
  const nlohmann::json& events = trace.is_array() ? trace : trace["traceEvents"];
  std::map<int, std::string> tracks;
  for (const auto& e : events) {
    if (e.value("ph", "") == "M" && e.value("name", "") == "thread_name") {
      tracks[e["tid"].get<int>()] = e["args"]["name"].get<std::string>();
    }
  }
  std::map<std::string, int> tasks;
  for (const auto& e : events) {
    if (e.value("ph", "") != "X" || !e.contains("tid")) continue;
    auto it = tracks.find(e["tid"].get<int>());
    if (it == tracks.end() || it->first % 2 != 0) continue;
    ++tasks[it->second];
    if (recomputed && e["args"].value("recompute", false)) ++*recomputed;
  }
  return tasks;
}

// One graph over every device at once; data moves between their memories
// (a chain's steps land on different devices), results exact, and the trace
// shows each device's track with tasks on it.
TEST(EmuGraph, OneGraphRunsOnEveryDeviceAtOnce) {
  bool with_opencl = false;
#ifdef PENG_TEST_WITH_OPENCL
  with_opencl = true;
#endif
  Runtime r(Profile("", with_opencl), /*trace=*/true);
  ASSERT_TRUE(r.add);
  std::vector<std::string> names = {"cpu0", "emu:npu0", "emu:dpu0"};
  if (with_opencl) names.push_back("opencl:0");
  for (const std::string& n : names) {
    ASSERT_FALSE(Lost(r.device(n.c_str()))) << n << ": " << Describe(r.device(n.c_str()));
  }
  Chains chains(r, 24, 12);
  CopyChains copies(r, 12, 6);
  peng_graph_t g = chains.Build(r);
  copies.Add(r, g);
  ASSERT_EQ(RunAndRelease(g), PENG_OK) << peng_last_error_message();
  chains.Check();
  copies.Check();

  std::string trace = TempPath("trace.json");
  ASSERT_EQ(peng_runtime_write_trace(r.rt, trace.c_str()), PENG_OK) << peng_last_error_message();
  std::map<std::string, int> tasks = TasksPerTrack(trace);
  fs::remove(trace);
  int total = 0;
  for (const std::string& n : names) {
    EXPECT_GT(tasks[n], 0) << "no task of the graph ran on " << n;
    total += tasks[n];
  }
  EXPECT_EQ(total, 24 * 12 + 12 * 6);
  EXPECT_GT(Dispatches(r.device("emu:npu0")), 0);
  EXPECT_GT(Dispatches(r.device("emu:dpu0")), 0);
}

// The DPU's personality: it takes data-plane kernels only. The cost model
// places a data-plane kernel on the DPU when its models say the DPU finishes
// first, and elsewhere when they say another device does: the models are
// learned in a first run, then edited to say either, and the second run's
// trace shows where the copies went.
TEST(EmuGraph, CostModelSendsDataPlaneWorkToTheDpuWhenItsModelsSaySo) {
  std::string models = TempPath("models.json");
  {
    // Learn: every device runs some of each kernel it can.
    Runtime r(Profile("", false), false, PENG_POLICY_COST_MODEL, models.c_str());
    ASSERT_TRUE(r.add && r.copy);
    int supported = -1;
    ASSERT_EQ(peng_kernel_supported_on(r.add, r.device("emu:dpu0"), &supported), PENG_OK);
    EXPECT_EQ(supported, 0) << "a DPU with kernels = data_plane takes no compute kernel";
    ASSERT_EQ(peng_kernel_supported_on(r.copy, r.device("emu:dpu0"), &supported), PENG_OK);
    EXPECT_EQ(supported, 1);
    Chains chains(r, 8, 4);
    CopyChains copies(r, 8, 4);
    peng_graph_t g = chains.Build(r);
    copies.Add(r, g);
    ASSERT_EQ(RunAndRelease(g), PENG_OK) << peng_last_error_message();
    ASSERT_EQ(peng_runtime_save_perf_models(r.rt, models.c_str()), PENG_OK);
  }
  nlohmann::json learned;
  {
    std::ifstream in(models);
    learned = nlohmann::json::parse(in);
  }
  uint32_t copy_bucket = UINT32_MAX;
  for (const auto& h : learned["history"]) {
    if (h["kernel"] == "copy_f32_37x53") copy_bucket = h["bucket"].get<uint32_t>();
  }
  ASSERT_NE(copy_bucket, UINT32_MAX) << learned.dump();

  for (const char* fastest : {"emu:dpu0", "cpu0"}) {
    SCOPED_TRACE(fastest);
    // The models say: copies take 5 us on `fastest` and 50 ms elsewhere.
    nlohmann::json doc = learned;
    nlohmann::json history = nlohmann::json::array();
    for (const auto& h : learned["history"]) {
      if (h["kernel"] != "copy_f32_37x53") history.push_back(h);
    }
    for (const char* device : {"cpu0", "emu:npu0", "emu:dpu0"}) {
      double us = std::string(device) == fastest ? 5.0 : 50000.0;
      history.push_back({{"kernel", "copy_f32_37x53"}, {"bucket", copy_bucket},
                         {"device", device}, {"total", 8},
                         {"samples_us", {us, us, us, us, us, us, us, us}}});
    }
    doc["history"] = history;
    std::ofstream(models) << doc.dump(1);

    Runtime r(Profile("", false), /*trace=*/true, PENG_POLICY_COST_MODEL, models.c_str());
    CopyChains copies(r, 10, 2);
    peng_graph_t g = nullptr;
    ASSERT_EQ(peng_graph_create(r.rt, &g), PENG_OK);
    copies.Add(r, g);
    ASSERT_EQ(RunAndRelease(g), PENG_OK) << peng_last_error_message();
    copies.Check();
    std::string trace = TempPath("trace.json");
    ASSERT_EQ(peng_runtime_write_trace(r.rt, trace.c_str()), PENG_OK);
    std::map<std::string, int> tasks = TasksPerTrack(trace);
    fs::remove(trace);
    EXPECT_EQ(tasks[fastest], 20) << "cpu0 " << tasks["cpu0"] << ", emu:npu0 " << tasks["emu:npu0"]
                                  << ", emu:dpu0 " << tasks["emu:dpu0"];
  }
  fs::remove(models);
}

// VLEN-specialised code runs where the VLEN matches only: a VLEN-256 matmul
// module on two NPUs, at VLEN 256 (it runs, right) and 512 (refused, saying
// why).
TEST(EmuGraph, VlenSpecialisedCodeRunsOnTheMatchingDeviceOnly) {
  std::string profile =
      "[[device]]\nname = \"cpu0\"\nbackend = \"cpu\"\n"
      "[[device]]\nname = \"emu:npu256\"\nbackend = \"emu\"\nkind = \"npu\"\n"
      "memory = \"discrete\"\nvlen = 256\n"
      "[[device]]\nname = \"emu:npu512\"\nbackend = \"emu\"\nkind = \"npu\"\n"
      "memory = \"discrete\"\nvlen = 512\n";
  std::string path = TempPath("vlen.toml");
  std::ofstream(path) << profile;
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = path.c_str();
  peng_runtime_t rt = nullptr;
  ASSERT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
  peng_module_t module = nullptr;
  ASSERT_EQ(peng_module_load_file(rt, PENG_TEST_MODULE_DIR "/matmul-vlen256.peng", &module),
            PENG_OK)
      << peng_last_error_message();
  peng_kernel_t matmul = nullptr;
  ASSERT_EQ(peng_module_find_kernel(module, "matmul_37x29x45", &matmul), PENG_OK);
  peng_device_t d256 = nullptr, d512 = nullptr, cpu = nullptr;
  ASSERT_EQ(peng_runtime_find_device(rt, "emu:npu256", &d256), PENG_OK);
  ASSERT_EQ(peng_runtime_find_device(rt, "emu:npu512", &d512), PENG_OK);
  ASSERT_EQ(peng_runtime_find_device(rt, "cpu0", &cpu), PENG_OK);
  int on256 = -1, on512 = -1, on_cpu = -1;
  ASSERT_EQ(peng_kernel_supported_on(matmul, d256, &on256), PENG_OK);
  ASSERT_EQ(peng_kernel_supported_on(matmul, d512, &on512), PENG_OK);
  ASSERT_EQ(peng_kernel_supported_on(matmul, cpu, &on_cpu), PENG_OK);
  EXPECT_EQ(on256, 1);
  EXPECT_EQ(on512, 0);
  EXPECT_EQ(on_cpu, 0);  // x86: no rvv code runs here

  // Run it on the VLEN-256 device against a plain loop (f32 sums, 1e-4).
  const int64_t m = 37, k = 29, n = 45;
  std::vector<float> a(m * k), b(k * n), c(m * n, -1.0f);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i * 7 % 13) - 6) * 0.25f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i * 5 % 11) - 5) * 0.5f;
  peng_buffer_t ba, bb, bc;
  ASSERT_EQ(peng_buffer_create(rt, a.size() * 4, &ba), PENG_OK);
  ASSERT_EQ(peng_buffer_create(rt, b.size() * 4, &bb), PENG_OK);
  ASSERT_EQ(peng_buffer_create(rt, c.size() * 4, &bc), PENG_OK);
  ASSERT_EQ(peng_buffer_write(ba, 0, a.size() * 4, a.data()), PENG_OK);
  ASSERT_EQ(peng_buffer_write(bb, 0, b.size() * 4, b.data()), PENG_OK);
  peng_tensor_arg_t args[3] = {};
  peng_buffer_t bufs[3] = {ba, bb, bc};
  int64_t shapes[3][2] = {{m, k}, {k, n}, {m, n}};
  for (int i = 0; i < 3; ++i) {
    args[i].buffer = bufs[i];
    args[i].dtype = PENG_DTYPE_F32;
    args[i].rank = 2;
    args[i].shape[0] = shapes[i][0];
    args[i].shape[1] = shapes[i][1];
  }
  peng_graph_t g = nullptr;
  ASSERT_EQ(peng_graph_create(rt, &g), PENG_OK);
  ASSERT_EQ(peng_graph_add_task(g, matmul, args, 3, nullptr, 0, nullptr, nullptr), PENG_OK)
      << peng_last_error_message();
  ASSERT_EQ(RunAndRelease(g), PENG_OK) << peng_last_error_message();
  ASSERT_EQ(peng_buffer_read(bc, 0, c.size() * 4, c.data()), PENG_OK);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t p = 0; p < k; ++p) want += double(a[i * k + p]) * b[p * n + j];
      ASSERT_NEAR(c[i * n + j], want, 1e-4) << i << "," << j;
    }
  }
  EXPECT_GT(Dispatches(d256), 0);
  EXPECT_EQ(Dispatches(d512), 0);
  peng_buffer_release(ba);
  peng_buffer_release(bb);
  peng_buffer_release(bc);
  peng_module_release(module);
  ASSERT_EQ(peng_runtime_release(rt), PENG_OK);
  fs::remove(path);
}

enum class Fault { kKill, kHang };

class EmuFault : public ::testing::TestWithParam<Fault> {};

// 1000 tasks (100 chains of 10); the NPU fails once it has run 20 of them.
TEST_P(EmuFault, GraphOfAThousandTasksCompletesOnTheOtherDevices) {
  const bool kill = GetParam() == Fault::kKill;
  // Hung: the server's 21st dispatch never ends; the watchdog (300 ms, from
  // the runtime options) ends it.
  Runtime r(Profile(kill ? "" : "test_hang_dispatch = 21\n", false), /*trace=*/true,
            PENG_POLICY_EAGER, nullptr, /*watchdog_ms=*/kill ? 0 : 300);
  ASSERT_TRUE(r.add);
  peng_device_t npu = r.device("emu:npu0");
  pid_t server = pid_t(DescribedNumber(npu, "Server pid: "));
  ASSERT_TRUE(ProcessExists(server));
  Chains chains(r, 100, 10);
  peng_graph_t g = chains.Build(r);
  uint32_t count = 0;
  ASSERT_EQ(peng_graph_task_count(g, &count), PENG_OK);
  ASSERT_EQ(count, 1000u);

  std::atomic<bool> finished{false};
  std::atomic<long long> at_fault{-1};
  std::thread killer([&] {
    // The moment the NPU has done 20 tasks of the graph.
    while (!finished.load() && Dispatches(npu) < 20) usleep(500);
    at_fault = Dispatches(npu);
    if (kill && !finished.load()) ::kill(server, SIGKILL);
  });
  auto start = std::chrono::steady_clock::now();
  peng_event_t done = nullptr;
  ASSERT_EQ(peng_graph_submit(g, nullptr, 0, &done), PENG_OK) << peng_last_error_message();
  peng_status_t st = peng_event_wait(done, 120ull * 1000 * 1000 * 1000);
  finished = true;
  killer.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(st, PENG_OK) << peng_last_error_message();
  peng_event_release(done);
  peng_graph_release(g);
  EXPECT_GE(at_fault.load(), 20) << "the NPU never ran 20 tasks";

  chains.Check();
  EXPECT_TRUE(Lost(npu));
  std::string why = Describe(npu);
  EXPECT_NE(why.find(kill ? "killed by signal 9" : "watchdog: a dispatch of kernel 'add_33x47'"),
            std::string::npos)
      << why;
  EXPECT_FALSE(ProcessExists(server));
  EXPECT_FALSE(Lost(r.device("emu:dpu0")));
  EXPECT_FALSE(Lost(r.device("cpu0")));
  // The NPU's last results were still its own (their consumers come a
  // hundred tasks later): they were computed again elsewhere.
  std::string trace = TempPath("trace.json");
  ASSERT_EQ(peng_runtime_write_trace(r.rt, trace.c_str()), PENG_OK) << peng_last_error_message();
  int recomputed = 0;
  std::map<std::string, int> tasks = TasksPerTrack(trace, &recomputed);
  fs::remove(trace);
  EXPECT_GT(recomputed, 0);
  EXPECT_GE(tasks["emu:npu0"], 20);
  std::printf("[ info ] %s: NPU lost after %lld dispatches; %d producers run again; tasks: "
              "cpu0 %d, emu:npu0 %d, emu:dpu0 %d; %.2f s\n",
              kill ? "killed" : "hung", at_fault.load(), recomputed, tasks["cpu0"],
              tasks["emu:npu0"], tasks["emu:dpu0"], seconds);
}

INSTANTIATE_TEST_SUITE_P(KillOrHang, EmuFault, ::testing::Values(Fault::kKill, Fault::kHang),
                         [](const auto& info) {
                           return std::string(info.param == Fault::kKill ? "Killed" : "Hung");
                         });

}  // namespace
