// module.peng: the format round-trips; a corrupt, truncated or inconsistent
// file is rejected with a message by the parser and by peng_module_load; a
// valid module's ELF code runs through the runtime on the CPU device.
#include "artifact/module_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "peng/peng.h"
#include "peng/peng.hpp"

extern "C" uint64_t peng_cpu_images_loaded(void);  // backends/cpu/runtime

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

// A feature the CPU device of this machine always has.
const char* HostFeature() {
#if defined(__x86_64__)
  return "sse4.2";
#else
  return "v";
#endif
}

peng::artifact::Executable HostExecutable(std::vector<uint8_t> code, const char* symbol) {
  peng::artifact::Executable x;
  x.target = "host";
  x.format = "elf";
  x.arch = HostArch();
  x.code = std::move(code);
  peng::artifact::Entry e;
  e.kernel = 0;
  e.symbol = symbol;
  e.launch.grid[0] = {0, 0, 4};
  x.entries.push_back(e);
  return x;
}

// One kernel, scale_rows over a [n] f32 buffer, split in 4-element workgroups.
ModuleFile ScaleModule(int64_t n, std::vector<uint8_t> code) {
  ModuleFile m;
  m.producer = "module_file_test";
  peng::artifact::KernelInfo k;
  k.name = "scale";
  k.args.push_back({PENG_DTYPE_F32, PENG_ACCESS_READWRITE, {n}});
  k.flops = double(n);
  k.bytes = double(n) * 8;
  m.kernels.push_back(std::move(k));
  m.executables.push_back(HostExecutable(std::move(code), "scale_rows"));
  // The same code under the rvv target, so a riscv64 CPU device finds it too;
  // the file stores the image once.
  m.executables.push_back(m.executables[0]);
  m.executables[1].target = "rvv";
  return m;
}

TEST(ModuleFile, RoundTrips) {
  ModuleFile m = ScaleModule(10, {1, 2, 3, 4, 5});
  m.executables[0].cpu = "x86-64-v3";
  m.executables[0].features = {"avx", "avx2"};
  m.executables[1].min_vlen = 256;
  m.executables[1].max_vlen = 512;
  m.executables[1].entries[0].launch.workgroup_size[0] = 64;
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
  EXPECT_EQ(k.flops, 10);
  EXPECT_TRUE(k.in_place.empty());
  ASSERT_EQ(back->executables.size(), 2u);
  const auto& host = back->executables[0];
  const auto& rvv = back->executables[1];
  EXPECT_EQ(host.target, "host");
  EXPECT_EQ(host.cpu, "x86-64-v3");
  EXPECT_EQ(host.features, (std::vector<std::string>{"avx", "avx2"}));
  EXPECT_EQ(host.code, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  ASSERT_EQ(host.entries.size(), 1u);
  EXPECT_EQ(host.entries[0].kernel, 0u);
  EXPECT_EQ(host.entries[0].symbol, "scale_rows");
  EXPECT_EQ(host.entries[0].launch.grid[0].tile, 4u);
  EXPECT_EQ(host.entries[0].launch.workgroup_size[0], 1u);
  EXPECT_EQ(host.entries[0].launch.workspace, 0u);
  EXPECT_EQ(rvv.target, "rvv");
  EXPECT_EQ(rvv.min_vlen, 256u);
  EXPECT_EQ(rvv.max_vlen, 512u);
  EXPECT_EQ(rvv.entries[0].launch.workgroup_size[0], 64u);
  EXPECT_EQ(rvv.code, host.code);
  // [0, 0, 0]: the executable's own work-group size (an OpenCL kernel's
  // reqd_work_group_size) survives the trip.
  m.executables[1].entries[0].launch.workgroup_size[0] = 0;
  m.executables[1].entries[0].launch.workgroup_size[1] = 0;
  m.executables[1].entries[0].launch.workgroup_size[2] = 0;
  std::vector<uint8_t> own_bytes = peng::artifact::Serialize(m);
  auto own = peng::artifact::Parse(own_bytes.data(), own_bytes.size(), &error);
  ASSERT_TRUE(own) << error;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(own->executables[1].entries[0].launch.workgroup_size[i], 0u);
  // Two executables, one stored blob (the header's blob count).
  uint32_t blobs;
  std::memcpy(&blobs, &bytes[44], 4);
  EXPECT_EQ(blobs, 1u);
}

TEST(ModuleFile, WorkspaceAndInPlacePairsRoundTrip) {
  ModuleFile m = ScaleModule(10, {1, 2, 3});
  m.kernels[0].args.push_back({PENG_DTYPE_F32, PENG_ACCESS_WRITE, {10}});
  m.executables[0].entries[0].launch.workspace = 4 << 20;
  m.kernels[0].in_place = {{1, 0}};
  std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
  std::string error;
  auto back = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->executables[0].entries[0].launch.workspace, uint64_t(4) << 20);
  EXPECT_EQ(back->executables[1].entries[0].launch.workspace, 0u);
  ASSERT_EQ(back->kernels[0].in_place.size(), 1u);
  EXPECT_EQ(back->kernels[0].in_place[0], (std::pair<uint32_t, uint32_t>{1, 0}));
}

