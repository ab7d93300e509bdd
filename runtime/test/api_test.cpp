// Bad input through the C ABI: every case gets a clear status and message,
// and nothing crashes or changes state.
#include <cstring>

#include "test_util.h"

namespace peng::test {
namespace {

int Noop(const peng_dispatch_state_t*, const peng_workgroup_state_t*) { return 0; }

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    o.cpu_threads = 2;
    ASSERT_EQ(peng_runtime_create(&o, &rt_), PENG_OK) << peng_last_error_message();
    args_ = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READ, {-1, 4}),
             Arg(PENG_DTYPE_I32, PENG_ACCESS_WRITE, {8})};
    peng_native_kernel_def_t def = Def("k", Noop, args_, 1);
    ASSERT_EQ(peng_module_create_native(rt_, "m", &def, 1, &module_), PENG_OK);
    ASSERT_EQ(peng_module_find_kernel(module_, "k", &kernel_), PENG_OK);
    ASSERT_EQ(peng_buffer_create(rt_, 3 * 4 * sizeof(float), &in_), PENG_OK);
    ASSERT_EQ(peng_buffer_create(rt_, 8 * sizeof(int32_t), &out_), PENG_OK);
    ASSERT_EQ(peng_graph_create(rt_, &graph_), PENG_OK);
  }
  void TearDown() override {
    peng_graph_release(graph_);
    peng_buffer_release(in_);
    peng_buffer_release(out_);
    peng_module_release(module_);
    peng_runtime_release(rt_);
  }
  peng_tensor_arg_t In(int64_t rows, int64_t cols = 4, peng_dtype_t dtype = PENG_DTYPE_F32) {
    peng_tensor_arg_t t{};
    t.buffer = in_;
    t.dtype = dtype;
    t.rank = 2;
    t.shape[0] = rows;
    t.shape[1] = cols;
    return t;
  }
  peng_tensor_arg_t Out() {
    peng_tensor_arg_t t{};
    t.buffer = out_;
    t.dtype = PENG_DTYPE_I32;
    t.rank = 1;
    t.shape[0] = 8;
    return t;
  }
  peng_status_t Add(std::vector<peng_tensor_arg_t> args, std::vector<int64_t> constants = {7}) {
    return peng_graph_add_task(graph_, kernel_, args.data(), uint32_t(args.size()),
                               constants.data(), uint32_t(constants.size()), nullptr, nullptr);
  }
  std::string Message() { return peng_last_error_message(); }

  peng_runtime_t rt_ = nullptr;
  std::vector<peng_arg_desc_t> args_;
  peng_module_t module_ = nullptr;
  peng_kernel_t kernel_ = nullptr;
  peng_buffer_t in_ = nullptr, out_ = nullptr;
  peng_graph_t graph_ = nullptr;
};

TEST_F(ApiTest, ValidTaskIsAccepted) {
  EXPECT_STATUS(PENG_OK, Add({In(3), Out()}));
  uint32_t n = 0;
  EXPECT_STATUS(PENG_OK, peng_graph_task_count(graph_, &n));
  EXPECT_EQ(n, 1u);
}

TEST_F(ApiTest, MadeUpHandlesAreRejected) {
  uint64_t size;
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_buffer_size(nullptr, &size));
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE,
                peng_buffer_size(reinterpret_cast<peng_buffer_t>(uintptr_t(0xdeadbeef)), &size));
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE,
                peng_buffer_size(reinterpret_cast<peng_buffer_t>(~uintptr_t(0)), &size));
  EXPECT_NE(Message().find("invalid buffer handle"), std::string::npos) << Message();
  uint32_t count;
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE,
                peng_runtime_device_count(reinterpret_cast<peng_runtime_t>(uintptr_t(8)), &count));
}

