// Stress: large random task graphs on three devices, under every scheduling
// policy, checked against a sequential replay on the host.
//
// The platform (platforms/stress-3dev.toml) has a host CPU and two CPU-backend
// devices with their own memory, no timing model. Tasks read and write random
// subsets of 64 small int64 buffers with random access modes, priorities,
// placements and explicit edges. Every kernel updates its outputs with a
// non-commutative mix of its inputs and its task id, so any ordering mistake,
// lost update or stale copy changes the final checksums; a per-task atomic
// counter shows that each task ran exactly once per submission, and a
// per-device kernel variant shows where it ran.
//
// A second test submits graphs that share buffers from several threads at
// once (peng.h allows it) and checks that no submission deadlocks or loses
// an update.
//
// Sizes: per policy 4 graphs of 17k tasks, 6 submissions: 102k task runs.
// PENG_STRESS_SCALE=N multiplies the tasks (default 1; 0.5 under ASan and
// TSan, 0.25 on riscv64, so those runs stay within a few minutes);
// PENG_STRESS_SEED picks other graphs; PENG_STRESS_STALL_S is how long no
// task may finish before a test calls it a hang (default 20 s, 10 s for the
// concurrent-submission test).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "peng/peng.hpp"

// Sanitizer builds get smaller default sizes (GCC and Clang spell it differently).
#if defined(__SANITIZE_THREAD__)
#define PENG_STRESS_TSAN 1
#elif defined(__SANITIZE_ADDRESS__)
#define PENG_STRESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PENG_STRESS_TSAN 1
#elif __has_feature(address_sanitizer)
#define PENG_STRESS_ASAN 1
#endif
#endif

#if defined(PENG_STRESS_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

#ifndef PENG_STRESS_PLATFORM
#error "PENG_STRESS_PLATFORM must name platforms/stress-3dev.toml (tests/stress/CMakeLists.txt)"
#endif

namespace {

constexpr int kDevices = 3;
constexpr int kBuffers = 64;
constexpr int kHotBuffers = 8;  // half the accesses go here: long chains, many conflicts
constexpr uint32_t kTile = 64;  // elements per workgroup of argument 0
constexpr int kMaxArity = 3;

using Clock = std::chrono::steady_clock;

double EnvDouble(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  return end && *end == 0 && d > 0 ? d : fallback;
}

double Scale() {
#if defined(__riscv)  // under QEMU, or a small board
  constexpr double kDefault = 0.25;
#elif defined(PENG_STRESS_TSAN) || defined(PENG_STRESS_ASAN)
  constexpr double kDefault = 0.5;
#else
  constexpr double kDefault = 1.0;
#endif
  return EnvDouble("PENG_STRESS_SCALE", kDefault);
}

uint64_t Seed() {
  const char* v = std::getenv("PENG_STRESS_SEED");
  return v && *v ? std::strtoull(v, nullptr, 0) : 0x5EED2024ull;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ull);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 32);
}

uint32_t ModeOf(uint32_t modes, uint32_t arg) { return (modes >> (2 * arg)) & 3; }

// The update a task makes, shared by the kernels and the host reference:
// every element i = first, first + stride, ... of each written argument
// becomes a mix of the task's tag, i, and the read arguments at i; a
// read-write argument also mixes in its old value. Written arguments never
// feed each other, so workgroups and arguments may go in any order.
void ApplyTask(uint64_t tag, uint32_t modes, uint32_t arity, int64_t* const* data, const int64_t* n,
               uint64_t first, uint64_t stride) {
  for (uint32_t o = 0; o < arity; ++o) {
    uint32_t mode = ModeOf(modes, o);
    if (mode == PENG_ACCESS_READ) continue;
    for (uint64_t i = first; i < uint64_t(n[o]); i += stride) {
      uint64_t h = Mix(tag * 4 + o, i);
      for (uint32_t r = 0; r < arity; ++r) {
        if (ModeOf(modes, r) == PENG_ACCESS_READ) h = Mix(h, uint64_t(data[r][i % n[r]]));
      }
      data[o][i] = int64_t(mode == PENG_ACCESS_READWRITE ? Mix(uint64_t(data[o][i]), h) : h);
    }
  }
}

