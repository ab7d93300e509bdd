// Device-side ordering (hal.h, PENG_HAL_QUEUE_ORDERING): on a device whose
// queue chains work, dependent launches are enqueued before their
// predecessors complete, with the predecessors as waits. The `ordered` test
// backend runs the newest ready operation first, so a missing wait shows as
// a wrong result; its worker can be held to see what was enqueued at once.
#include <dlfcn.h>

#include <cmath>

#include "test_util.h"

namespace peng::test {
namespace {

constexpr int64_t kN = 64;

// out = in * 2 + c0; fails when c1 != 0.
int Step(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  if (d->constants[1] != 0) return 1;
  const float* in = static_cast<const float*>(d->bindings[0]);
  float* out = static_cast<float*>(d->bindings[1]);
  for (int64_t i = 0; i < d->shapes[0][0]; ++i) out[i] = in[i] * 2 + float(d->constants[0]);
  return 0;
}
// out = a + b
int Add(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  const float* a = static_cast<const float*>(d->bindings[0]);
  const float* b = static_cast<const float*>(d->bindings[1]);
  float* out = static_cast<float*>(d->bindings[2]);
  for (int64_t i = 0; i < d->shapes[0][0]; ++i) out[i] = a[i] + b[i];
  return 0;
}

struct Plugin {
  void (*hold)(int);
  void (*reset)();
  int (*wait_queued)(uint32_t, uint32_t);
  void (*stats)(uint32_t*, uint32_t*, uint32_t*, uint32_t*, uint32_t*);
  uint32_t max_queued = 0, waited_early = 0, with_waits = 0, bad_waits = 0, ran = 0;

  Plugin() {
    // The runtime dlopened the plugin; this only finds it.
    void* h = dlopen(PENG_TEST_ORDERED_PLUGIN, RTLD_NOW | RTLD_NOLOAD);
    EXPECT_NE(h, nullptr);
    hold = reinterpret_cast<decltype(hold)>(dlsym(h, "peng_test_ordered_hold"));
    reset = reinterpret_cast<decltype(reset)>(dlsym(h, "peng_test_ordered_reset"));
    wait_queued = reinterpret_cast<decltype(wait_queued)>(dlsym(h, "peng_test_ordered_wait_queued"));
    stats = reinterpret_cast<decltype(stats)>(dlsym(h, "peng_test_ordered_stats"));
    reset();
  }
  void Read() { stats(&max_queued, &waited_early, &with_waits, &bad_waits, &ran); }
};

Runtime Make(const TempFile& profile, peng_policy_t policy) {
  peng_runtime_options_t o = Runtime::default_options();
  o.platform_path = profile.path().c_str();
  o.plugin_path = PENG_TEST_ORDERED_PLUGIN;
  o.policy = policy;
  return Runtime(o);
}

std::vector<float> Iota() {
  std::vector<float> v(kN);
  for (int64_t i = 0; i < kN; ++i) v[i] = float(i % 7) - 3;
  return v;
}

// kN-float buffers for a chain of `steps`: one more than steps, the first holding `first`.
std::vector<Buffer> ChainBuffers(Runtime& rt, int steps, const std::vector<float>& first) {
  std::vector<Buffer> bufs;
  for (int i = 0; i <= steps; ++i) bufs.push_back(rt.buffer(kN * 4));
  bufs[0].write(first.data(), kN * 4);
  return bufs;
}

struct Kernels {
  std::vector<peng_arg_desc_t> step_args = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READ, {kN}),
                                            Arg(PENG_DTYPE_F32, PENG_ACCESS_WRITE, {kN})};
  std::vector<peng_arg_desc_t> add_args = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READ, {kN}),
                                           Arg(PENG_DTYPE_F32, PENG_ACCESS_READ, {kN}),
                                           Arg(PENG_DTYPE_F32, PENG_ACCESS_WRITE, {kN})};
  Module mod;
  explicit Kernels(Runtime& rt)
      : mod(rt.native_module("m", {Def("step", Step, step_args, 2), Def("add", Add, add_args)})) {}
  Kernel step() const { return mod.kernel("step"); }
  Kernel add() const { return mod.kernel("add"); }
};

const char* kOnlyOrdered = "[[device]]\nname=\"ord0\"\nbackend=\"ordered\"\nmemory=\"discrete\"\n";

class Ordering : public ::testing::TestWithParam<peng_policy_t> {};

