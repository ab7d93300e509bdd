// The emu backend through the runtime's public API on platforms/dev-emu.toml:
// the devices appear with their kinds and figures; a killed server shows as a
// lost device within milliseconds while the runtime goes on with cpu0; a qemu
// that cannot run leaves lost devices that say why, and the runtime starts;
// releasing the runtime leaves no server behind.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "peng/peng.h"

namespace {

using peng_emu_test::Describe;
using peng_emu_test::Lost;
using peng_emu_test::ProcessExists;
using peng_emu_test::ServerPid;

const char* kProfile = PENG_SOURCE_DIR "/platforms/dev-emu.toml";

peng_runtime_t Create() {
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = kProfile;
  o.cpu_threads = 2;
  peng_runtime_t rt = nullptr;
  EXPECT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
  return rt;
}

peng_device_t Find(peng_runtime_t rt, const char* name) {
  peng_device_t d = nullptr;
  EXPECT_EQ(peng_runtime_find_device(rt, name, &d), PENG_OK) << name;
  return d;
}




int Negate(const peng_dispatch_state_t* s, const peng_workgroup_state_t*) {
  const float* in = static_cast<const float*>(s->bindings[0]);
  float* out = static_cast<float*>(s->bindings[1]);
  for (int64_t i = 0; i < s->shapes[0][0]; ++i) out[i] = -in[i];
  return 0;
}

// A host task on cpu0 still runs and gives the right answer.
void RunOnCpu(peng_runtime_t rt) {
  const int64_t n = 37;
  peng_arg_desc_t args[2] = {};
  for (auto& a : args) a.dtype = PENG_DTYPE_F32, a.rank = 1, a.shape[0] = n;
  args[0].access = PENG_ACCESS_READ;
  args[1].access = PENG_ACCESS_WRITE;
  peng_native_kernel_def_t def{};
  def.name = "negate";
  def.target = "host";
  def.fn = Negate;
  def.arg_count = 2;
  def.args = args;
  peng_module_t module;
  ASSERT_EQ(peng_module_create_native(rt, "host", &def, 1, &module), PENG_OK)
      << peng_last_error_message();
  peng_kernel_t negate;
  ASSERT_EQ(peng_module_find_kernel(module, "negate", &negate), PENG_OK);
  std::vector<float> in(n), out(n, 0);
  for (int64_t i = 0; i < n; ++i) in[i] = float(i) + 0.5f;
  peng_buffer_t a, b;
  ASSERT_EQ(peng_buffer_create(rt, n * 4, &a), PENG_OK);
  ASSERT_EQ(peng_buffer_create(rt, n * 4, &b), PENG_OK);
  ASSERT_EQ(peng_buffer_write(a, 0, n * 4, in.data()), PENG_OK);
  peng_tensor_arg_t targs[2] = {};
  for (int i = 0; i < 2; ++i) {
    targs[i].buffer = i ? b : a, targs[i].dtype = PENG_DTYPE_F32, targs[i].rank = 1;
    targs[i].shape[0] = n;
  }
  peng_graph_t g;
  ASSERT_EQ(peng_graph_create(rt, &g), PENG_OK);
  ASSERT_EQ(peng_graph_add_task(g, negate, targs, 2, nullptr, 0, nullptr, nullptr), PENG_OK)
      << peng_last_error_message();
  peng_event_t done;
  ASSERT_EQ(peng_graph_submit(g, nullptr, 0, &done), PENG_OK) << peng_last_error_message();
  EXPECT_EQ(peng_event_wait(done, PENG_WAIT_FOREVER), PENG_OK) << peng_last_error_message();
  peng_event_release(done);
  peng_graph_release(g);
  ASSERT_EQ(peng_buffer_read(b, 0, n * 4, out.data()), PENG_OK);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], -in[i]) << i;
  peng_buffer_release(a);
  peng_buffer_release(b);
  peng_module_release(module);
}