// Per graph: how often each task ran and on which device.
struct Tally {
  explicit Tally(size_t n)
      : runs(new std::atomic<uint32_t>[n]), device(new std::atomic<int32_t>[n]), size(n) {
    for (size_t i = 0; i < n; ++i) {
      runs[i].store(0);
      device[i].store(-1);
    }
  }
  std::unique_ptr<std::atomic<uint32_t>[]> runs;
  std::unique_ptr<std::atomic<int32_t>[]> device;
  size_t size;
};

// Kernel constants: [tag = graph << 32 | task, Tally*, access modes].
int RunStressKernel(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg, int dev) {
  if (d->constant_count != 3 || d->binding_count < 1 || d->binding_count > kMaxArity) return 1;
  uint64_t tag = uint64_t(d->constants[0]);
  auto* tally = reinterpret_cast<Tally*>(static_cast<intptr_t>(d->constants[1]));
  uint32_t modes = uint32_t(d->constants[2]);
  uint32_t task = uint32_t(tag);
  if (!tally || task >= tally->size) return 2;
  int64_t* data[kMaxArity];
  int64_t n[kMaxArity];
  for (uint32_t i = 0; i < d->binding_count; ++i) {
    if (d->ranks[i] != 1 || d->shapes[i][0] <= 0 ||
        d->binding_sizes[i] != uint64_t(d->shapes[i][0]) * sizeof(int64_t)) {
      return 3;
    }
    data[i] = static_cast<int64_t*>(d->bindings[i]);
    n[i] = d->shapes[i][0];
  }
  if (d->workgroup_count[0] != (uint64_t(n[0]) + kTile - 1) / kTile) return 4;
  if (wg->workgroup_id[0] == 0 && wg->workgroup_id[1] == 0 && wg->workgroup_id[2] == 0) {
    tally->runs[task].fetch_add(1, std::memory_order_relaxed);
    tally->device[task].store(dev, std::memory_order_relaxed);
  }
  ApplyTask(tag, modes, d->binding_count, data, n, wg->workgroup_id[0], d->workgroup_count[0]);
  return 0;
}

template <int Dev>
int StressKernel(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  return RunStressKernel(d, wg, Dev);
}
const peng_kernel_fn_t kStressFns[kDevices] = {StressKernel<0>, StressKernel<1>, StressKernel<2>};
const char* const kTargets[kDevices] = {"stress-dev0", "stress-dev1", "stress-dev2"};

// ------------------------------------------------------------------ kernels

// One kernel per arity and combination of access modes (3 + 9 + 27). Some
// have no code for cpu0 or acc1: no policy may send them there.
struct KernelInfo {
  std::string name;
  uint32_t arity;
  uint32_t modes;
  uint32_t device_mask;
  std::vector<peng_arg_desc_t> args;
};

std::vector<KernelInfo> MakeCatalog() {
  std::vector<KernelInfo> catalog;
  const char letter[4] = {'?', 'r', 'w', 'x'};
  for (uint32_t arity = 1; arity <= kMaxArity; ++arity) {
    uint32_t combos = 1;
    for (uint32_t i = 0; i < arity; ++i) combos *= 3;
    for (uint32_t c = 0; c < combos; ++c) {
      KernelInfo k;
      k.arity = arity;
      k.modes = 0;
      k.name = "s";
      uint32_t rest = c;
      for (uint32_t a = 0; a < arity; ++a) {
        uint32_t mode = 1 + rest % 3;  // READ, WRITE, READWRITE
        rest /= 3;
        k.modes |= mode << (2 * a);
        k.name += letter[mode];
        k.args.push_back({PENG_DTYPE_I64, peng_access_t(mode), 1, {-1}});
      }
      size_t index = catalog.size();
      k.device_mask = 0b111;
      if (index % 5 == 4) k.device_mask &= ~0b100u;  // no code for acc1
      if (index % 7 == 6) k.device_mask &= ~0b001u;  // no code for cpu0
      catalog.push_back(std::move(k));
    }
  }
  return catalog;
}