// A chain of 32 on one ordering device: all 32 are on the device's queue
// before the first runs, and the result is the reference's.
TEST_P(Ordering, AChainIsEnqueuedWholeBeforeItRuns) {
  TempFile profile("ord.toml", kOnlyOrdered);
  Runtime rt = Make(profile, GetParam());
  Plugin plugin;
  Kernels k(rt);
  constexpr int kChain = 32;
  std::vector<float> ref = Iota();
  std::vector<Buffer> bufs = ChainBuffers(rt, kChain, ref);
  Graph g = rt.graph();
  for (int i = 0; i < kChain; ++i) {
    g.add(k.step(), {bufs[i].tensor(PENG_DTYPE_F32, {kN}), bufs[i + 1].tensor(PENG_DTYPE_F32, {kN})},
          {i % 5, 0});
    for (auto& v : ref) v = v * 2 + float(i % 5);  // the same float steps as the kernel
  }
  for (int rep = 0; rep < 3; ++rep) {
    plugin.reset();
    plugin.hold(1);
    Event done = g.submit();
    EXPECT_TRUE(plugin.wait_queued(kChain, 10000)) << "the chain was not enqueued whole";
    plugin.hold(0);
    done.wait();
    plugin.Read();
    EXPECT_EQ(plugin.max_queued, uint32_t(kChain));
    EXPECT_EQ(plugin.waited_early, uint32_t(kChain - 1));
    EXPECT_EQ(plugin.bad_waits, 0u);
    EXPECT_EQ(plugin.ran, uint32_t(kChain));
    std::vector<float> out = bufs[kChain].read_all<float>();
    for (int64_t i = 0; i < kN; ++i) {
      ASSERT_NEAR(out[i], ref[i], std::fabs(ref[i]) * 1e-6f) << "rep " << rep << " i " << i;
    }
  }
}