// The CPU backend's description (HAL `describe`): its threads and ISA
// features; a short buffer gets a cut, terminated text and the full length;
// bad handles and a NULL buffer with room are refused.
TEST_F(ApiTest, DescribeADevice) {
  peng_device_t cpu;
  ASSERT_EQ(peng_runtime_find_device(rt_, "cpu0", &cpu), PENG_OK);
  size_t length = 0;
  EXPECT_STATUS(PENG_OK, peng_device_describe(cpu, nullptr, 0, &length));
  ASSERT_GT(length, 0u);
  std::string text(length + 1, '\0');
  EXPECT_STATUS(PENG_OK, peng_device_describe(cpu, &text[0], text.size(), nullptr));
  text.resize(length);
  EXPECT_EQ(text.rfind("Threads: ", 0), 0u) << text;
  EXPECT_NE(text.find("\nISA features: "), std::string::npos) << text;
  char cut[4] = "xxx";
  size_t full = 0;
  EXPECT_STATUS(PENG_OK, peng_device_describe(cpu, cut, sizeof cut, &full));
  EXPECT_EQ(full, length);
  EXPECT_EQ(std::string(cut), "Thr");
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_device_describe(cpu, nullptr, 4, &length));
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE,
                peng_device_describe(reinterpret_cast<peng_device_t>(graph_), cut, 4, &length));
}

TEST_F(ApiTest, HandleOfAnotherTypeIsRejected) {
  uint64_t size;
  // A graph handle passed where a buffer is expected.
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE,
                peng_buffer_size(reinterpret_cast<peng_buffer_t>(graph_), &size));
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_graph_add_task(graph_,
                reinterpret_cast<peng_kernel_t>(in_), nullptr, 0, nullptr, 0, nullptr, nullptr));
}

TEST_F(ApiTest, ReleasedHandlesAreRejected) {
  peng_buffer_t b;
  ASSERT_EQ(peng_buffer_create(rt_, 64, &b), PENG_OK);
  EXPECT_STATUS(PENG_OK, peng_buffer_release(b));
  uint64_t size;
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_buffer_size(b, &size));
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_buffer_release(b));
  // A new buffer may reuse the slot; the old handle must stay dead.
  peng_buffer_t c;
  ASSERT_EQ(peng_buffer_create(rt_, 64, &c), PENG_OK);
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_buffer_size(b, &size));
  EXPECT_STATUS(PENG_OK, peng_buffer_size(c, &size));
  peng_buffer_release(c);
}

TEST_F(ApiTest, KernelHandlesDieWithTheirModule) {
  peng_native_kernel_def_t def = Def("k2", Noop, {});
  peng_module_t m;
  ASSERT_EQ(peng_module_create_native(rt_, "m2", &def, 1, &m), PENG_OK);
  peng_kernel_t k;
  ASSERT_EQ(peng_module_find_kernel(m, "k2", &k), PENG_OK);
  ASSERT_EQ(peng_module_release(m), PENG_OK);
  const char* name;
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_kernel_name(k, &name));
}

TEST_F(ApiTest, NullOutputPointers) {
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_runtime_create(nullptr, nullptr));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_create(rt_, 16, nullptr));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_size(in_, nullptr));
}

TEST_F(ApiTest, BufferRangesAreChecked) {
  std::vector<char> host(128);
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_create(rt_, 0, &in_));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_write(in_, 0, 49, host.data()));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_read(in_, 40, 9, host.data()));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_read(in_, UINT64_MAX, 2, host.data()));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_buffer_read(in_, 0, 8, nullptr));
  EXPECT_NE(Message().find("NULL"), std::string::npos) << Message();
  EXPECT_STATUS(PENG_OK, peng_buffer_read(in_, 40, 8, host.data()));
}