TEST(ModuleFile, OtherFormatVersionsAreRefusedByName) {
  std::vector<uint8_t> bytes = peng::artifact::Serialize(ScaleModule(10, {1, 2, 3}));
  for (uint32_t version : {1u, 3u}) {
    std::vector<uint8_t> b = bytes;
    std::memcpy(&b[8], &version, 4);
    uint32_t crc = peng::artifact::Crc32c(b.data(), 56);
    std::memcpy(&b[56], &crc, 4);
    std::string error;
    EXPECT_FALSE(peng::artifact::Parse(b.data(), b.size(), &error));
    EXPECT_NE(error.find("format version " + std::to_string(version) +
                         ", this runtime reads version 2"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find(version == 1 ? "compile it again" : "newer runtime"), std::string::npos)
        << error;
  }
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
  const std::string args = R"("args":[{"dtype":"f32","access":"read","shape":[4]}],)";
  const std::string counts = R"("constants":0,"flops":1,"bytes":16)";
  auto module = [&](const std::string& kernel_fields, const std::string& executables) {
    return R"({"kernels":[{"name":"k",)" + kernel_fields + R"(}],"executables":[)" + executables +
           "]}";
  };
  auto exe = [&](const std::string& fields, const std::string& entries) {
    return R"({"target":"host","format":"elf",)" + fields + R"("blob":0,"entries":[)" + entries +
           "]}";
  };
  const std::string entry = R"({"kernel":"k","symbol":"k","grid":[]})";
  auto with_entry = [&](const std::string& fields) {
    return module(args + counts, exe("", R"({"kernel":"k","symbol":"k",)" + fields + "}"));
  };
  const std::string good = module(args + counts, exe("", entry));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json {", "not JSON"},
      {R"({"kernels":7})", "'kernels' has the wrong type"},
      {module(R"("args":[{"dtype":"q7","access":"read","shape":[4]}],)" + counts, exe("", entry)),
       "unknown dtype"},
      {module(R"("args":[{"dtype":"f32","access":"sideways","shape":[4]}],)" + counts,
              exe("", entry)),
       "unknown access"},
      {module(R"("args":[{"dtype":"f32","access":"read","shape":[-5]}],)" + counts,
              exe("", entry)),
       "bad dimension"},
      {module(args + R"("constants":0,"flops":-1,"bytes":1)", exe("", entry)), "not a count"},
      {R"({"kernels":[{"name":"k",)" + args + counts + R"(},{"name":"k",)" + args + counts +
           R"(}],"executables":[)" + exe("", entry) + "]}",
       "two kernels named"},
      {module(args + R"("in_place":[[0,0]],)" + counts, exe("", entry)), "'in_place' holds a pair"},
      {module(args + R"("in_place":[[0,3]],)" + counts, exe("", entry)), "'in_place' holds a pair"},
      {module(args + R"("in_place":[7],)" + counts, exe("", entry)), "'in_place' holds a pair"},
      {module(args + R"("class":"dataplane",)" + counts, exe("", entry)),
       "kernel 'k': unknown class 'dataplane' (compute or data_plane)"},
      {module(args + R"("class":1,)" + counts, exe("", entry)), "'class' has the wrong type"},
      // Executables and entries.
      {R"({"kernels":[{"name":"k",)" + args + counts + "}]}", "missing 'executables'"},
      {module(args + counts, ""), "kernel 'k' has no entry in any executable"},
      {module(args + counts, exe("", "")), "no entries"},
      {module(args + counts, R"({"target":"host","format":"elf","blob":5,"entries":[)" + entry +
                                 "]}"),
       "'blob' is out of range"},
      {module(args + counts, exe(R"("min_vlen":512,"max_vlen":256,)", entry)),
       "min_vlen above max_vlen"},
      {module(args + counts, exe(R"("features":["avx2",3],)", entry)),
       "'features' holds something that is not a feature name"},
      {module(args + counts, exe(R"("features":[""],)", entry)), "'features' holds something"},
      {module(args + counts, exe("", R"({"kernel":"nope","symbol":"k","grid":[]})")),
       "no kernel named 'nope'"},
      {module(args + counts, exe("", entry + "," + entry)), "a second entry for kernel 'k'"},
      {module(args + counts, exe("", R"({"kernel":"k","symbol":"","grid":[]})")), "empty symbol"},
      {module(args + counts, exe("", R"({"kernel":"k","symbol":"k"})")), "missing 'grid'"},
      {with_entry(R"("grid":[{"arg":3,"dim":0,"tile":1}])"), "'arg' is out of range"},
      {with_entry(R"("grid":[{"arg":0,"dim":2,"tile":1}])"), "no such dimension"},
      {with_entry(R"("grid":[{"arg":0,"dim":0,"tile":0}])"), "'tile' is out of range"},
      {with_entry(R"("grid":[],"workspace":-1)"), "'workspace' is out of range"},
      {with_entry(R"("grid":[],"workspace":4294967296)"), "'workspace' is out of range"},
      {with_entry(R"("grid":[],"workgroup_size":[1,1])"), "'workgroup_size' is not 3 numbers"},
      {with_entry(R"("grid":[],"workgroup_size":[0,1,1])"), "'workgroup_size' holds a size"},
      {with_entry(R"("grid":[],"workgroup_size":[1,1,70000])"), "'workgroup_size' holds a size"},
  };
  for (const auto& [json, message] : cases) {
    std::vector<uint8_t> bytes = peng::artifact::SerializeRaw(json, {{1, 2, 3}});
    std::string error;
    EXPECT_FALSE(peng::artifact::Parse(bytes.data(), bytes.size(), &error)) << json;
    EXPECT_NE(error.find(message), std::string::npos) << "error '" << error << "' for " << json;
  }
  // The base case itself is fine, so the failures above are the edits'.
  std::string error;
  std::vector<uint8_t> good_bytes = peng::artifact::SerializeRaw(good, {{1, 2, 3}});
  EXPECT_TRUE(peng::artifact::Parse(good_bytes.data(), good_bytes.size(), &error)) << error;
}

// "class": "data_plane" marks data-plane kernels; "compute", and a file
// without the field (as pengc wrote before it existed), read as compute.
TEST(ModuleFile, KernelClassRoundTripsAndDefaultsToCompute) {
  ModuleFile m = ScaleModule(10, {1, 2, 3});
  m.kernels.push_back(m.kernels[0]);
  m.kernels[1].name = "scale_dp";
  m.kernels[1].data_plane = true;
  m.executables.resize(1);
  m.executables[0].entries.push_back(m.executables[0].entries[0]);
  m.executables[0].entries[1].kernel = 1;
  std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
  std::string error;
  auto back = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_FALSE(back->kernels[0].data_plane);
  EXPECT_TRUE(back->kernels[1].data_plane);

  const std::string kernel =
      R"("args":[{"dtype":"f32","access":"read","shape":[4]}],"constants":0,"flops":1,"bytes":16)";
  const std::string executables =
      R"("executables":[{"target":"host","format":"elf","blob":0,"entries":[{"kernel":"k","symbol":"k","grid":[]}]}])";
  for (auto [field, data_plane] : {std::pair<std::string, bool>{"", false},
                                   {R"("class":"compute",)", false},
                                   {R"("class":"data_plane",)", true}}) {
    std::string json = R"({"kernels":[{"name":"k",)" + field + kernel + "}]," + executables + "}";
    std::vector<uint8_t> raw = peng::artifact::SerializeRaw(json, {{1, 2, 3}});
    auto parsed = peng::artifact::Parse(raw.data(), raw.size(), &error);
    ASSERT_TRUE(parsed) << error << " for " << json;
    EXPECT_EQ(parsed->kernels[0].data_plane, data_plane) << json;
  }
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

// The runtime's kernel carries module.peng's class (peng_kernel_is_data_plane).
TEST_F(ModuleLoad, KernelsSayWhetherTheyAreDataPlane) {
  ModuleFile m = ScaleModule(10, {1, 2, 3});
  for (bool data_plane : {false, true}) {
    m.kernels[0].data_plane = data_plane;
    std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
    peng_module_t module;
    ASSERT_EQ(peng_module_load(rt_, "m", bytes.data(), bytes.size(), &module), PENG_OK)
        << peng_last_error_message();
    peng_kernel_t kernel;
    ASSERT_EQ(peng_module_find_kernel(module, "scale", &kernel), PENG_OK);
    int flag = -1;
    ASSERT_EQ(peng_kernel_is_data_plane(kernel, &flag), PENG_OK);
    EXPECT_EQ(flag, data_plane ? 1 : 0);
    EXPECT_EQ(peng::Kernel(kernel).data_plane(), data_plane);
    EXPECT_EQ(peng_kernel_is_data_plane(kernel, nullptr), PENG_ERROR_INVALID_ARGUMENT);
    peng_module_release(module);
  }
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
  for (auto& x : m.executables) x.arch = "sparc64";
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

// Runs `scale` over x = 0..9 on the runtime; returns the status and fills x.
peng_status_t RunScale(peng_runtime_t rt, peng_kernel_t kernel, float* x) {
  for (int i = 0; i < 10; ++i) x[i] = float(i);
  peng_tensor_arg_t arg{};
  arg.dtype = PENG_DTYPE_F32;
  arg.rank = 1;
  arg.shape[0] = 10;
  peng_status_t st = peng_buffer_create(rt, 40, &arg.buffer);
  if (st != PENG_OK) return st;
  peng_buffer_write(arg.buffer, 0, 40, x);
  peng_graph_t graph;
  peng_graph_create(rt, &graph);
  st = peng_graph_add_task(graph, kernel, &arg, 1, nullptr, 0, nullptr, nullptr);
  if (st == PENG_OK) {
    peng_event_t done;
    st = peng_graph_submit(graph, nullptr, 0, &done);
    if (st == PENG_OK) {
      st = peng_event_wait(done, UINT64_MAX);
      peng_event_release(done);
    }
  }
  if (st == PENG_OK) st = peng_buffer_read(arg.buffer, 0, 40, x);
  peng_graph_release(graph);
  peng_buffer_release(arg.buffer);
  return st;
}

// The device runs the most specific executable it supports: the one needing
// more ISA features first, the next one when it lacks a feature.
TEST_F(ModuleLoad, TheBestExecutableTheCpuHasRuns) {
  ModuleFile m = ScaleModule(10, KernelImage());
  m.executables.resize(1);
#if defined(__riscv)
  m.executables[0].target = "rvv";
#else
  m.executables[0].target = "host";
#endif
  // A second, "better" executable whose entry always fails: chosen when the
  // CPU has its features, though it comes later in the file.
  peng::artifact::Executable best = m.executables[0];
  best.entries[0].symbol = "always_fails";
  best.features = {HostFeature()};
  m.executables.push_back(best);
  std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
  peng_module_t module;
  ASSERT_EQ(peng_module_load(rt_, "best", bytes.data(), bytes.size(), &module), PENG_OK);
  peng_kernel_t kernel;
  ASSERT_EQ(peng_module_find_kernel(module, "scale", &kernel), PENG_OK);
  float x[10];
  EXPECT_EQ(RunScale(rt_, kernel, x), PENG_ERROR_KERNEL_FAILED);
  // The backend's words reach the user.
  EXPECT_NE(std::strstr(peng_last_error_message(), "kernel 'scale' refused its dispatch state"),
            nullptr)
      << peng_last_error_message();
  peng_module_release(module);

  // Needing a feature no CPU has, it is passed over for the other one.
  for (auto& x : m.executables) {
    if (!x.features.empty()) x.features = {HostFeature(), "no-such-feature"};
  }
  bytes = peng::artifact::Serialize(m);
  ASSERT_EQ(peng_module_load(rt_, "fallback", bytes.data(), bytes.size(), &module), PENG_OK);
  ASSERT_EQ(peng_module_find_kernel(module, "scale", &kernel), PENG_OK);
  ASSERT_EQ(RunScale(rt_, kernel, x), PENG_OK) << peng_last_error_message();
  const float scale[4] = {1, 2, 3, 4};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(x[i], float(i) * scale[i % 4] + float(i / 4)) << i;
  peng_module_release(module);
}

TEST_F(ModuleLoad, CodeNeedingAMissingFeatureIsRefusedWithItsName) {
  ModuleFile m = ScaleModule(10, KernelImage());
  for (auto& x : m.executables) x.features = {"no-such-feature"};
  peng_module_t module = nullptr;
  peng_kernel_t kernel = nullptr;
  EXPECT_FALSE(LoadsRunnableOnCpu(m, &module, &kernel));
  ASSERT_FALSE(HasFailure());
  float x[10];
  EXPECT_EQ(RunScale(rt_, kernel, x), PENG_ERROR_UNSUPPORTED);
  EXPECT_NE(std::strstr(peng_last_error_message(), "needs no-such-feature, which this CPU lacks"),
            nullptr)
      << peng_last_error_message();
  peng_module_release(module);
}

// Two kernels, one image: each CPU device maps it once.
TEST(ModuleImages, OneLoadPerExecutableAndDevice) {
  ModuleFile m = ScaleModule(10, KernelImage());
  peng::artifact::KernelInfo second = m.kernels[0];
  second.name = "fails";
  m.kernels.push_back(second);
  for (auto& x : m.executables) {
    peng::artifact::Entry e = x.entries[0];
    e.kernel = 1;
    e.symbol = "always_fails";
    x.entries.push_back(e);
  }
  std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
  std::string profile_path = testing::TempDir() + "two_cpus.toml";
  {
    std::ofstream out(profile_path);
    out << "[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=1\n"
           "[[device]]\nname=\"cpu1\"\nbackend=\"cpu\"\nthreads=1\n";
  }
  for (int devices : {1, 2}) {
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    if (devices == 2) o.platform_path = profile_path.c_str();
    peng_runtime_t rt;
    ASSERT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
    uint64_t before = peng_cpu_images_loaded();
    peng_module_t module;
    ASSERT_EQ(peng_module_load(rt, "two", bytes.data(), bytes.size(), &module), PENG_OK)
        << peng_last_error_message();
    EXPECT_EQ(peng_cpu_images_loaded() - before, uint64_t(devices))
        << "two kernels in one image, " << devices << " CPU device(s)";
    float x[10];
    peng_kernel_t kernel;
    ASSERT_EQ(peng_module_find_kernel(module, "scale", &kernel), PENG_OK);
    EXPECT_EQ(RunScale(rt, kernel, x), PENG_OK) << peng_last_error_message();
    ASSERT_EQ(peng_module_find_kernel(module, "fails", &kernel), PENG_OK);
    EXPECT_EQ(RunScale(rt, kernel, x), PENG_ERROR_KERNEL_FAILED);
    peng_module_release(module);
    peng_runtime_release(rt);
  }
}

}  // namespace
