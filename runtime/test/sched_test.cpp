// Scheduling policies: capability-checked placement, the cost-model policy
// following the timing and transfer models, and persisted history models.
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

TEST(CostModel, HistoryIsPersistedAndReloaded) {
  Tagged t;
  TempFile profile("persist.toml", Profile(0, 100, 10));
  TempFile models("models.json");
  peng_runtime_options_t o = Runtime::default_options();
  o.platform_path = profile.path().c_str();
  o.perf_model_path = models.path().c_str();
  o.policy = PENG_POLICY_COST_MODEL;
  {
    Runtime rt(o);
    Module mod = rt.native_module("m", t.Defs());
    RunTagged(rt, mod, "work", 30);
  }  // release saves the models
  std::ifstream in(models.path());
  ASSERT_TRUE(in.good());
  auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["format"], "peng-perf-models");
  bool cpu_seen = false;
  for (const auto& h : doc["history"]) {
    if (h["kernel"] == "work" && h["device"] == "cpu0") {
      cpu_seen = true;
      EXPECT_GE(h["samples_us"].size(), 3u) << "the cpu was calibrated";
    }
  }
  EXPECT_TRUE(cpu_seen) << doc.dump();
  // A new runtime starts calibrated: both devices already have history.
  {
    Runtime rt(o);
    Module mod = rt.native_module("m", t.Defs());
    RunTagged(rt, mod, "work", 4);
  }
}

}  // namespace
}  // namespace peng::test
