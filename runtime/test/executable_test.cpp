// Executables: a module's code for one target is one executable, loaded once
// per device however many kernels it holds; dispatches reach the right entry.
#include <dlfcn.h>

#include "test_util.h"

namespace peng::test {
namespace {

template <int kTag>
int Tag(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int64_t*>(d->bindings[0])[0] = kTag * 1000 + d->constants[0];
  return 0;
}

uint32_t FlakyLoads() {
  // The runtime dlopened the plugin; this only finds it.
  void* handle = dlopen(PENG_TEST_FLAKY_PLUGIN, RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return UINT32_MAX;
  auto fn = reinterpret_cast<uint32_t (*)()>(dlsym(handle, "peng_test_flaky_loads"));
  uint32_t n = fn ? fn() : UINT32_MAX;
  dlclose(handle);
  return n;
}

TEST(Executable, OneLoadPerModuleTargetAndDevice) {
  // flaky0 with no failure budget: a plain second device in its own memory.
  TempFile profile("exe.toml",
                   "[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=1\n"
                   "[[device]]\nname=\"flaky0\"\nbackend=\"flaky\"\nmemory=\"discrete\"\n");
  peng_runtime_options_t o = Runtime::default_options();
  o.platform_path = profile.path().c_str();
  o.plugin_path = PENG_TEST_FLAKY_PLUGIN;
  o.policy = PENG_POLICY_EXPLICIT;
  Runtime rt(o);
  uint32_t before = FlakyLoads();
  ASSERT_NE(before, UINT32_MAX);
  std::vector<peng_arg_desc_t> args = {Arg(PENG_DTYPE_I64, PENG_ACCESS_WRITE, {1})};
  // Four kernels for "host" (one executable) and one for a target nobody has.
  Module mod = rt.native_module(
      "m", {Def("a", Tag<1>, args, 1), Def("b", Tag<2>, args, 1), Def("c", Tag<3>, args, 1),
            Def("d", Tag<4>, args, 1), Def("a", Tag<9>, args, 1, "elsewhere")});
  EXPECT_EQ(FlakyLoads() - before, 1u) << "four kernels, one executable, one load";

  // Each kernel runs its own entry on each device.
  std::vector<Buffer> outs;
  Graph g = rt.graph();
  const char* names[] = {"a", "b", "c", "d"};
  for (const char* device : {"cpu0", "flaky0"}) {
    for (int k = 0; k < 4; ++k) {
      outs.push_back(rt.buffer(8));
      TaskOptions opts;
      opts.device = rt.device(device);
      g.add(mod.kernel(names[k]), {outs.back().tensor(PENG_DTYPE_I64, {1})}, {int64_t(outs.size())},
            opts);
    }
  }
  g.submit().wait();
  for (size_t i = 0; i < outs.size(); ++i) {
    int64_t v = 0;
    outs[i].read(&v, 8);
    EXPECT_EQ(v, int64_t(i % 4 + 1) * 1000 + int64_t(i + 1)) << "task " << i;
  }

  // A second module is a second executable.
  Module other = rt.native_module("n", {Def("a", Tag<1>, args, 1)});
  EXPECT_EQ(FlakyLoads() - before, 2u);
}

}  // namespace
}  // namespace peng::test
