// The emu backend through the HAL alone: devices with their settings, byte-
// exact copies between host and device memory and within it, clean
// out-of-memory, a server killed mid-work (lost within milliseconds, waiting
// work fails with DEVICE_LOST, nothing hangs), a server that cannot start,
// and no server left behind.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "emu_test_util.h"
#include "peng/hal.h"

extern "C" const peng_hal_factory_t* peng_backend_emu_factory(void);

namespace {

using peng_emu_test::ProcessExists;

thread_local std::string t_error;
peng_status_t SetError(peng_status_t code, const char* message) {
  t_error = message ? message : "";
  return code;
}

struct Device {
  peng_hal_device_t* device = nullptr;
  peng_hal_queue_t* queue = nullptr;
  const peng_hal_device_vtable_t* vt() const {
    return PENG_HAL_VTABLE(device, peng_hal_device_vtable_t);
  }
  const peng_hal_queue_vtable_t* qvt() const {
    return PENG_HAL_VTABLE(queue, peng_hal_queue_vtable_t);
  }
  ~Device() {
    if (queue) qvt()->destroy(queue);
    if (device) vt()->destroy(device);
  }
  std::string Describe() const {
    size_t n = 0;
    vt()->describe(device, nullptr, 0, &n);
    std::string text(n + 1, '\0');
    vt()->describe(device, text.data(), text.size(), &n);
    text.resize(n);
    return text;
  }
  pid_t ServerPid() const {
    std::string d = Describe();
    size_t at = d.find("Server pid: ");
    return at == std::string::npos ? -1 : pid_t(std::atoll(d.c_str() + at + 12));
  }
};

void Open(Device* d, std::vector<peng_hal_setting_t> settings = {}, uint64_t memory = 1 << 20) {
  peng_hal_device_params_t p{};
  p.name = "emu:test0";
  p.kind = PENG_DEVICE_DPU;
  p.memory_space = 1;
  p.memory_bytes = memory;
  p.set_error = SetError;
  p.settings = settings.data();
  p.setting_count = uint32_t(settings.size());
  ASSERT_EQ(peng_backend_emu_factory()->create_device(0, &p, &d->device), PENG_OK) << t_error;
  ASSERT_EQ(d->vt()->create_queue(d->device, &d->queue), PENG_OK);
}

// A completion that records its status; Wait() gives up after 10 s, so a
// lost completion fails the test instead of hanging it.
struct Done {
  std::atomic<int> status{-1};
  peng_hal_completion_t completion() {
    return {[](void* self, peng_status_t st) { static_cast<Done*>(self)->status = st; }, this};
  }
  int Wait() {
    for (int i = 0; i < 10000 && status < 0; ++i) usleep(1000);
    return status;
  }
};

peng_status_t Copy(Device& d, peng_hal_copy_t copy) {
  Done done;
  peng_status_t st = d.qvt()->enqueue_copy(d.queue, &copy, done.completion());
  if (st != PENG_OK) return st;
  return peng_status_t(done.Wait());
}

peng_hal_buffer_t* Allocate(Device& d, uint64_t size) {
  peng_hal_buffer_t* b = nullptr;
  EXPECT_EQ(d.vt()->allocate(d.device, size, &b), PENG_OK) << t_error;
  return b;
}

void Free(peng_hal_buffer_t* b) { PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t)->destroy(b); }