std::vector<peng_native_kernel_def_t> MakeDefs(const std::vector<KernelInfo>& catalog) {
  std::vector<peng_native_kernel_def_t> defs;
  for (const KernelInfo& k : catalog) {
    for (int dev = 0; dev < kDevices; ++dev) {
      if (!((k.device_mask >> dev) & 1)) continue;
      peng_native_kernel_def_t def{};
      def.name = k.name.c_str();
      def.target = kTargets[dev];
      def.fn = kStressFns[dev];
      def.arg_count = k.arity;
      def.args = k.args.data();
      def.constant_count = 3;
      def.grid[0] = {0, 0, kTile};
      defs.push_back(def);
    }
  }
  return defs;
}

// ------------------------------------------------------------------- graphs

struct TaskSpec {
  uint16_t kernel;
  uint8_t buffers[kMaxArity];
  int8_t priority;
  int8_t device;       // a device with code for the kernel
  uint8_t place_roll;  // placed when < 26 (about 10%), or always under EXPLICIT
};

struct GraphSpec {
  std::vector<TaskSpec> tasks;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
};

struct Workload {
  std::vector<KernelInfo> catalog;
  std::vector<int64_t> lengths;               // elements per buffer
  std::vector<std::vector<int64_t>> initial;  // contents before the first graph
  std::vector<GraphSpec> graphs;
};

Workload MakeWorkload(uint64_t seed, uint32_t graph_count, uint32_t tasks_per_graph) {
  Workload w;
  w.catalog = MakeCatalog();
  std::mt19937_64 rng(seed);
  for (int b = 0; b < kBuffers; ++b) {
    int64_t n = 16 + int64_t(rng() % 241);  // 16..256
    w.lengths.push_back(n);
    std::vector<int64_t> data(n);
    for (auto& v : data) v = int64_t(rng());
    w.initial.push_back(std::move(data));
  }
  // Kernels by arity and modes.
  auto find_kernel = [&](uint32_t arity, uint32_t modes) {
    for (size_t i = 0; i < w.catalog.size(); ++i) {
      if (w.catalog[i].arity == arity && w.catalog[i].modes == modes) return uint16_t(i);
    }
    return uint16_t(0);
  };
  for (uint32_t g = 0; g < graph_count; ++g) {
    GraphSpec spec;
    spec.tasks.reserve(tasks_per_graph);
    for (uint32_t t = 0; t < tasks_per_graph; ++t) {
      TaskSpec task{};
      uint32_t arity = 1 + uint32_t(rng() % kMaxArity);
      uint32_t modes = 0;
      for (uint32_t a = 0; a < arity; ++a) {
        uint32_t roll = uint32_t(rng() % 10);  // 40% read, 20% write, 40% read-write
        uint32_t mode = roll < 4   ? PENG_ACCESS_READ
                        : roll < 6 ? PENG_ACCESS_WRITE
                                   : PENG_ACCESS_READWRITE;
        modes |= mode << (2 * a);
        // Distinct buffers within a task.
        uint8_t b;
        bool again;
        do {
          b = uint8_t(rng() % 2 ? rng() % kHotBuffers : rng() % kBuffers);
          again = std::find(task.buffers, task.buffers + a, b) != task.buffers + a;
        } while (again);
        task.buffers[a] = b;
      }
      task.kernel = find_kernel(arity, modes);
      task.priority = int8_t(int(rng() % 7) - 3);
      uint32_t mask = w.catalog[task.kernel].device_mask;
      do {
        task.device = int8_t(rng() % kDevices);
      } while (!((mask >> task.device) & 1));
      task.place_roll = uint8_t(rng() % 256);
      spec.tasks.push_back(task);
      // Now and then an explicit edge from a recent task.
      if (t > 0 && rng() % 8 == 0) {
        uint32_t back = 1 + uint32_t(rng() % std::min<uint32_t>(t, 256));
        spec.edges.emplace_back(t - back, t);
      }
    }
    w.graphs.push_back(std::move(spec));
  }
  return w;
}

uint64_t Tag(uint32_t graph, uint32_t task) { return (uint64_t(graph) << 32) | task; }

// The sequential reference: tasks in insertion order, graphs in submission order.
void Replay(const Workload& w, uint32_t graph, std::vector<std::vector<int64_t>>* buffers) {
  const GraphSpec& spec = w.graphs[graph];
  for (uint32_t t = 0; t < spec.tasks.size(); ++t) {
    const TaskSpec& task = spec.tasks[t];
    const KernelInfo& k = w.catalog[task.kernel];
    int64_t* data[kMaxArity];
    int64_t n[kMaxArity];
    for (uint32_t a = 0; a < k.arity; ++a) {
      data[a] = (*buffers)[task.buffers[a]].data();
      n[a] = w.lengths[task.buffers[a]];
    }
    ApplyTask(Tag(graph, t), k.modes, k.arity, data, n, 0, 1);
  }
}

