// module.peng: the format round-trips; a corrupt, truncated or inconsistent
// file is rejected with a message by the parser and by peng_module_load; a
// valid module's ELF code runs through the runtime on the CPU device.
#include "artifact/module_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "peng/peng.h"

namespace {

using peng::artifact::ModuleFile;

std::vector<uint8_t> KernelImage() {
  std::ifstream in(PENG_TEST_KERNEL_IMAGE, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const char* HostArch() {
#if defined(__x86_64__)
  return "x86_64";
#else
  return "riscv64";
#endif
}

// One kernel, scale_rows over a [n] f32 buffer, split in 4-element workgroups.
ModuleFile ScaleModule(int64_t n, std::vector<uint8_t> code) {
  ModuleFile m;
  m.producer = "module_file_test";
  peng::artifact::KernelInfo k;
  k.name = "scale";
  k.args.push_back({PENG_DTYPE_F32, PENG_ACCESS_READWRITE, {n}});
  k.grid[0] = {0, 0, 4};
  k.flops = double(n);
  k.bytes = double(n) * 8;
  peng::artifact::Variant v;
  v.target = "host";
  v.format = "elf";
  v.symbol = "scale_rows";
  v.arch = HostArch();
  v.code = std::move(code);
  k.variants.push_back(v);
  // The same code under the rvv target, so a riscv64 CPU device finds it too;
  // the file stores the image once.
  v.target = "rvv";
  k.variants.push_back(v);
  m.kernels.push_back(std::move(k));
  return m;
}

TEST(ModuleFile, RoundTrips) {
  ModuleFile m = ScaleModule(10, {1, 2, 3, 4, 5});
  std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
  std::string error;
  auto back = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->producer, "module_file_test");
  ASSERT_EQ(back->kernels.size(), 1u);
  const auto& k = back->kernels[0];
  EXPECT_EQ(k.name, "scale");
  ASSERT_EQ(k.args.size(), 1u);
  EXPECT_EQ(k.args[0].dtype, PENG_DTYPE_F32);
  EXPECT_EQ(k.args[0].access, PENG_ACCESS_READWRITE);
  EXPECT_EQ(k.args[0].shape, std::vector<int64_t>{10});
  EXPECT_EQ(k.grid[0].tile, 4u);
  EXPECT_EQ(k.flops, 10);
  ASSERT_EQ(k.variants.size(), 2u);
  EXPECT_EQ(k.variants[1].target, "rvv");
  EXPECT_EQ(k.variants[0].code, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(k.variants[1].code, k.variants[0].code);
  EXPECT_EQ(k.workspace, 0u);
  EXPECT_TRUE(k.in_place.empty());
  // Two variants, one stored blob.
  EXPECT_LT(bytes.size(), 1024u);
}

TEST(ModuleFile, WorkspaceAndInPlacePairsRoundTrip) {
  ModuleFile m = ScaleModule(10, {1, 2, 3});
  m.kernels[0].args.push_back({PENG_DTYPE_F32, PENG_ACCESS_WRITE, {10}});
  m.kernels[0].workspace = 4 << 20;
  m.kernels[0].in_place = {{1, 0}};
  std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
  std::string error;
  auto back = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->kernels[0].workspace, uint64_t(4) << 20);
  ASSERT_EQ(back->kernels[0].in_place.size(), 1u);
  EXPECT_EQ(back->kernels[0].in_place[0], (std::pair<uint32_t, uint32_t>{1, 0}));
}

TEST(ModuleFile, EveryTruncationIsRejected) {
  std::vector<uint8_t> bytes = peng::artifact::Serialize(ScaleModule(10, std::vector<uint8_t>(300, 7)));
  for (size_t size = 0; size < bytes.size(); ++size) {
    std::string error;
    EXPECT_FALSE(peng::artifact::Parse(bytes.data(), size, &error)) << size;
    EXPECT_FALSE(error.empty());
  }
}

TEST(ModuleFile, EveryByteFlipIsRejected) {
  std::vector<uint8_t> bytes = peng::artifact::Serialize(ScaleModule(10, std::vector<uint8_t>(100, 7)));
  // Padding between sections is not covered by a checksum; everything with
  // meaning is.
  std::vector<bool> meaningful(bytes.size(), false);
  {
    auto get64 = [&](size_t at) {
      uint64_t v;
      std::memcpy(&v, &bytes[at], 8);
      return v;
    };
    for (size_t i = 0; i < 64; ++i) meaningful[i] = true;
    for (uint64_t i = 0; i < get64(32); ++i) meaningful[get64(24) + i] = true;
    uint32_t blobs;
    std::memcpy(&blobs, &bytes[44], 4);
    for (uint32_t b = 0; b < blobs; ++b) {
      size_t e = get64(48) + b * 24;
      for (size_t i = 0; i < 20; ++i) meaningful[e + i] = true;
      for (uint64_t i = 0; i < get64(e + 8); ++i) meaningful[get64(e) + i] = true;
    }
    for (size_t i = 60; i < 64; ++i) meaningful[i] = false;  // reserved
  }
  for (size_t at = 0; at < bytes.size(); ++at) {
    if (!meaningful[at]) continue;
    std::vector<uint8_t> b = bytes;
    b[at] ^= 0x10;
    std::string error;
    EXPECT_FALSE(peng::artifact::Parse(b.data(), b.size(), &error)) << "flip at " << at;
  }
}

TEST(ModuleFile, InconsistentMetadataIsRejected) {
  struct Case {
    const char* json;
    const char* message;
  };
  const std::string ok_variant =
      R"({"target":"host","format":"elf","symbol":"k","blob":0})";
  auto kernel = [&](const std::string& fields) {
    return R"({"kernels":[{"name":"k",)" + fields + "}]}";
  };
  const std::string args = R"("args":[{"dtype":"f32","access":"read","shape":[4]}],)";
  const std::string rest = R"("constants":0,"grid":[],"flops":1,"bytes":16,"variants":[)" +
                           ok_variant + "]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json {", "not JSON"},
      {R"({"kernels":7})", "'kernels' has the wrong type"},
      {kernel(R"("args":[{"dtype":"q7","access":"read","shape":[4]}],)" + rest), "unknown dtype"},
      {kernel(R"("args":[{"dtype":"f32","access":"sideways","shape":[4]}],)" + rest),
       "unknown access"},
      {kernel(R"("args":[{"dtype":"f32","access":"read","shape":[-5]}],)" + rest), "bad dimension"},
      {kernel(args + R"("constants":0,"grid":[{"arg":3,"dim":0,"tile":1}],"flops":1,"bytes":1,"variants":[)" +
              ok_variant + "]"),
       "'arg' is out of range"},
      {kernel(args + R"("constants":0,"grid":[{"arg":0,"dim":2,"tile":1}],"flops":1,"bytes":1,"variants":[)" +
              ok_variant + "]"),
       "no such dimension"},
      {kernel(args + R"("constants":0,"grid":[],"flops":1,"bytes":1,"variants":[{"target":"host","format":"elf","symbol":"k","blob":5}])"),
       "'blob' is out of range"},
      {kernel(args + R"("constants":0,"grid":[],"flops":-1,"bytes":1,"variants":[)" + ok_variant + "]"),
       "not a count"},
      {kernel(args + R"("constants":0,"grid":[],"flops":1,"bytes":1,"variants":[])"), "no variants"},
      {R"({"kernels":[{"name":"k",)" + args + rest + R"(},{"name":"k",)" + args + rest + "}]}",
       "two kernels named"},
      {kernel(args + R"("workspace":-1,)" + rest), "'workspace' is out of range"},
      {kernel(args + R"("workspace":4294967296,)" + rest), "'workspace' is out of range"},
      {kernel(args + R"("in_place":[[0,0]],)" + rest), "'in_place' holds a pair"},
      {kernel(args + R"("in_place":[[0,3]],)" + rest), "'in_place' holds a pair"},
      {kernel(args + R"("in_place":[7],)" + rest), "'in_place' holds a pair"},
  };
  for (const auto& [json, message] : cases) {
    std::vector<uint8_t> bytes = peng::artifact::SerializeRaw(json, {{1, 2, 3}});
    std::string error;
    EXPECT_FALSE(peng::artifact::Parse(bytes.data(), bytes.size(), &error)) << json;
    EXPECT_NE(error.find(message), std::string::npos) << "error '" << error << "' for " << json;
  }
  // The base case itself is fine, so the failures above are the edits'.
  std::string error;
  std::vector<uint8_t> good = peng::artifact::SerializeRaw(kernel(args + rest), {{1, 2, 3}});
  EXPECT_TRUE(peng::artifact::Parse(good.data(), good.size(), &error)) << error;
}