TEST(EmuRuntime, DevicesAppearWithTheirKinds) {
  peng_runtime_t rt = Create();
  ASSERT_TRUE(rt);
  // cpu0, the NPU, the DPU, and opencl:0 where this machine has OpenCL.
  uint32_t count = 0, absent = 0;
  ASSERT_EQ(peng_runtime_device_count(rt, &count), PENG_OK);
  ASSERT_EQ(peng_runtime_absent_device_count(rt, &absent), PENG_OK);
  EXPECT_EQ(count + absent, 4u);
  EXPECT_GE(count, 3u);
  peng_device_info_t npu, dpu;
  ASSERT_EQ(peng_device_info(Find(rt, "emu:npu0"), &npu), PENG_OK);
  ASSERT_EQ(peng_device_info(Find(rt, "emu:dpu0"), &dpu), PENG_OK);
  EXPECT_EQ(npu.kind, PENG_DEVICE_NPU);
  EXPECT_EQ(dpu.kind, PENG_DEVICE_DPU);
  EXPECT_STREQ(npu.backend, "emu");
  EXPECT_EQ(npu.vector_bits, 256u);
  EXPECT_EQ(dpu.vector_bits, 128u);
  EXPECT_EQ(npu.compute_units, 4u);
  EXPECT_EQ(npu.memory_bytes, 256ull << 20);
  EXPECT_NE(npu.memory_space, 0u);
  EXPECT_NE(npu.memory_space, dpu.memory_space);
  EXPECT_EQ(npu.lost, 0u);
  std::string text = Describe(Find(rt, "emu:dpu0"));
  EXPECT_NE(text.find("VLEN: 128 bits (the guest reads vlenb = 16)"), std::string::npos) << text;
  EXPECT_NE(text.find("Harts: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("Memory: 64 MiB"), std::string::npos) << text;
  pid_t npu_pid = ServerPid(Find(rt, "emu:npu0")), dpu_pid = ServerPid(Find(rt, "emu:dpu0"));
  EXPECT_TRUE(ProcessExists(npu_pid));
  EXPECT_TRUE(ProcessExists(dpu_pid));
  RunOnCpu(rt);
  ASSERT_EQ(peng_runtime_release(rt), PENG_OK);
  // The runtime itself may go a moment later, when the worker that finished
  // the last run drops its reference; its servers go with it.
  for (int i = 0; i < 2000 && (ProcessExists(npu_pid) || ProcessExists(dpu_pid)); ++i) {
    usleep(1000);
  }
  EXPECT_FALSE(ProcessExists(npu_pid));
  EXPECT_FALSE(ProcessExists(dpu_pid));
}

TEST(EmuRuntime, KilledServerIsALostDeviceAndTheRuntimeGoesOn) {
  peng_runtime_t rt = Create();
  ASSERT_TRUE(rt);
  peng_device_t npu = Find(rt, "emu:npu0");
  pid_t pid = ServerPid(npu);
  ASSERT_TRUE(ProcessExists(pid));
  EXPECT_FALSE(Lost(npu));
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  while (!Lost(npu) && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    usleep(200);
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(Lost(npu));
  EXPECT_LT(ms, 200.0) << "noticed after " << ms << " ms";
  EXPECT_NE(Describe(npu).find("killed by signal 9"), std::string::npos) << Describe(npu);
  EXPECT_FALSE(Lost(Find(rt, "emu:dpu0")));
  RunOnCpu(rt);
  ASSERT_EQ(peng_runtime_release(rt), PENG_OK);
}

// No qemu, or a server that is not one: those devices are absent, with the
// reason, and the runtime starts with the rest.
TEST(EmuRuntime, ServersThatCannotStartLeaveAbsentDevicesAndTheRuntimeStarts) {
  for (const char* variable : {"PENG_QEMU", "PENG_EMU_SERVER"}) {
    SCOPED_TRACE(variable);
    // A "server" that is no riscv64 program: this very file.
    const char* value = std::string(variable) == "PENG_QEMU" ? "/nonexistent" : __FILE__;
    setenv(variable, value, 1);
    peng_runtime_t rt = Create();
    unsetenv(variable);
    ASSERT_TRUE(rt);
    // cpu0 (and opencl:0 where there is OpenCL) run; both emulated devices are absent.
    uint32_t count = 9, absent = 9;
    ASSERT_EQ(peng_runtime_device_count(rt, &count), PENG_OK);
    ASSERT_EQ(peng_runtime_absent_device_count(rt, &absent), PENG_OK);
    EXPECT_EQ(count + absent, 4u);
    ASSERT_GE(absent, 2u);
    for (uint32_t i = 0; i < 2; ++i) {
      const char* name = nullptr;
      const char* reason = nullptr;
      ASSERT_EQ(peng_runtime_absent_device(rt, i, &name, &reason), PENG_OK);
      EXPECT_STREQ(name, i == 0 ? "emu:npu0" : "emu:dpu0");
      EXPECT_NE(std::string(reason).find("the device server could not start: "),
                std::string::npos)
          << reason;
      if (std::string(variable) == "PENG_QEMU") {
        EXPECT_NE(std::string(reason).find("/nonexistent: No such file"), std::string::npos)
            << reason;
      }
    }
    const char* name = nullptr;
    const char* reason = nullptr;
    EXPECT_EQ(peng_runtime_absent_device(rt, absent, &name, &reason),
              PENG_ERROR_INVALID_ARGUMENT);
    peng_device_t d = nullptr;
    EXPECT_EQ(peng_runtime_find_device(rt, "emu:npu0", &d), PENG_ERROR_NOT_FOUND);
    EXPECT_FALSE(Lost(Find(rt, "cpu0")));
    RunOnCpu(rt);
    ASSERT_EQ(peng_runtime_release(rt), PENG_OK);
  }
}

}  // namespace