TEST_F(ApiTest, MismatchedKernelArgumentsAreRejected) {
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(3)}));
  EXPECT_NE(Message().find("takes 2 tensor arguments, got 1"), std::string::npos) << Message();
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(3, 4, PENG_DTYPE_I32), Out()}));
  EXPECT_NE(Message().find("dtype i32 does not match the kernel's f32"), std::string::npos)
      << Message();
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(3, 5), Out()}));
  EXPECT_NE(Message().find("the kernel needs 4"), std::string::npos) << Message();
  peng_tensor_arg_t rank1 = In(3);
  rank1.rank = 1;
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({rank1, Out()}));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(-1), Out()}));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(3), Out()}, {}));
  EXPECT_NE(Message().find("takes 1 constants, got 0"), std::string::npos) << Message();
  // A rejected task leaves the graph unchanged.
  uint32_t n = 99;
  peng_graph_task_count(graph_, &n);
  EXPECT_EQ(n, 0u);
}

TEST_F(ApiTest, BufferOfTheWrongSizeIsRejected) {
  // 4 rows of 4 floats need 64 bytes; the buffer has 48.
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(4), Out()}));
  EXPECT_NE(Message().find("needs 64 bytes, the buffer has 48"), std::string::npos) << Message();
  // Shapes whose byte count overflows 64 bits.
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, Add({In(INT64_MAX / 2), Out()}));
}

TEST_F(ApiTest, BadEdges) {
  ASSERT_EQ(Add({In(3), Out()}), PENG_OK);
  ASSERT_EQ(Add({In(3), Out()}), PENG_OK);
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_graph_add_edge(graph_, 0, 5));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_graph_add_edge(graph_, 1, 0));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_graph_add_edge(graph_, 1, 1));
  EXPECT_STATUS(PENG_OK, peng_graph_add_edge(graph_, 0, 1));
}

TEST_F(ApiTest, BadKernelDefinitions) {
  peng_module_t m;
  peng_native_kernel_def_t no_fn = Def("x", nullptr, {});
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_module_create_native(rt_, "m", &no_fn, 1, &m));
  std::vector<peng_arg_desc_t> bad_dtype = {Arg(PENG_DTYPE_INVALID, PENG_ACCESS_READ, {1})};
  peng_native_kernel_def_t d = Def("x", Noop, bad_dtype);
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_module_create_native(rt_, "m", &d, 1, &m));
  std::vector<peng_arg_desc_t> ok = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READ, {4})};
  d = Def("x", Noop, ok);
  d.grid[0] = peng_grid_dim_t{3, 0, 16};  // argument 3 does not exist
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_module_create_native(rt_, "m", &d, 1, &m));
  EXPECT_NE(Message().find("grid refers to argument 3"), std::string::npos) << Message();
}

TEST_F(ApiTest, KernelWithoutCodeForAnyDeviceIsUnsupported) {
  peng_native_kernel_def_t d = Def("elsewhere", Noop, {}, 0, "some-npu-isa");
  peng_module_t m;
  ASSERT_EQ(peng_module_create_native(rt_, "m", &d, 1, &m), PENG_OK);
  peng_kernel_t k;
  ASSERT_EQ(peng_module_find_kernel(m, "elsewhere", &k), PENG_OK);
  EXPECT_STATUS(PENG_ERROR_UNSUPPORTED,
                peng_graph_add_task(graph_, k, nullptr, 0, nullptr, 0, nullptr, nullptr));
  EXPECT_NE(Message().find("no device has code for kernel 'elsewhere'"), std::string::npos);
  peng_module_release(m);
}

TEST_F(ApiTest, EventsRejectMisuse) {
  peng_event_t e;
  ASSERT_EQ(peng_event_create(rt_, &e), PENG_OK);
  EXPECT_EQ(peng_event_query(e), PENG_ERROR_TIMEOUT);
  EXPECT_STATUS(PENG_ERROR_TIMEOUT, peng_event_wait(e, 1000));
  EXPECT_STATUS(PENG_OK, peng_event_signal(e, PENG_OK));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_event_signal(e, PENG_OK));
  EXPECT_STATUS(PENG_OK, peng_event_wait(e, 0));
  peng_event_release(e);
  EXPECT_STATUS(PENG_ERROR_INVALID_HANDLE, peng_event_wait(e, 0));
}

