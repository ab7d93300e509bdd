// The Chrome/Perfetto trace: a track per device, task spans with predicted
// and actual times, transfer spans.
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace peng::test {
namespace {

int AddOne(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  auto* x = static_cast<float*>(d->bindings[0]);
  for (int64_t i = 0; i < d->shapes[0][0]; ++i) x[i] += 1;
  return 0;
}

TEST(Trace, TracksTasksTransfersAndPredictions) {
  TempFile profile("trace.toml", R"(
[[device]]
name = "cpu0"
backend = "cpu"
threads = 1
[[device]]
name = "npu0"
backend = "cpu"
kind = "npu"
memory = "discrete"
threads = 1
  [device.timing]
  gflops = 10.0
  launch_us = 20.0
  [device.link]
  gbps = 5.0
)");
  Runtime rt = RuntimeWithProfile(profile, PENG_POLICY_EXPLICIT, /*trace=*/true);
  std::vector<peng_arg_desc_t> args = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READWRITE, {-1})};
  Module mod = rt.native_module("m", {Def("add_one", AddOne, args)});
  const int64_t n = 1 << 16;
  Buffer b = rt.buffer(n * 4);
  Graph g = rt.graph();
  for (int i = 0; i < 6; ++i) {
    g.add(mod.kernel("add_one"), {b.tensor(PENG_DTYPE_F32, {n})}, {},
          {0, rt.device(i % 2 ? "npu0" : "cpu0")});
  }
  g.submit().wait();
  EXPECT_EQ(b.read_all<float>()[n - 1], 6.0f);

  TempFile out("trace.json");
  rt.write_trace(out.path());
  std::ifstream in(out.path());
  auto doc = nlohmann::json::parse(in);
  std::set<std::string> tracks;
  int tasks = 0, transfers = 0;
  std::set<int64_t> task_ids;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") tracks.insert(e["args"]["name"]);
    if (e["ph"] != "X") continue;
    EXPECT_TRUE(e["args"].contains("predicted_us"));
    EXPECT_TRUE(e["args"].contains("actual_us"));
    EXPECT_GE(e["dur"].get<double>(), 0);
    if (e["cat"] == "task") {
      ++tasks;
      task_ids.insert(e["args"]["task"].get<int64_t>());
      EXPECT_EQ(e["name"], "add_one");
      // Device tracks are 0 (cpu0) and 2 (npu0); task i ran where it was placed.
      int64_t task = e["args"]["task"];
      EXPECT_EQ(e["tid"].get<int>(), task % 2 ? 2 : 0);
      if (task % 2) {
        // The npu's timing model predicts 20 µs + 2 * 65536 flop... at least the launch.
        EXPECT_GE(e["args"]["predicted_us"].get<double>(), 20.0);
      }
    } else if (e["cat"] == "transfer") {
      ++transfers;
      EXPECT_EQ(e["args"]["bytes"].get<uint64_t>(), uint64_t(n * 4));
    }
  }
  EXPECT_TRUE(tracks.count("cpu0") && tracks.count("npu0") && tracks.count("npu0 transfers"));
  EXPECT_EQ(tasks, 6);
  EXPECT_EQ(task_ids.size(), 6u);
  // cpu -> npu and back, three times each way, plus the final read.
  EXPECT_GE(transfers, 6);
}

TEST(Trace, OffByDefault) {
  Runtime rt;
  EXPECT_THROW(rt.write_trace(testing::TempDir() + "never.json"), Error);
}

}  // namespace
}  // namespace peng::test
