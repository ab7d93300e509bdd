// A device that is lost: the runtime marks it, moves its queued and failed
// tasks to devices that can still run them, fails what cannot move, and
// keeps running.
#include "test_util.h"

namespace peng::test {
namespace {

int Tag(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int64_t*>(d->bindings[0])[0] = d->constants[0];
  return 0;
}

std::string Profile(int budget) {
  return "[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=1\n"
         "[[device]]\nname=\"flaky0\"\nbackend=\"flaky\"\nmemory=\"discrete\"\n"
         "vendor.quirk=true\nfail_after=" +
         std::to_string(budget) + "\n";
}

Runtime Make(const TempFile& profile, peng_policy_t policy) {
  peng_runtime_options_t o = Runtime::default_options();
  o.platform_path = profile.path().c_str();
  o.plugin_path = PENG_TEST_FLAKY_PLUGIN;
  o.policy = policy;
  return Runtime(o);
}

class LostDevice : public ::testing::TestWithParam<peng_policy_t> {};

TEST_P(LostDevice, UnplacedTasksMoveToSurvivors) {
  TempFile profile("flaky.toml", Profile(/*budget=*/5));
  Runtime rt = Make(profile, GetParam());
  std::vector<peng_arg_desc_t> args = {Arg(PENG_DTYPE_I64, PENG_ACCESS_WRITE, {1})};
  Module mod = rt.native_module("m", {Def("tag", Tag, args, 1)});
  ASSERT_TRUE(mod.kernel("tag").supported_on(rt.device("flaky0")));
  std::vector<Buffer> outs;
  Graph g = rt.graph();
  for (int i = 0; i < 200; ++i) {
    outs.push_back(rt.buffer(8));
    g.add(mod.kernel("tag"), {outs.back().tensor(PENG_DTYPE_I64, {1})}, {i + 1});
  }
  g.submit().wait();  // no error: every task found a live device
  const uint64_t flaky_space = uint64_t(1) << rt.device("flaky0").info().memory_space;
  int lost = 0;
  for (int i = 0; i < 200; ++i) {
    int64_t v = 0;
    peng_status_t st = peng_buffer_read(outs[i].get(), 0, 8, &v);
    if (st == PENG_OK) {
      EXPECT_EQ(v, i + 1) << i;
    } else {
      // Written on flaky0 before it died: that copy went with it.
      EXPECT_EQ(st, PENG_ERROR_DEVICE_LOST);
      EXPECT_EQ(outs[i].valid_spaces(), flaky_space);
      ++lost;
    }
  }
  EXPECT_LE(lost, 5) << "at most the budget of tasks finished on flaky0";
  if (GetParam() != PENG_POLICY_EXPLICIT) {
    // Whether flaky0 got work depends on the policy; once it did, it is lost.
    // A second run uses only the survivor.
    g.submit().wait();
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, LostDevice,
                         ::testing::Values(PENG_POLICY_EAGER, PENG_POLICY_WORK_STEALING,
                                           PENG_POLICY_COST_MODEL, PENG_POLICY_EXPLICIT));

TEST(LostDeviceTest, PlacedTasksFailAndTheRuntimeGoesOn) {
  TempFile profile("flaky2.toml", Profile(/*budget=*/2));
  Runtime rt = Make(profile, PENG_POLICY_EXPLICIT);
  std::vector<peng_arg_desc_t> args = {Arg(PENG_DTYPE_I64, PENG_ACCESS_WRITE, {1})};
  Module mod = rt.native_module("m", {Def("tag", Tag, args, 1)});
  Buffer on_flaky = rt.buffer(8);
  {
    Graph g = rt.graph();
    g.add(mod.kernel("tag"), {on_flaky.tensor(PENG_DTYPE_I64, {1})}, {7}, {0, rt.device("flaky0")});
    g.submit().wait();
    EXPECT_EQ(on_flaky.valid_spaces(), uint64_t(1) << rt.device("flaky0").info().memory_space);
  }
  int failures = 0;
  for (int i = 0; i < 4; ++i) {
    Graph g = rt.graph();
    Buffer b = rt.buffer(8);
    g.add(mod.kernel("tag"), {b.tensor(PENG_DTYPE_I64, {1})}, {1}, {0, rt.device("flaky0")});
    try {
      g.submit().wait();
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), PENG_ERROR_DEVICE_LOST) << e.what();
      ++failures;
    }
  }
  EXPECT_GE(failures, 3);
  EXPECT_TRUE(rt.device("flaky0").info().lost);
  // Data that lived only on the lost device is gone: a clean error, no crash.
  int64_t v;
  EXPECT_EQ(peng_buffer_read(on_flaky.get(), 0, 8, &v), PENG_ERROR_DEVICE_LOST);
  // The CPU keeps working.
  Graph g = rt.graph();
  Buffer b = rt.buffer(8);
  g.add(mod.kernel("tag"), {b.tensor(PENG_DTYPE_I64, {1})}, {42}, {0, rt.device("cpu0")});
  g.submit().wait();
  EXPECT_EQ(b.read_all<int64_t>()[0], 42);
}

}  // namespace
}  // namespace peng::test