TEST_F(ApiTest, OptionsWithoutInitAreRejected) {
  peng_runtime_options_t o{};
  peng_runtime_t rt;
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_runtime_create(&o, &rt));
  peng_runtime_options_init(&o);
  o.policy = peng_policy_t(42);
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_runtime_create(&o, &rt));
}

// A program built against the first release's options (no watchdog_ms) still
// creates a runtime; a size that was never released does not.
TEST_F(ApiTest, OptionsOfTheFirstReleaseAreAccepted) {
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.watchdog_ms = 12345;  // past the old struct's end: must not be read
  o.struct_size = uint32_t(offsetof(peng_runtime_options_t, watchdog_ms));
  peng_runtime_t rt = nullptr;
  ASSERT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
  peng_runtime_release(rt);
  o.struct_size = uint32_t(offsetof(peng_runtime_options_t, watchdog_ms)) + 2;
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT, peng_runtime_create(&o, &rt));
}

// ------------------------------------------------------------------ plugins

peng_status_t CreateWithPlugin(const std::string& path) {
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.plugin_path = path.c_str();
  peng_runtime_t rt = nullptr;
  peng_status_t st = peng_runtime_create(&o, &rt);
  if (st == PENG_OK) peng_runtime_release(rt);
  return st;
}

TEST(PluginLoad, MissingFile) {
  EXPECT_STATUS(PENG_ERROR_PLUGIN_LOAD, CreateWithPlugin("/nonexistent/peng_plugin.so"));
  EXPECT_NE(std::string(peng_last_error_message()).find("does not exist"), std::string::npos);
}

TEST(PluginLoad, NotASharedLibrary) {
  TempFile junk("junk.so", "this is not an ELF file\n");
  EXPECT_STATUS(PENG_ERROR_PLUGIN_LOAD, CreateWithPlugin(junk.path()));
  EXPECT_NE(std::string(peng_last_error_message()).find("cannot load plugin"), std::string::npos);
}

TEST(PluginLoad, LibraryWithoutRegisterSymbol) {
  EXPECT_STATUS(PENG_ERROR_PLUGIN_LOAD, CreateWithPlugin(PENG_TEST_NO_SYMBOL_PLUGIN));
  EXPECT_NE(std::string(peng_last_error_message()).find("peng_hal_plugin_register"),
            std::string::npos);
}

TEST(PluginLoad, WrongAbiVersion) {
  EXPECT_STATUS(PENG_ERROR_PLUGIN_LOAD, CreateWithPlugin(PENG_TEST_WRONG_ABI_PLUGIN));
  EXPECT_NE(std::string(peng_last_error_message()).find("HAL ABI"), std::string::npos);
}

TEST(PluginLoad, NullPluginLoadsAndListsItsDevice) {
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.plugin_path = PENG_TEST_NULL_PLUGIN;
  peng_runtime_t rt;
  ASSERT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
  peng_device_t d;
  EXPECT_STATUS(PENG_OK, peng_runtime_find_device(rt, "nullplug0", &d));
  peng_device_info_t info;
  EXPECT_STATUS(PENG_OK, peng_device_info(d, &info));
  EXPECT_STREQ(info.backend, "nullplug");
  EXPECT_NE(info.memory_space, 0u);
  peng_runtime_release(rt);
}