class ModuleLoad : public testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(peng_runtime_create(nullptr, &rt_), PENG_OK); }
  void TearDown() override { peng_runtime_release(rt_); }

  // Loads `m` (which must load) and returns whether cpu0 can run its kernel.
  bool LoadsRunnableOnCpu(const ModuleFile& m, peng_module_t* module, peng_kernel_t* kernel) {
    std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
    EXPECT_EQ(peng_module_load(rt_, "m", bytes.data(), bytes.size(), module), PENG_OK);
    EXPECT_EQ(peng_module_find_kernel(*module, "scale", kernel), PENG_OK);
    peng_device_t cpu;
    EXPECT_EQ(peng_runtime_find_device(rt_, "cpu0", &cpu), PENG_OK);
    int supported = 1;
    EXPECT_EQ(peng_kernel_supported_on(*kernel, cpu, &supported), PENG_OK);
    return supported != 0;
  }

  peng_runtime_t rt_ = nullptr;
};

TEST_F(ModuleLoad, RunsElfCodeOnTheCpuDevice) {
  std::vector<uint8_t> bytes = peng::artifact::Serialize(ScaleModule(10, KernelImage()));
  peng_module_t module;
  ASSERT_EQ(peng_module_load(rt_, "scale", bytes.data(), bytes.size(), &module), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t kernel;
  ASSERT_EQ(peng_module_find_kernel(module, "scale", &kernel), PENG_OK);
  uint32_t argc = 0;
  ASSERT_EQ(peng_kernel_arg_count(kernel, &argc), PENG_OK);
  ASSERT_EQ(argc, 1u);
  peng_arg_desc_t desc;
  ASSERT_EQ(peng_kernel_arg(kernel, 0, &desc), PENG_OK);
  EXPECT_EQ(desc.shape[0], 10);
  EXPECT_EQ(peng_kernel_arg(kernel, 1, &desc), PENG_ERROR_INVALID_ARGUMENT);

  float x[10];
  for (int i = 0; i < 10; ++i) x[i] = float(i);
  peng_tensor_arg_t arg{};
  arg.dtype = PENG_DTYPE_F32;
  arg.rank = 1;
  arg.shape[0] = 10;
  ASSERT_EQ(peng_buffer_create(rt_, sizeof x, &arg.buffer), PENG_OK);
  ASSERT_EQ(peng_buffer_write(arg.buffer, 0, sizeof x, x), PENG_OK);
  peng_graph_t graph;
  ASSERT_EQ(peng_graph_create(rt_, &graph), PENG_OK);
  ASSERT_EQ(peng_graph_add_task(graph, kernel, &arg, 1, nullptr, 0, nullptr, nullptr), PENG_OK)
      << peng_last_error_message();
  peng_event_t done;
  ASSERT_EQ(peng_graph_submit(graph, nullptr, 0, &done), PENG_OK);
  ASSERT_EQ(peng_event_wait(done, UINT64_MAX), PENG_OK) << peng_last_error_message();
  ASSERT_EQ(peng_buffer_read(arg.buffer, 0, sizeof x, x), PENG_OK);
  // 3 workgroups of 4 elements (grid tile 4); workgroup w adds w.
  const float scale[4] = {1, 2, 3, 4};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(x[i], float(i) * scale[i % 4] + float(i / 4)) << i;
  peng_event_release(done);
  peng_graph_release(graph);
  peng_buffer_release(arg.buffer);
  peng_module_release(module);
}

TEST_F(ModuleLoad, CorruptFilesAreErrors) {
  std::vector<uint8_t> bytes = peng::artifact::Serialize(ScaleModule(10, KernelImage()));
  peng_module_t module = nullptr;
  EXPECT_EQ(peng_module_load(rt_, "cut", bytes.data(), bytes.size() / 2, &module),
            PENG_ERROR_CORRUPT_DATA);
  EXPECT_NE(std::strstr(peng_last_error_message(), "truncated"), nullptr)
      << peng_last_error_message();
  EXPECT_EQ(module, nullptr);
  std::vector<uint8_t> flipped = bytes;
  flipped[100] ^= 1;
  EXPECT_EQ(peng_module_load(rt_, "flip", flipped.data(), flipped.size(), &module),
            PENG_ERROR_CORRUPT_DATA);
  EXPECT_EQ(peng_module_load(rt_, "null", nullptr, 10, &module), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(peng_module_load_file(rt_, "/nonexistent/x.peng", &module), PENG_ERROR_IO);
}

TEST_F(ModuleLoad, CodeForAnotherMachineIsNotRunnable) {
  ModuleFile m = ScaleModule(10, KernelImage());
  for (auto& v : m.kernels[0].variants) v.arch = "sparc64";
  peng_module_t module = nullptr;
  peng_kernel_t kernel = nullptr;
  EXPECT_FALSE(LoadsRunnableOnCpu(m, &module, &kernel));
  ASSERT_FALSE(HasFailure());
  peng_tensor_arg_t arg{};
  arg.dtype = PENG_DTYPE_F32;
  arg.rank = 1;
  arg.shape[0] = 10;
  ASSERT_EQ(peng_buffer_create(rt_, 40, &arg.buffer), PENG_OK);
  peng_graph_t graph;
  ASSERT_EQ(peng_graph_create(rt_, &graph), PENG_OK);
  EXPECT_EQ(peng_graph_add_task(graph, kernel, &arg, 1, nullptr, 0, nullptr, nullptr),
            PENG_ERROR_UNSUPPORTED);
  peng_graph_release(graph);
  peng_buffer_release(arg.buffer);
  peng_module_release(module);
}

TEST_F(ModuleLoad, CorruptCodeLeavesTheKernelWithoutADevice) {
  peng_module_t module = nullptr;
  peng_kernel_t kernel = nullptr;
  EXPECT_FALSE(LoadsRunnableOnCpu(ScaleModule(10, std::vector<uint8_t>(512, 0x5a)), &module,
                                  &kernel));
  peng_module_release(module);
}

}  // namespace