uint64_t Checksum(const std::vector<int64_t>& v) {
  uint64_t h = v.size();
  for (int64_t x : v) h = Mix(h, uint64_t(x));
  return h;
}

const char* PolicyName(peng_policy_t p) {
  switch (p) {
    case PENG_POLICY_EAGER:
      return "EAGER";
    case PENG_POLICY_EXPLICIT:
      return "EXPLICIT";
    case PENG_POLICY_WORK_STEALING:
      return "WORK_STEALING";
    case PENG_POLICY_COST_MODEL:
      return "COST_MODEL";
  }
  return "UNKNOWN";
}

peng_runtime_options_t StressOptions(peng_policy_t policy) {
  peng_runtime_options_t o = peng::Runtime::default_options();
  o.policy = policy;
  o.platform_path = PENG_STRESS_PLATFORM;
  o.plugin_path = "";      // not from the environment
  o.perf_model_path = "";  // no model files read or written
  return o;
}

// Waits for every event while work makes progress; `progress` counts
// finished tasks. Returns kStalled if nothing moved for `stall` (a lost task
// or a deadlock) instead of hanging the test binary, kFailed if an event
// completed with an error (the first one's message in *error).
enum class Wait { kOk, kFailed, kStalled };
Wait WaitWithProgress(const std::vector<peng::Event>& events,
                      const std::function<uint64_t()>& progress, std::chrono::seconds stall,
                      std::string* error) {
  uint64_t last = progress();
  auto last_change = Clock::now();
  Wait result = Wait::kOk;
  for (const peng::Event& e : events) {
    for (;;) {
      peng_status_t st = e.query();
      if (st != PENG_ERROR_TIMEOUT) {
        if (st != PENG_OK && result == Wait::kOk) {
          peng_event_wait(e.get(), 0);  // through the C ABI, for the message
          *error = std::string(peng_status_string(st)) + ": " + peng_last_error_message();
          result = Wait::kFailed;
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      uint64_t now = progress();
      if (now != last) {
        last = now;
        last_change = Clock::now();
      } else if (Clock::now() - last_change > stall) {
        *error = "no task finished for " + std::to_string(stall.count()) + " s, " +
                 std::to_string(now) + " done: lost task or deadlock";
        return Wait::kStalled;
      }
    }
  }
  return result;
}

// Everything one run holds: released together, or leaked on a hang (a runtime
// whose work never finishes would block its release forever).
struct Session {
  peng::Runtime rt;
  peng::Module module;
  std::vector<peng::Kernel> kernels;
  std::vector<peng::Buffer> buffers;
  std::vector<peng::Graph> graphs;
  std::vector<std::unique_ptr<Tally>> tallies;
  std::vector<peng::Event> events;
  explicit Session(const peng_runtime_options_t& o) : rt(o) {}
};

// After a hang: drop the session without releasing it (that would block for
// good), and tell LeakSanitizer the leak is on purpose.
void Abandon(std::unique_ptr<Session>* session) {
  Session* s = session->release();
#if defined(PENG_STRESS_ASAN)
  __lsan_ignore_object(s);
#else
  (void)s;
#endif
}

// How long no task may finish before a test calls it a hang.
std::chrono::seconds StallLimit(int default_s) {
  return std::chrono::seconds(int(EnvDouble("PENG_STRESS_STALL_S", default_s)));
}

// ----------------------------------------------------------------- the test

class StressTest : public ::testing::TestWithParam<peng_policy_t> {};

TEST_P(StressTest, RandomDagsMatchSequentialReference) {
  const peng_policy_t policy = GetParam();
  const bool explicit_all = policy == PENG_POLICY_EXPLICIT;
  const double scale = Scale();
  const uint32_t graph_count = 4;
  const uint32_t tasks_per_graph = std::max<uint32_t>(100, uint32_t(std::lround(17000 * scale)));
  const uint64_t seed = Seed();
  auto t0 = Clock::now();

  Workload w = MakeWorkload(seed, graph_count, tasks_per_graph);
  // Submission order: graph 0 alone; then graphs 1, 0, 2, ..., n-1, 0 all in
  // flight together (ordered by the buffers they share), graph 0 submitted
  // again while its previous submission is still pending.
  std::vector<uint32_t> second_phase = {1, 0};
  for (uint32_t g = 2; g < graph_count; ++g) second_phase.push_back(g);
  second_phase.push_back(0);
  std::vector<std::vector<int64_t>> after_first = w.initial;
  Replay(w, 0, &after_first);
  std::vector<std::vector<int64_t>> expected = after_first;
  for (uint32_t g : second_phase) Replay(w, g, &expected);
  auto t_reference = Clock::now();

  auto session = std::make_unique<Session>(StressOptions(policy));
  Session& s = *session;
  std::vector<peng::Device> devices = s.rt.devices();
  ASSERT_EQ(devices.size(), size_t(kDevices));
  std::vector<peng_native_kernel_def_t> defs = MakeDefs(w.catalog);
  s.module = s.rt.native_module("stress", defs);
  for (const KernelInfo& k : w.catalog) {
    s.kernels.push_back(s.module.kernel(k.name));
    for (int d = 0; d < kDevices; ++d) {
      ASSERT_EQ(s.kernels.back().supported_on(devices[d]), bool((k.device_mask >> d) & 1))
          << k.name;
    }
  }
  for (int b = 0; b < kBuffers; ++b) {
    s.buffers.push_back(s.rt.buffer(uint64_t(w.lengths[b]) * sizeof(int64_t)));
    s.buffers.back().write(w.initial[b].data(), w.initial[b].size() * sizeof(int64_t));
  }

  // Build the graphs through the C++ API.
  uint64_t placed_tasks = 0;
  for (uint32_t g = 0; g < graph_count; ++g) {
    const GraphSpec& spec = w.graphs[g];
    s.tallies.push_back(std::make_unique<Tally>(spec.tasks.size()));
    s.graphs.push_back(s.rt.graph());
    peng::Graph& graph = s.graphs.back();
    auto tally_ptr = int64_t(reinterpret_cast<intptr_t>(s.tallies.back().get()));
    size_t edge = 0;
    std::vector<peng_tensor_arg_t> args;
    for (uint32_t t = 0; t < spec.tasks.size(); ++t) {
      const TaskSpec& task = spec.tasks[t];
      const KernelInfo& k = w.catalog[task.kernel];
      args.clear();
      for (uint32_t a = 0; a < k.arity; ++a) {
        args.push_back(
            s.buffers[task.buffers[a]].tensor(PENG_DTYPE_I64, {w.lengths[task.buffers[a]]}));
      }
      peng::TaskOptions opts;
      opts.priority = task.priority;
      if (explicit_all || task.place_roll < 26) {
        opts.device = devices[task.device];
        ++placed_tasks;
      }
      peng_task_t id = graph.add(s.kernels[task.kernel], args,
                                 {int64_t(Tag(g, t)), tally_ptr, int64_t(k.modes)}, opts);
      ASSERT_EQ(id, t);
      for (; edge < spec.edges.size() && spec.edges[edge].second == t; ++edge) {
        graph.edge(spec.edges[edge].first, t);
      }
    }
    ASSERT_EQ(graph.size(), spec.tasks.size());
  }
  auto t_built = Clock::now();

  auto progress = [&] {
    uint64_t done = 0;
    for (const auto& tally : s.tallies) {
      for (size_t i = 0; i < tally->size; ++i)
        done += tally->runs[i].load(std::memory_order_relaxed);
    }
    return done;
  };
  // Each task of a graph ran `times` times in all, on a device with code for
  // it, and placed tasks on their device; counts tasks per device.
  std::array<uint64_t, kDevices> per_device{};
  auto check_tally = [&](uint32_t g, uint32_t times) {
    const GraphSpec& spec = w.graphs[g];
    const Tally& tally = *s.tallies[g];
    int bad = 0;
    for (uint32_t t = 0; t < spec.tasks.size() && bad < 10; ++t) {
      const TaskSpec& task = spec.tasks[t];
      uint32_t runs = tally.runs[t].load();
      int32_t dev = tally.device[t].load();
      bool placed = explicit_all || task.place_roll < 26;
      if (runs != times) {
        ADD_FAILURE() << "graph " << g << " task " << t << " ran " << runs << " times, expected "
                      << times;
        ++bad;
      } else if (dev < 0 || dev >= kDevices || !((w.catalog[task.kernel].device_mask >> dev) & 1)) {
        ADD_FAILURE() << "graph " << g << " task " << t << " ran on device " << dev
                      << ", which has no code for kernel " << w.catalog[task.kernel].name;
        ++bad;
      } else if (placed && dev != task.device) {
        ADD_FAILURE() << "graph " << g << " task " << t << " was placed on device "
                      << int(task.device) << " but ran on " << dev;
        ++bad;
      } else {
        ++per_device[dev];
      }
    }
    return bad == 0;
  };
  auto check_buffers = [&](const std::vector<std::vector<int64_t>>& want, const char* when) {
    int bad = 0;
    for (int b = 0; b < kBuffers && bad < 5; ++b) {
      std::vector<int64_t> got = s.buffers[b].read_all<int64_t>();
      if (Checksum(got) == Checksum(want[b]) && got == want[b]) continue;
      size_t i = 0;
      while (i < got.size() && got[i] == want[b][i]) ++i;
      ADD_FAILURE() << when << ": buffer " << b << " (" << w.lengths[b]
                    << " elements) differs from "
                    << "the reference at element " << i << ": checksum " << Checksum(got) << " vs "
                    << Checksum(want[b]);
      ++bad;
    }
    return bad == 0;
  };

  std::string error;
  // Phase 1: one graph alone.
  s.events.push_back(s.graphs[0].submit());
  Wait waited = WaitWithProgress(s.events, progress, StallLimit(20), &error);
  EXPECT_EQ(waited, Wait::kOk) << "first graph: " << error;
  if (waited == Wait::kOk) {
    s.events.clear();
    EXPECT_TRUE(check_tally(0, 1));
    EXPECT_TRUE(check_buffers(after_first, "after the first graph"));
    // Phase 2: the other graphs and the first again, all in flight at once.
    for (uint32_t g : second_phase) s.events.push_back(s.graphs[g].submit());
    waited = WaitWithProgress(s.events, progress, StallLimit(20), &error);
    EXPECT_EQ(waited, Wait::kOk) << "second phase: " << error;
  }
  if (waited == Wait::kStalled) {
    Abandon(&session);
    return;
  }
  if (waited != Wait::kOk) return;
  per_device.fill(0);
  for (uint32_t g = 0; g < graph_count; ++g) {
    uint32_t submissions =
        (g == 0) + uint32_t(std::count(second_phase.begin(), second_phase.end(), g));
    EXPECT_TRUE(check_tally(g, submissions));
  }
  EXPECT_TRUE(check_buffers(expected, "at the end"));
  auto t_end = Clock::now();

  uint64_t executed = uint64_t(tasks_per_graph) * (1 + second_phase.size());
  auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  std::printf(
      "[ stress ] %s seed=%#llx: %llu task runs (%llu placed per pass) in %lld ms "
      "(reference %lld ms, build %lld ms); tasks by device of their last run: cpu0 %llu, acc0 "
      "%llu, "
      "acc1 %llu\n",
      PolicyName(policy), (unsigned long long)seed, (unsigned long long)executed,
      (unsigned long long)placed_tasks, (long long)ms(t_built, t_end),
      (long long)ms(t0, t_reference), (long long)ms(t_reference, t_built),
      (unsigned long long)per_device[0], (unsigned long long)per_device[1],
      (unsigned long long)per_device[2]);
  // Under EXPLICIT every device gets about a third; every policy must use
  // more than one device for a workload this wide.
  int used = 0;
  for (uint64_t n : per_device) used += n > 0;
  EXPECT_GE(used, 2) << "only one device did any work";
  if (explicit_all) {
    for (uint64_t n : per_device) EXPECT_GT(n, 0u);
  }
}

}  // namespace

// Test names show the policy's name (found by argument-dependent lookup, so
// at global scope like peng_policy_t).
void PrintTo(peng_policy_t policy, std::ostream* os) { *os << PolicyName(policy); }

namespace {

INSTANTIATE_TEST_SUITE_P(Policies, StressTest,
                         ::testing::Values(PENG_POLICY_EAGER, PENG_POLICY_WORK_STEALING,
                                           PENG_POLICY_COST_MODEL, PENG_POLICY_EXPLICIT),
                         [](const ::testing::TestParamInfo<peng_policy_t>& info) {
                           return std::string(PolicyName(info.param));
                         });

// ------------------------------------------------ several submitting threads

// x[i] += constants[0] on every argument: commutative, so the result does not
// depend on the order in which concurrent submissions run.
std::atomic<uint64_t> g_add_runs{0};
int AddKernel(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  for (uint32_t a = 0; a < d->binding_count; ++a) {
    auto* x = static_cast<int64_t*>(d->bindings[a]);
    for (int64_t i = 0; i < d->shapes[a][0]; ++i) x[i] += d->constants[0];
  }
  g_add_runs.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

// Threads submit graphs that write the same buffers, each graph touching them
// in its own order. Submissions from several threads at once are allowed
// (peng.h), so they must neither deadlock nor lose an update. Each graph
// touches many buffers, so that submissions from two threads overlap in time.
TEST(StressConcurrentSubmit, GraphsSharingBuffersFromSeveralThreads) {
  constexpr int kThreads = 4, kArity = 32, kTasks = 8, kShared = kArity * kTasks, kLength = 2;
  const int submissions = std::max(10, int(std::lround(50 * Scale())));
  g_add_runs.store(0);

  auto session = std::make_unique<Session>(StressOptions(PENG_POLICY_EAGER));
  Session& s = *session;
  std::vector<peng_arg_desc_t> rw(kArity, {PENG_DTYPE_I64, PENG_ACCESS_READWRITE, 1, {kLength}});
  std::vector<peng_native_kernel_def_t> defs;
  for (int d = 0; d < kDevices; ++d) {
    defs.push_back({"add", kTargets[d], AddKernel, kArity, rw.data(), 1, {}, nullptr});
  }
  s.module = s.rt.native_module("concurrent", defs);
  peng::Kernel add = s.module.kernel("add");
  for (int b = 0; b < kShared; ++b) s.buffers.push_back(s.rt.buffer(kLength * sizeof(int64_t)));

  // Thread t's graph: kTasks tasks covering all buffers, in an order of its own.
  std::vector<int64_t> expected(kShared, 0);
  for (int t = 0; t < kThreads; ++t) {
    std::vector<int> order(kShared);
    for (int j = 0; j < kShared; ++j) order[j] = j;
    std::shuffle(order.begin(), order.end(), std::mt19937(t + 1));
    s.graphs.push_back(s.rt.graph());
    for (int j = 0; j < kTasks; ++j) {
      std::vector<peng_tensor_arg_t> args;
      int64_t c = t * 1000 + j + 1;
      for (int a = 0; a < kArity; ++a) {
        int b = order[j * kArity + a];
        args.push_back(s.buffers[b].tensor(PENG_DTYPE_I64, {kLength}));
        expected[b] += c * submissions;
      }
      s.graphs.back().add(add, args, {c});
    }
  }

  std::vector<std::vector<peng::Event>> events(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      for (int i = 0; i < submissions; ++i) events[t].push_back(s.graphs[t].submit());
    });
  }
  for (auto& th : threads) th.join();
  for (auto& list : events) {
    for (auto& e : list) s.events.push_back(std::move(e));
  }
  const uint64_t total = uint64_t(kThreads) * submissions * kTasks;
  std::string error;
  // Tasks here are tiny: ten seconds without one finishing is a deadlock.
  Wait waited = WaitWithProgress(
      s.events, [] { return g_add_runs.load(); }, StallLimit(10), &error);
  EXPECT_EQ(waited, Wait::kOk) << error << " (" << g_add_runs.load() << " of " << total
                               << " tasks ran)";
  if (waited == Wait::kStalled) {
    Abandon(&session);
    return;
  }
  if (waited != Wait::kOk) return;
  EXPECT_EQ(g_add_runs.load(), total);
  for (int b = 0; b < kShared; ++b) {
    std::vector<int64_t> got = s.buffers[b].read_all<int64_t>();
    for (int i = 0; i < kLength; ++i)
      ASSERT_EQ(got[i], expected[b]) << "buffer " << b << " element " << i;
  }
}

}  // namespace