// Fan-out and fan-in with independent work beside it: every wait is needed,
// since the device runs the newest ready operation first.
TEST_P(Ordering, DiamondsWaitForEveryPredecessor) {
  TempFile profile("ord2.toml", kOnlyOrdered);
  Runtime rt = Make(profile, GetParam());
  Plugin plugin;
  Kernels k(rt);
  Buffer a = rt.buffer(kN * 4), b = rt.buffer(kN * 4), c = rt.buffer(kN * 4),
         d = rt.buffer(kN * 4), e = rt.buffer(kN * 4), x = rt.buffer(kN * 4), y = rt.buffer(kN * 4);
  std::vector<float> in = Iota();
  a.write(in.data(), kN * 4);
  x.write(in.data(), kN * 4);
  auto t = [](const Buffer& buf) { return buf.tensor(PENG_DTYPE_F32, {kN}); };
  Graph g = rt.graph();
  g.add(k.step(), {t(a), t(b)}, {1, 0});        // b = 2a + 1
  g.add(k.step(), {t(b), t(c)}, {2, 0});        // c = 2b + 2
  g.add(k.step(), {t(b), t(d)}, {3, 0});        // d = 2b + 3
  g.add(k.add(), {t(c), t(d), t(e)});           // e = c + d
  g.add(k.step(), {t(e), t(b)}, {4, 0});        // b = 2e + 4 (after c and d read b)
  g.add(k.step(), {t(x), t(y)}, {5, 0});        // independent
  plugin.hold(1);
  Event done = g.submit();
  EXPECT_TRUE(plugin.wait_queued(6, 10000));
  plugin.hold(0);
  done.wait();
  plugin.Read();
  EXPECT_EQ(plugin.bad_waits, 0u);
  std::vector<float> bo = b.read_all<float>(), eo = e.read_all<float>(), yo = y.read_all<float>();
  for (int64_t i = 0; i < kN; ++i) {
    float b1 = 2 * in[i] + 1, c1 = 2 * b1 + 2, d1 = 2 * b1 + 3, e1 = c1 + d1;
    EXPECT_EQ(eo[i], e1) << i;
    EXPECT_EQ(bo[i], 2 * e1 + 4) << i;
    EXPECT_EQ(yo[i], 2 * in[i] + 5) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, Ordering,
                         ::testing::Values(PENG_POLICY_EAGER, PENG_POLICY_WORK_STEALING,
                                           PENG_POLICY_COST_MODEL, PENG_POLICY_EXPLICIT));

// Tasks alternate between the CPU and the ordering device: only the
// same-device pairs chain on the device, and data moves both ways.
TEST(OrderingTest, MixedDevicesMoveDataAndChainOnlyOnTheDevice) {
  TempFile profile("ord3.toml",
                   std::string("[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=2\n") + kOnlyOrdered);
  Runtime rt = Make(profile, PENG_POLICY_EAGER);
  Plugin plugin;
  Kernels k(rt);
  constexpr int kChain = 12;
  std::vector<float> ref = Iota();
  std::vector<Buffer> bufs = ChainBuffers(rt, kChain, ref);
  Graph g = rt.graph();
  for (int i = 0; i < kChain; ++i) {
    // cpu, ord, ord, cpu, ord, ord, ...
    Device dev = rt.device(i % 3 == 0 ? "cpu0" : "ord0");
    g.add(k.step(), {bufs[i].tensor(PENG_DTYPE_F32, {kN}), bufs[i + 1].tensor(PENG_DTYPE_F32, {kN})},
          {1, 0}, {0, std::move(dev)});
    for (auto& v : ref) v = v * 2 + 1;
  }
  for (int rep = 0; rep < 3; ++rep) {
    plugin.reset();
    g.submit().wait();
    plugin.Read();
    // At most one early start per ord-ord pair (fewer when the first of a pair
    // completed before the second was ready): a task after a CPU task never
    // waits on the device.
    EXPECT_LE(plugin.with_waits, uint32_t(kChain / 3));
    EXPECT_EQ(plugin.bad_waits, 0u);
    std::vector<float> out = bufs[kChain].read_all<float>();
    for (int64_t i = 0; i < kN; ++i) ASSERT_EQ(out[i], ref[i]) << i;
  }
}

// A launch fails while its successors wait on the device: the run reports
// that launch's error (not a cancellation), the successors do not count as
// run, and the runtime goes on. Both behaviours hal.h allows for a launch
// whose wait failed are covered.
class OrderingFailure : public ::testing::TestWithParam<bool> {};

TEST_P(OrderingFailure, AFailedLaunchCancelsTheChainBehindIt) {
  bool run_anyway = GetParam();
  TempFile profile("ord4.toml", std::string(kOnlyOrdered) +
                                    (run_anyway ? "run_after_failure=true\n" : ""));
  Runtime rt = Make(profile, PENG_POLICY_EAGER);
  Plugin plugin;
  Kernels k(rt);
  constexpr int kChain = 10, kFails = 4;
  std::vector<float> in = Iota();
  std::vector<Buffer> bufs = ChainBuffers(rt, kChain, in);
  auto build = [&](bool fail) {
    Graph g = rt.graph();
    for (int i = 0; i < kChain; ++i) {
      g.add(k.step(),
            {bufs[i].tensor(PENG_DTYPE_F32, {kN}), bufs[i + 1].tensor(PENG_DTYPE_F32, {kN})},
            {0, fail && i == kFails ? 1 : 0});
    }
    return g;
  };
  Graph bad = build(true);
  plugin.hold(1);
  Event done = bad.submit();
  EXPECT_TRUE(plugin.wait_queued(kChain, 10000));
  plugin.hold(0);
  peng_status_t st = peng_event_wait(done.get(), PENG_WAIT_FOREVER);
  EXPECT_EQ(st, PENG_ERROR_KERNEL_FAILED) << peng_last_error_message();
  EXPECT_NE(std::string(peng_last_error_message()).find("task " + std::to_string(kFails)),
            std::string::npos)
      << peng_last_error_message();
  plugin.Read();
  EXPECT_EQ(plugin.bad_waits, 0u);
  EXPECT_EQ(plugin.ran, uint32_t(run_anyway ? kChain : kFails + 1)) << "the failing launch counts";

  // The same buffers, a good graph: the runtime is fine.
  Graph good = build(false);
  good.submit().wait();
  std::vector<float> out = bufs[kChain].read_all<float>();
  for (int64_t i = 0; i < kN; ++i) EXPECT_EQ(out[i], in[i] * 1024) << i;
}

INSTANTIATE_TEST_SUITE_P(CancelOrRun, OrderingFailure, ::testing::Bool());

// The device is lost in the middle of a chain enqueued on it: the chain's
// data that went with the device is computed again on the CPU (the lost
// tasks' producers run again), so the run ends well with the right result,
// nothing hangs, and later graphs run on the CPU.
TEST(OrderingTest, LosingTheDeviceMidChainEndsTheRunCleanly) {
  TempFile profile("ord5.toml", std::string(kOnlyOrdered) +
                                    "lose_after=4\n[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\n");
  Runtime rt = Make(profile, PENG_POLICY_EAGER);  // ord0 first: EAGER tries it first
  Plugin plugin;
  Kernels k(rt);
  constexpr int kChain = 10;
  std::vector<float> in = Iota();
  std::vector<Buffer> bufs = ChainBuffers(rt, kChain, in);
  Graph g = rt.graph();
  for (int i = 0; i < kChain; ++i) {
    g.add(k.step(), {bufs[i].tensor(PENG_DTYPE_F32, {kN}), bufs[i + 1].tensor(PENG_DTYPE_F32, {kN})},
          {0, 0});
  }
  plugin.hold(1);
  Event done = g.submit();
  EXPECT_TRUE(plugin.wait_queued(kChain, 10000));
  plugin.hold(0);
  peng_status_t st = peng_event_wait(done.get(), PENG_WAIT_FOREVER);
  EXPECT_EQ(st, PENG_OK) << peng_last_error_message();
  EXPECT_TRUE(rt.device("ord0").info().lost);
  std::vector<float> chained = bufs[kChain].read_all<float>();
  for (int64_t i = 0; i < kN; ++i) EXPECT_EQ(chained[i], in[i] * 1024) << i;

  // A fresh chain from host data runs on the CPU now.
  Buffer a = rt.buffer(kN * 4), b = rt.buffer(kN * 4), c = rt.buffer(kN * 4);
  a.write(in.data(), kN * 4);
  Graph g2 = rt.graph();
  g2.add(k.step(), {a.tensor(PENG_DTYPE_F32, {kN}), b.tensor(PENG_DTYPE_F32, {kN})}, {1, 0});
  g2.add(k.step(), {b.tensor(PENG_DTYPE_F32, {kN}), c.tensor(PENG_DTYPE_F32, {kN})}, {1, 0});
  g2.submit().wait();
  std::vector<float> out = c.read_all<float>();
  for (int64_t i = 0; i < kN; ++i) EXPECT_EQ(out[i], (in[i] * 2 + 1) * 2 + 1) << i;
}

}  // namespace
}  // namespace peng::test