TEST(EmuHal, ReportsItsSettings) {
  Device d;
  Open(&d, {{"vlen", "512"}, {"harts", "3"}});
  peng_device_info_t info;
  ASSERT_EQ(d.vt()->query_info(d.device, &info), PENG_OK);
  EXPECT_STREQ(info.backend, "emu");
  EXPECT_EQ(info.kind, PENG_DEVICE_DPU);
  EXPECT_EQ(info.vector_bits, 512u);
  EXPECT_EQ(info.compute_units, 3u);
  EXPECT_EQ(info.memory_bytes, 1u << 20);
  std::string text = d.Describe();
  EXPECT_NE(text.find("VLEN: 512 bits (the guest reads vlenb = 64)"), std::string::npos) << text;
  EXPECT_NE(text.find("Harts: 3"), std::string::npos) << text;
  EXPECT_NE(text.find("Memory: 1 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("QEMU: "), std::string::npos) << text;
  EXPECT_TRUE(ProcessExists(d.ServerPid())) << text;
  EXPECT_EQ(d.vt()->check_health(d.device), PENG_OK);
}

TEST(EmuHal, BadSettingsSayWhy) {
  for (auto [key, value, why] : {std::tuple{"vlen", "96", "vlen = \"96\""},
                                 std::tuple{"vlen", "384", "powers of two"},
                                 std::tuple{"harts", "many", "harts = \"many\""}}) {
    peng_hal_device_t* device = nullptr;
    peng_hal_setting_t s{key, value};
    peng_hal_device_params_t p{};
    p.name = "emu:bad";
    p.memory_space = 1;
    p.set_error = SetError;
    p.settings = &s;
    p.setting_count = 1;
    t_error.clear();
    EXPECT_EQ(peng_backend_emu_factory()->create_device(0, &p, &device),
              PENG_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(t_error.find(why), std::string::npos) << t_error;
  }
}

TEST(EmuHal, CopiesRoundTripByteExact) {
  Device d;
  Open(&d);
  for (uint64_t size : {1ull, 3ull, 255ull, 4097ull, 100003ull}) {
    std::vector<uint8_t> in(size + 7), out(size + 5, 0xee), back(size + 2, 0xdd);
    for (size_t i = 0; i < in.size(); ++i) in[i] = uint8_t(i * 131 + size);
    peng_hal_buffer_t* a = Allocate(d, size + 11);
    peng_hal_buffer_t* b = Allocate(d, size + 3);
    // host -> a at an odd offset, a -> b (in device memory), b -> host.
    peng_hal_copy_t up{};
    up.src_host = in.data(), up.dst_buffer = a, up.dst_offset = 5, up.size = size;
    ASSERT_EQ(Copy(d, up), PENG_OK) << t_error;
    peng_hal_copy_t across{};
    across.src_buffer = a, across.src_offset = 5, across.dst_buffer = b, across.dst_offset = 3;
    across.size = size;
    ASSERT_EQ(Copy(d, across), PENG_OK) << t_error;
    peng_hal_copy_t down{};
    down.src_buffer = b, down.src_offset = 3, down.dst_host = out.data(), down.dst_offset = 2;
    down.size = size;
    ASSERT_EQ(Copy(d, down), PENG_OK) << t_error;
    EXPECT_EQ(out[0], 0xee);
    EXPECT_EQ(out[1], 0xee);
    ASSERT_EQ(std::memcmp(out.data() + 2, in.data(), size), 0) << size;
    EXPECT_EQ(out[2 + size], 0xee);
    // And straight back from a.
    peng_hal_copy_t again{};
    again.src_buffer = a, again.src_offset = 5, again.dst_host = back.data(), again.size = size;
    ASSERT_EQ(Copy(d, again), PENG_OK) << t_error;
    ASSERT_EQ(std::memcmp(back.data(), in.data(), size), 0) << size;
    EXPECT_EQ(back[size], 0xdd);
    Free(a);
    Free(b);
  }
}

TEST(EmuHal, CopiesPastABufferAreRefused) {
  Device d;
  Open(&d);
  peng_hal_buffer_t* a = Allocate(d, 100);
  std::vector<uint8_t> host(200);
  peng_hal_copy_t c{};
  c.src_host = host.data(), c.dst_buffer = a, c.dst_offset = 50, c.size = 51;
  Done done;
  t_error.clear();
  EXPECT_EQ(d.qvt()->enqueue_copy(d.queue, &c, done.completion()), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(t_error.find("runs past a buffer's end"), std::string::npos) << t_error;
  c.dst_offset = UINT64_MAX;
  EXPECT_EQ(d.qvt()->enqueue_copy(d.queue, &c, done.completion()), PENG_ERROR_INVALID_ARGUMENT);
  Free(a);
}

TEST(EmuHal, ManyCopiesInFlightAllComplete) {
  Device d;
  Open(&d);
  // More than the ring holds: the rest waits in the backlog.
  const int n = 1000;
  peng_hal_buffer_t* a = Allocate(d, 64 * n);
  std::vector<uint64_t> in(8 * n), out(8 * n, 0);
  for (size_t i = 0; i < in.size(); ++i) in[i] = i * 0x9e3779b97f4a7c15ull;
  std::vector<Done> done(n);
  for (int i = 0; i < n; ++i) {
    peng_hal_copy_t c{};
    c.src_host = in.data() + 8 * i, c.dst_buffer = a, c.dst_offset = 64 * i, c.size = 64;
    ASSERT_EQ(d.qvt()->enqueue_copy(d.queue, &c, done[i].completion()), PENG_OK);
  }
  ASSERT_EQ(d.qvt()->wait_idle(d.queue, 10ull * 1000 * 1000 * 1000), PENG_OK);
  for (int i = 0; i < n; ++i) ASSERT_EQ(done[i].status, PENG_OK) << i;
  peng_hal_copy_t c{};
  c.src_buffer = a, c.dst_host = out.data(), c.size = 64 * n;
  ASSERT_EQ(Copy(d, c), PENG_OK);
  EXPECT_EQ(in, out);
  Free(a);
}

TEST(EmuHal, OutOfDeviceMemoryIsACleanError) {
  Device d;
  Open(&d);  // 1 MiB
  peng_hal_buffer_t* big = Allocate(d, 700 << 10);
  ASSERT_TRUE(big);
  peng_hal_buffer_t* more = nullptr;
  t_error.clear();
  EXPECT_EQ(d.vt()->allocate(d.device, 400 << 10, &more), PENG_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(more, nullptr);
  EXPECT_NE(t_error.find("out of device memory"), std::string::npos) << t_error;
  EXPECT_EQ(d.vt()->allocate(d.device, UINT64_MAX, &more), PENG_ERROR_OUT_OF_MEMORY);
  // Freed memory is usable again, coalesced into one block.
  peng_hal_buffer_t* small = Allocate(d, 100 << 10);
  Free(big);
  Free(small);
  peng_hal_buffer_t* all = Allocate(d, 1 << 20);
  EXPECT_TRUE(all);
  if (all) Free(all);
  EXPECT_EQ(d.vt()->check_health(d.device), PENG_OK);
}

TEST(EmuHal, KilledServerFailsWaitingWorkWithDeviceLost) {
  Device d;
  Open(&d, {}, 64 << 20);
  pid_t pid = d.ServerPid();
  ASSERT_TRUE(ProcessExists(pid));
  // Enough device-to-device copies in flight that the kill lands mid-work.
  peng_hal_buffer_t* a = Allocate(d, 16 << 20);
  peng_hal_buffer_t* b = Allocate(d, 16 << 20);
  const int n = 400;
  std::vector<Done> done(n);
  for (int i = 0; i < n; ++i) {
    peng_hal_copy_t c{};
    c.src_buffer = i % 2 ? a : b, c.dst_buffer = i % 2 ? b : a, c.size = 16 << 20;
    ASSERT_EQ(d.qvt()->enqueue_copy(d.queue, &c, done[i].completion()), PENG_OK);
  }
  auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(d.qvt()->wait_idle(d.queue, 5ull * 1000 * 1000 * 1000), PENG_OK);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed)
                  .count();
  EXPECT_LT(ms, 500.0) << "the lost device took " << ms << " ms to fail its work";
  int lost = 0;
  for (Done& x : done) {
    ASSERT_TRUE(x.status == PENG_OK || x.status == PENG_ERROR_DEVICE_LOST) << x.status;
    lost += x.status == PENG_ERROR_DEVICE_LOST;
  }
  EXPECT_GT(lost, 0);
  t_error.clear();
  EXPECT_EQ(d.vt()->check_health(d.device), PENG_ERROR_DEVICE_LOST);
  EXPECT_NE(t_error.find("killed by signal 9"), std::string::npos) << t_error;
  // Work enqueued after the loss fails too, through its completion.
  Done late;
  peng_hal_copy_t c{};
  c.src_buffer = a, c.dst_buffer = b, c.size = 8;
  ASSERT_EQ(d.qvt()->enqueue_copy(d.queue, &c, late.completion()), PENG_OK);
  EXPECT_EQ(late.Wait(), PENG_ERROR_DEVICE_LOST);
  peng_hal_buffer_t* more = nullptr;
  EXPECT_EQ(d.vt()->allocate(d.device, 8, &more), PENG_ERROR_DEVICE_LOST);
  Free(a);
  Free(b);
}

TEST(EmuHal, ServerThatCannotStartIsADeviceThatIsNotThere) {
  setenv("PENG_QEMU", "/nonexistent/qemu-riscv64", 1);
  peng_hal_device_params_t p{};
  p.name = "emu:test0";
  p.kind = PENG_DEVICE_NPU;
  p.memory_space = 1;
  p.set_error = SetError;
  peng_hal_device_t* device = nullptr;
  t_error.clear();
  EXPECT_EQ(peng_backend_emu_factory()->create_device(0, &p, &device), PENG_ERROR_DEVICE_LOST);
  unsetenv("PENG_QEMU");
  EXPECT_EQ(device, nullptr);
  EXPECT_NE(t_error.find("the device server could not start: /nonexistent/qemu-riscv64: No such "
                         "file or directory"),
            std::string::npos)
      << t_error;
}

// Which code an emu device takes: rvv ELF for riscv64, features QEMU's
// rv64gcv hart has, a VLEN range holding the device's (256 here).
TEST(EmuHal, SupportsOnlyRvvCodeItCanRun) {
  Device d;
  Open(&d, {{"vlen", "256"}});
  const char image[] = "\x7f" "ELF";
  auto supports = [&](const char* target, const char* arch, const char* features,
                      uint32_t min_vlen, uint32_t max_vlen) {
    peng_hal_executable_spec_t spec{};
    spec.target = target;
    spec.format = "elf";
    spec.code = image;
    spec.code_size = sizeof(image);
    spec.arch = arch;
    spec.features = features;
    spec.min_vlen = min_vlen;
    spec.max_vlen = max_vlen;
    int supported = -1;
    t_error.clear();
    EXPECT_EQ(d.vt()->supports(d.device, &spec, &supported), PENG_OK);
    return supported;
  };
  EXPECT_EQ(supports("rvv", "riscv64", "v", 0, 0), 1);
  EXPECT_EQ(supports("rvv", "riscv64", "v,zvl256b", 256, 256), 1);
  EXPECT_EQ(supports("host", "x86_64", "avx2", 0, 0), 0);
  EXPECT_TRUE(t_error.empty()) << "not our target: no reason needed, got " << t_error;
  EXPECT_EQ(supports("rvv", "x86_64", "v", 0, 0), 0);
  EXPECT_NE(t_error.find("an emu device runs riscv64"), std::string::npos) << t_error;
  EXPECT_EQ(supports("rvv", "riscv64", "v,zvl512b", 0, 0), 0);
  EXPECT_NE(t_error.find("needs zvl512b"), std::string::npos) << t_error;
  EXPECT_EQ(supports("rvv", "riscv64", "v,xtheadvector", 0, 0), 0);
  EXPECT_NE(t_error.find("needs xtheadvector"), std::string::npos) << t_error;
  EXPECT_EQ(supports("rvv", "riscv64", "v", 512, 1024), 0);
  EXPECT_NE(t_error.find("built for VLEN 512-1024, this device has 256"), std::string::npos)
      << t_error;
}

// A damaged image reaches the server's loader, which refuses it in words the
// user sees; the server lives on and the device stays healthy.
TEST(EmuHal, CorruptImageIsRefusedWithTheServersWords) {
  Device d;
  Open(&d);
  std::vector<unsigned char> image(4096, 0);
  std::memcpy(image.data(), "\x7f" "ELF", 4);
  peng_hal_entry_spec_t entry{};
  entry.name = "k";
  entry.symbol = "k";
  peng_hal_executable_spec_t spec{};
  spec.target = "rvv";
  spec.format = "elf";
  spec.code = image.data();
  spec.code_size = image.size();
  spec.arch = "riscv64";
  spec.features = "v";
  spec.entry_count = 1;
  spec.entries = &entry;
  peng_hal_executable_t* x = nullptr;
  t_error.clear();
  EXPECT_EQ(d.vt()->load_executable(d.device, &spec, &x), PENG_ERROR_CORRUPT_DATA);
  EXPECT_NE(t_error.find("could not load the kernels: kernel ELF: "), std::string::npos)
      << t_error;
  EXPECT_EQ(x, nullptr);
  EXPECT_EQ(d.vt()->check_health(d.device), PENG_OK);
  // The staging memory went back: the whole device memory is free again.
  peng_hal_buffer_t* all = Allocate(d, 1 << 20);
  EXPECT_TRUE(all);
  if (all) Free(all);
  peng_hal_dispatch_t dispatch{};
  Done done;
  EXPECT_EQ(d.qvt()->enqueue_dispatch(d.queue, &dispatch, done.completion()),
            PENG_ERROR_INVALID_ARGUMENT);
}

TEST(EmuHal, DestroyLeavesNoServerBehind) {
  pid_t pid;
  {
    Device d;
    Open(&d);
    pid = d.ServerPid();
    ASSERT_TRUE(ProcessExists(pid));
  }
  EXPECT_FALSE(ProcessExists(pid));  // reaped, not only signalled
}

// A host killed outright cannot shut its servers down: they notice and exit.
TEST(EmuHal, ServerExitsWhenItsHostIsKilled) {
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t host = fork();
  ASSERT_GE(host, 0);
  if (host == 0) {
    Device d;
    Open(&d);
    pid_t server = d.ServerPid();
    ssize_t ignored = write(report[1], &server, sizeof(server));
    (void)ignored;
    pause();
    _exit(0);
  }
  pid_t server = -1;
  ASSERT_EQ(read(report[0], &server, sizeof(server)), ssize_t(sizeof(server)));
  ASSERT_TRUE(ProcessExists(server));
  kill(host, SIGKILL);
  waitpid(host, nullptr, 0);
  // The server is the host's child, so init reaps it once it exits.
  bool gone = false;
  for (int i = 0; i < 3000 && !gone; ++i) {
    gone = !ProcessExists(server);
    if (!gone) usleep(1000);
  }
  EXPECT_TRUE(gone) << "server " << server << " outlived its host";
  if (!gone) kill(server, SIGKILL);
  close(report[0]);
  close(report[1]);
}

}  // namespace
