// Scheduling policies: capability-checked placement, the cost-model policy
// following the timing and transfer models, and persisted history models.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace peng::test {
namespace {

// Which variant ran tells which device ran the task: each writes its tag.
int TagHost(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int32_t*>(d->bindings[0])[0] = 1;
  return 0;
}
int TagNpu(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int32_t*>(d->bindings[0])[0] = 2;
  return 0;
}
// Reads a large input, tags the output.
int TagHostWithInput(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int32_t*>(d->bindings[1])[0] = 1;
  return 0;
}
int TagNpuWithInput(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int32_t*>(d->bindings[1])[0] = 2;
  return 0;
}
void MegaFlop(const peng_dispatch_state_t*, double* flops, double* bytes) {
  *flops = 1e6;
  *bytes = 0;
}

std::string Profile(double cpu_gflops, double npu_gflops, double npu_link_gbps,
                    const char* npu_targets = "npuisa,host") {
  std::string p;
  p += "[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=1\ntargets=\"host\"\n";
  if (cpu_gflops > 0) p += "[device.timing]\ngflops=" + std::to_string(cpu_gflops) + "\n";
  p += "[[device]]\nname=\"npu0\"\nbackend=\"cpu\"\nkind=\"npu\"\nmemory=\"discrete\"\nthreads=1\n";
  p += "targets=\"" + std::string(npu_targets) + "\"\n";
  p += "[device.timing]\ngflops=" + std::to_string(npu_gflops) + "\nlaunch_us=5\n";
  p += "[device.link]\ngbps=" + std::to_string(npu_link_gbps) + "\nlatency_us=5\n";
  return p;
}

struct Tagged {
  std::vector<peng_arg_desc_t> out = {Arg(PENG_DTYPE_I32, PENG_ACCESS_WRITE, {1})};
  std::vector<peng_arg_desc_t> in_out = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READ, {-1}),
                                         Arg(PENG_DTYPE_I32, PENG_ACCESS_WRITE, {1})};
  std::vector<peng_native_kernel_def_t> Defs() {
    // Variant order matters: a device takes the first it supports.
    auto npu = Def("work", TagNpu, out, 0, "npuisa");
    auto host = Def("work", TagHost, out, 0, "host");
    auto only = Def("hostonly", TagHost, out, 0, "host");
    auto npu_in = Def("reader", TagNpuWithInput, in_out, 0, "npuisa");
    auto host_in = Def("reader", TagHostWithInput, in_out, 0, "host");
    npu.cost = host.cost = npu_in.cost = host_in.cost = MegaFlop;
    return {npu, host, only, npu_in, host_in};
  }
};

// Runs `count` independent tasks of `kernel`, returns how many ran on the npu.
int RunTagged(Runtime& rt, Module& mod, const char* kernel, int count, Buffer* input = nullptr,
              int64_t input_elems = 0) {
  std::vector<Buffer> outs;
  Graph g = rt.graph();
  for (int i = 0; i < count; ++i) {
    outs.push_back(rt.buffer(4));
    std::vector<peng_tensor_arg_t> args;
    if (input) args.push_back(input->tensor(PENG_DTYPE_F32, {input_elems}));
    args.push_back(outs.back().tensor(PENG_DTYPE_I32, {1}));
    g.add(mod.kernel(kernel), args);
  }
  g.submit().wait();
  int on_npu = 0;
  for (auto& o : outs) {
    int32_t tag = o.read_all<int32_t>()[0];
    EXPECT_TRUE(tag == 1 || tag == 2) << "task did not run";
    on_npu += tag == 2;
  }
  return on_npu;
}

class PolicyTest : public ::testing::TestWithParam<peng_policy_t> {};

TEST_P(PolicyTest, DeviceNeverGetsAKernelWithoutCode) {
  TempFile profile("nocode.toml", Profile(0, 50, 10, "npuisa"));
  Runtime rt = RuntimeWithProfile(profile, GetParam());
  Tagged t;
  Module mod = rt.native_module("m", t.Defs());
  EXPECT_FALSE(mod.kernel("hostonly").supported_on(rt.device("npu0")));
  EXPECT_TRUE(mod.kernel("work").supported_on(rt.device("npu0")));
  EXPECT_EQ(RunTagged(rt, mod, "hostonly", 64), 0);
  RunTagged(rt, mod, "work", 64);  // may run anywhere; every task must run
  // Placing a kernel on a device without code for it is refused up front.
  Graph g = rt.graph();
  Buffer b = rt.buffer(4);
  EXPECT_THROW(g.add(mod.kernel("hostonly"), {b.tensor(PENG_DTYPE_I32, {1})}, {},
                     {0, rt.device("npu0")}),
               Error);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PolicyTest,
                         ::testing::Values(PENG_POLICY_EAGER, PENG_POLICY_EXPLICIT,
                                           PENG_POLICY_WORK_STEALING, PENG_POLICY_COST_MODEL));

TEST(CostModel, PicksTheDeviceThatFinishesFirst) {
  Tagged t;
  {
    // npu: 5 + 1e6 flop / 100 GFLOP/s = 15 µs; cpu: 1e6 / 0.5 GFLOP/s = 2000 µs.
    TempFile profile("fastnpu.toml", Profile(0.5, 100, 10));
    Runtime rt = RuntimeWithProfile(profile, PENG_POLICY_COST_MODEL);
    Module mod = rt.native_module("m", t.Defs());
    int on_npu = RunTagged(rt, mod, "work", 40);
    EXPECT_GE(on_npu, 36) << "the npu finishes each task ~100x sooner";
  }
  {
    // Now the cpu is the fast one.
    TempFile profile("slownpu.toml", Profile(100, 0.5, 10));
    Runtime rt = RuntimeWithProfile(profile, PENG_POLICY_COST_MODEL);
    Module mod = rt.native_module("m", t.Defs());
    int on_npu = RunTagged(rt, mod, "work", 40);
    EXPECT_LE(on_npu, 4);
  }
}

