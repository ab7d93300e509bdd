// Buffers move between memory spaces when tasks on other devices need them,
// and the valid copies are tracked.
#include "test_util.h"

namespace peng::test {
namespace {

// Two devices with their own memory besides the host CPU; no timing model.
const char* kProfile = R"(
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
[[device]]
name = "dpu0"
backend = "cpu"
kind = "dpu"
memory = "discrete"
threads = 1
)";

// x[i] = x[i] * 2 + c
int TwiceKernel(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  auto* x = static_cast<int32_t*>(d->bindings[0]);
  for (int64_t i = 0; i < d->shapes[0][0]; ++i) x[i] = x[i] * 2 + int32_t(d->constants[0]);
  return 0;
}
// y = x + 1
int Copy1(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  const auto* x = static_cast<const int32_t*>(d->bindings[0]);
  auto* y = static_cast<int32_t*>(d->bindings[1]);
  for (int64_t i = 0; i < d->shapes[0][0]; ++i) y[i] = x[i] + 1;
  return 0;
}

class BufferTest : public ::testing::Test {
 protected:
  BufferTest() : profile_("buffers.toml", kProfile) {}
  void SetUp() override {
    rt_ = RuntimeWithProfile(profile_, PENG_POLICY_EXPLICIT);
    rw_ = {Arg(PENG_DTYPE_I32, PENG_ACCESS_READWRITE, {-1})};
    copy_ = {Arg(PENG_DTYPE_I32, PENG_ACCESS_READ, {-1}), Arg(PENG_DTYPE_I32, PENG_ACCESS_WRITE, {-1})};
    mod_ = rt_.native_module("m", {Def("twice", TwiceKernel, rw_, 1), Def("copy1", Copy1, copy_)});
  }
  void Twice(Graph& g, Buffer& b, int64_t n, const char* device, int64_t c) {
    g.add(mod_.kernel("twice"), {b.tensor(PENG_DTYPE_I32, {n})}, {c}, {0, rt_.device(device)});
  }
  uint64_t Space(const char* device) { return uint64_t(1) << rt_.device(device).info().memory_space; }

  TempFile profile_;
  Runtime rt_{nullptr};
  std::vector<peng_arg_desc_t> rw_, copy_;
  Module mod_;
};

TEST_F(BufferTest, NewBufferIsZeroAndValidOnHost) {
  Buffer b = rt_.buffer(64);
  EXPECT_EQ(b.valid_spaces(), 1u);
  auto v = b.read_all<int32_t>();
  for (int32_t x : v) EXPECT_EQ(x, 0);
}

TEST_F(BufferTest, WriteOnDeviceInvalidatesOtherCopies) {
  const int64_t n = 1031;  // odd size
  std::vector<int32_t> host(n);
  for (int64_t i = 0; i < n; ++i) host[i] = int32_t(i);
  Buffer b = rt_.buffer(n * 4);
  b.write(host.data(), n * 4);
  Graph g = rt_.graph();
  Twice(g, b, n, "npu0", 1);
  g.submit().wait();
  EXPECT_EQ(b.valid_spaces(), Space("npu0")) << "only the npu copy is valid after its write";
  auto out = b.read_all<int32_t>();  // moves it back
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], 2 * i + 1) << i;
  EXPECT_EQ(b.valid_spaces(), Space("npu0") | 1u);
}

TEST_F(BufferTest, DataFollowsTasksAcrossDevices) {
  const int64_t n = 4096;
  Buffer b = rt_.buffer(n * 4), c = rt_.buffer(n * 4);
  Graph g = rt_.graph();
  Twice(g, b, n, "npu0", 1);  // 1
  Twice(g, b, n, "dpu0", 2);  // 4: npu -> host -> dpu
  Twice(g, b, n, "cpu0", 3);  // 11: dpu -> host
  Twice(g, b, n, "npu0", 4);  // 26: host -> npu (stale npu copy must not be reused)
  g.add(mod_.kernel("copy1"), {b.tensor(PENG_DTYPE_I32, {n}), c.tensor(PENG_DTYPE_I32, {n})}, {},
        {0, rt_.device("dpu0")});
  g.submit().wait();
  auto out = c.read_all<int32_t>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], 27) << i;
  // b was last written on npu0 and then read on dpu0: both hold valid copies.
  EXPECT_EQ(b.valid_spaces() & (Space("npu0") | Space("dpu0")), Space("npu0") | Space("dpu0"));
}

TEST_F(BufferTest, ConcurrentReadersOnSeveralDevices) {
  const int64_t n = 2000;
  std::vector<int32_t> host(n, 5);
  Buffer src = rt_.buffer(n * 4);
  src.write(host.data(), n * 4);
  std::vector<Buffer> outs;
  Graph g = rt_.graph();
  const char* devices[] = {"cpu0", "npu0", "dpu0"};
  for (int k = 0; k < 9; ++k) {
    outs.push_back(rt_.buffer(n * 4));
    g.add(mod_.kernel("copy1"),
          {src.tensor(PENG_DTYPE_I32, {n}), outs.back().tensor(PENG_DTYPE_I32, {n})}, {},
          {0, rt_.device(devices[k % 3])});
  }
  g.submit().wait();
  for (auto& o : outs) {
    auto v = o.read_all<int32_t>();
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(v[i], 6);
  }
  EXPECT_EQ(src.valid_spaces(), 1u | Space("npu0") | Space("dpu0"));
}

TEST_F(BufferTest, PartialHostWriteKeepsTheRest) {
  const int64_t n = 64;
  Buffer b = rt_.buffer(n * 4);
  Graph g = rt_.graph();
  Twice(g, b, n, "npu0", 3);  // all 3, valid only on npu0
  g.submit().wait();
  int32_t patch[2] = {100, 200};
  b.write(patch, sizeof(patch), 8);  // pulls the npu copy home first
  auto v = b.read_all<int32_t>();
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(v[i], i == 2 ? 100 : i == 3 ? 200 : 3) << i;
  EXPECT_EQ(b.valid_spaces(), 1u);
}

TEST_F(BufferTest, DeviceMemoryLimitGivesACleanError) {
  TempFile small("small.toml",
                 "[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=1\n"
                 "[[device]]\nname=\"npu0\"\nbackend=\"cpu\"\nmemory=\"discrete\"\nmemory_mb=1\n");
  Runtime rt = RuntimeWithProfile(small, PENG_POLICY_EXPLICIT);
  Module mod = rt.native_module("m", {Def("twice", TwiceKernel, rw_, 1)});
  const int64_t n = 1 << 19;  // 2 MiB > 1 MiB of device memory
  Buffer b = rt.buffer(n * 4);
  Graph g = rt.graph();
  g.add(mod.kernel("twice"), {b.tensor(PENG_DTYPE_I32, {n})}, {1}, {0, rt.device("npu0")});
  try {
    g.submit().wait();
    FAIL() << "expected an allocation failure";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PENG_ERROR_OUT_OF_MEMORY) << e.what();
  }
  // The host copy is untouched and still valid.
  EXPECT_EQ(b.valid_spaces(), 1u);
  EXPECT_EQ(b.read_all<int32_t>()[0], 0);
}

}  // namespace
}  // namespace peng::test