// A profile's `kind` relabels a device; without one the backend's kind
// stands (the flaky test backend calls its devices NPUs).
TEST(PluginLoad, ProfileKindRelabelsTheBackendsKind) {
  for (const char* kind : {"", "kind=\"gpu\"\n", "kind=\"cpu\"\n"}) {
    TempFile profile("kind.toml", std::string("[[device]]\nname=\"f0\"\nbackend=\"flaky\"\n"
                                              "memory=\"discrete\"\n") + kind);
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    o.platform_path = profile.path().c_str();
    o.plugin_path = PENG_TEST_FLAKY_PLUGIN;
    peng_runtime_t rt;
    ASSERT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
    peng_device_t d;
    ASSERT_EQ(peng_runtime_find_device(rt, "f0", &d), PENG_OK);
    peng_device_info_t info;
    ASSERT_EQ(peng_device_info(d, &info), PENG_OK);
    peng_device_kind_t want = *kind == 0        ? PENG_DEVICE_NPU
                              : kind[6] == 'g' ? PENG_DEVICE_GPU
                                               : PENG_DEVICE_CPU;
    EXPECT_EQ(info.kind, want) << kind;
    peng_runtime_release(rt);
  }
}

// ------------------------------------------------------------------ profiles

peng_status_t CreateWithProfile(const std::string& text) {
  TempFile profile("profile.toml", text);
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = profile.path().c_str();
  peng_runtime_t rt = nullptr;
  peng_status_t st = peng_runtime_create(&o, &rt);
  if (st == PENG_OK) peng_runtime_release(rt);
  return st;
}

TEST(PlatformProfile, SyntaxErrorNamesTheLine) {
  EXPECT_STATUS(PENG_ERROR_CORRUPT_DATA, CreateWithProfile("[[device]]\nname = \"cpu0\nbackend=1\n"));
  EXPECT_NE(std::string(peng_last_error_message()).find(":2:"), std::string::npos)
      << peng_last_error_message();
}

TEST(PlatformProfile, TyposAndUnknownBackendsAreErrors) {
  EXPECT_STATUS(PENG_ERROR_CORRUPT_DATA,
                CreateWithProfile("[[device]]\nname=\"a\"\nbackend=\"cpu\"\nthreds=2\n"));
  EXPECT_NE(std::string(peng_last_error_message())
                .find("unknown device key 'threds' (did you mean 'threads'?"),
            std::string::npos)
      << peng_last_error_message();
  // Keys the runtime does not know are the backend's, which ignores them.
  EXPECT_STATUS(PENG_OK, CreateWithProfile("[[device]]\nname=\"a\"\nbackend=\"cpu\"\n"
                                           "vendor_flag=\"x\"\n[device.opencl]\nbuild=[1,2]\n"));
  EXPECT_STATUS(PENG_ERROR_CORRUPT_DATA,
                CreateWithProfile("[[device]]\nname=\"a\"\nbackend=\"tpu\"\n"));
  EXPECT_STATUS(PENG_ERROR_CORRUPT_DATA, CreateWithProfile("name = \"empty\"\n"));
  EXPECT_STATUS(PENG_ERROR_INVALID_ARGUMENT,
                CreateWithProfile("[[device]]\nname=\"a\"\nbackend=\"cpu\"\n"
                                  "[[device]]\nname=\"a\"\nbackend=\"cpu\"\n"));
}

TEST(PlatformProfile, MissingFile) {
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = "/nonexistent/platform.toml";
  peng_runtime_t rt;
  // An I/O error naming the file and the reason, not a parse error.
  EXPECT_STATUS(PENG_ERROR_IO, peng_runtime_create(&o, &rt));
  EXPECT_STREQ(
      peng_last_error_message(),
      "cannot open platform profile '/nonexistent/platform.toml': No such file or directory");
}

TEST(PerfModelFile, CorruptFileIsAnError) {
  for (const char* text : {"{not json", "{\"format\":\"other\"}",
                           "{\"format\":\"peng-perf-models\",\"version\":1,\"history\":[{\"kernel\":1}],"
                           "\"links\":[]}"}) {
    TempFile models("models.json", text);
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    o.perf_model_path = models.path().c_str();
    peng_runtime_t rt;
    EXPECT_STATUS(PENG_ERROR_CORRUPT_DATA, peng_runtime_create(&o, &rt));
  }
}

}  // namespace
}  // namespace peng::test