TEST(CostModel, SpreadsWorkWhenOneDeviceIsBacklogged) {
  // Equal devices: the backlog term must split the work.
  Tagged t;
  TempFile profile("equal.toml", Profile(1, 1, 10));
  Runtime rt = RuntimeWithProfile(profile, PENG_POLICY_COST_MODEL);
  Module mod = rt.native_module("m", t.Defs());
  int on_npu = RunTagged(rt, mod, "work", 40);
  EXPECT_GE(on_npu, 12);
  EXPECT_LE(on_npu, 28);
}

TEST(CostModel, CountsTheCostOfMovingInputs) {
  // The npu computes 4x faster but its link is slow: moving a 4 MB input
  // over 0.05 GB/s takes 80 ms, far more than computing on the cpu (1 ms).
  Tagged t;
  TempFile profile("slowlink.toml", Profile(1, 4, 0.05));
  Runtime rt = RuntimeWithProfile(profile, PENG_POLICY_COST_MODEL);
  Module mod = rt.native_module("m", t.Defs());
  const int64_t n = 1 << 20;
  Buffer input = rt.buffer(n * 4);
  EXPECT_LE(RunTagged(rt, mod, "reader", 8, &input, n), 1);
  // Without the input, the npu wins.
  EXPECT_GE(RunTagged(rt, mod, "work", 8), 6);
}

// The predicted_us of every task span on `device` in the runtime's trace.
std::vector<double> TracedPredictions(const Runtime& rt, const std::string& device) {
  TempFile trace("predictions.json");
  rt.write_trace(trace.path());
  std::ifstream in(trace.path());
  auto doc = nlohmann::json::parse(in);
  int64_t tid = -1;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == device) tid = e["tid"];
  }
  std::vector<double> predictions;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "X" && e["cat"] == "task" && e["tid"] == tid) {
      predictions.push_back(e["args"]["predicted_us"]);
    }
  }
  return predictions;
}

// The median of a saved history entry's samples: what the model predicts.
double SavedMedian(const nlohmann::json& entry) {
  std::vector<double> s = entry["samples_us"];
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

TEST(CostModel, HistoryIsPersistedAndReloaded) {
  Tagged t;
  TempFile profile("persist.toml", Profile(0, 100, 10));
  TempFile models("models.json");
  peng_runtime_options_t o = Runtime::default_options();
  o.platform_path = profile.path().c_str();
  o.perf_model_path = models.path().c_str();
  o.policy = PENG_POLICY_COST_MODEL;
  o.enable_trace = 1;
  {
    Runtime rt(o);
    Module mod = rt.native_module("m", t.Defs());
    RunTagged(rt, mod, "work", 30);
    // cpu0 has no timing model: with no history its first task had no
    // prediction (-1), which is what makes the check below mean something.
    std::vector<double> cpu = TracedPredictions(rt, "cpu0");
    ASSERT_FALSE(cpu.empty());
    EXPECT_LT(*std::min_element(cpu.begin(), cpu.end()), 0);
  }  // release saves the models
  std::ifstream in(models.path());
  ASSERT_TRUE(in.good());
  auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["format"], "peng-perf-models");
  nlohmann::json cpu_history, npu_history;
  for (const auto& h : doc["history"]) {
    if (h["kernel"] == "work" && h["device"] == "cpu0") cpu_history = h;
    if (h["kernel"] == "work" && h["device"] == "npu0") npu_history = h;
  }
  ASSERT_FALSE(cpu_history.is_null()) << doc.dump();
  ASSERT_GE(cpu_history["samples_us"].size(), 3u) << "the cpu was calibrated";
  // A new runtime starts calibrated: its first task on each device is
  // predicted from the saved history (the npu, with a timing model, from
  // 5 µs launch + 1 MFLOP at 100 GFLOP/s while it has under 3 samples).
  {
    Runtime rt(o);
    Module mod = rt.native_module("m", t.Defs());
    Graph g = rt.graph();
    Buffer on_cpu = rt.buffer(4), on_npu = rt.buffer(4);
    g.add(mod.kernel("work"), {on_cpu.tensor(PENG_DTYPE_I32, {1})}, {}, {0, rt.device("cpu0")});
    g.add(mod.kernel("work"), {on_npu.tensor(PENG_DTYPE_I32, {1})}, {}, {0, rt.device("npu0")});
    g.submit().wait();
    std::vector<double> cpu = TracedPredictions(rt, "cpu0");
    std::vector<double> npu = TracedPredictions(rt, "npu0");
    ASSERT_EQ(cpu.size(), 1u);
    ASSERT_EQ(npu.size(), 1u);
    double cpu_want = SavedMedian(cpu_history);
    EXPECT_NEAR(cpu[0], cpu_want, 1e-3 * cpu_want + 1e-6);
    bool npu_calibrated = !npu_history.is_null() && npu_history["samples_us"].size() >= 3;
    double npu_want = npu_calibrated ? SavedMedian(npu_history) : 15.0;
    EXPECT_NEAR(npu[0], npu_want, 1e-3 * npu_want + 1e-6) << "npu calibrated: " << npu_calibrated;
  }
}

}  // namespace
}  // namespace peng::test
