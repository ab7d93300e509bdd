// The device server through its rings alone (no HAL): it starts under
// qemu-riscv64, reports the VLEN QEMU gave it, executes NOP, COPY and FILL on
// device memory, rejects out-of-bounds commands, exits on SHUTDOWN, and its
// start failures say why.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "emu_channel.h"

namespace peng::emu {
namespace {

EmuServerConfig Config(uint32_t vlen = 256) {
  EmuServerConfig c;
  c.name = "test";
  c.qemu = PENG_TEST_QEMU;
  c.server = PENG_TEST_EMU_SERVER;
  c.vlen = vlen;
  c.memory_bytes = 1 << 20;
  return c;
}

peng_emu_completion_t RunOne(EmuChannel& channel, peng_emu_command_t command) {
  EXPECT_TRUE(channel.TrySubmit(command));
  peng_emu_completion_t done{};
  while (!channel.PopCompletion(&done)) channel.WaitForCompletion();
  return done;
}

peng_emu_command_t Command(uint32_t op, uint64_t id, uint64_t dst = 0, uint64_t src = 0,
                           uint64_t size = 0, uint64_t value = 0, uint32_t pattern_size = 1) {
  peng_emu_command_t c{};
  c.op = op;
  c.id = id;
  c.dst = dst;
  c.src = src;
  c.size = size;
  c.value = value;
  c.pattern_size = pattern_size;
  return c;
}

TEST(EmuChannel, StartsAndReportsTheVlenQemuGaveIt) {
  for (uint32_t vlen : {128u, 512u}) {
    std::string error;
    auto channel = EmuChannel::Start(Config(vlen), &error);
    ASSERT_TRUE(channel) << error;
    EXPECT_EQ(channel->header().vlenb * 8, vlen);
    EXPECT_EQ(channel->header().server_pid, uint32_t(channel->pid()));
    EXPECT_EQ(channel->memory_size(), 1u << 20);
  }
}

TEST(EmuChannel, NopCopyAndFill) {
  std::string error;
  auto channel = EmuChannel::Start(Config(), &error);
  ASSERT_TRUE(channel) << error;
  uint8_t* mem = channel->memory();
  for (int i = 0; i < 1000; ++i) mem[i] = uint8_t(i * 7 + 1);

  peng_emu_completion_t done = RunOne(*channel, Command(PENG_EMU_OP_NOP, 41));
  EXPECT_EQ(done.id, 41u);
  EXPECT_EQ(done.status, PENG_EMU_STATUS_OK);

  // An odd size to an odd offset, overlapping nothing.
  done = RunOne(*channel, Command(PENG_EMU_OP_COPY, 42, 4099, 3, 997));
  EXPECT_EQ(done.id, 42u);
  EXPECT_EQ(done.status, PENG_EMU_STATUS_OK);
  for (int i = 0; i < 997; ++i) ASSERT_EQ(mem[4099 + i], uint8_t((i + 3) * 7 + 1)) << i;

  // Overlapping: memmove semantics.
  done = RunOne(*channel, Command(PENG_EMU_OP_COPY, 43, 10, 0, 100));
  EXPECT_EQ(done.status, PENG_EMU_STATUS_OK);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(mem[10 + i], uint8_t(i * 7 + 1)) << i;

  done = RunOne(*channel, Command(PENG_EMU_OP_FILL, 44, 8193, 0, 333, 0xab, 1));
  EXPECT_EQ(done.status, PENG_EMU_STATUS_OK);
  for (int i = 0; i < 333; ++i) ASSERT_EQ(mem[8193 + i], 0xab) << i;
  EXPECT_NE(mem[8192], 0xab);
  EXPECT_NE(mem[8193 + 333], 0xab);

  uint32_t pattern = 0x3f800000;  // 1.0f
  done = RunOne(*channel, Command(PENG_EMU_OP_FILL, 45, 16384, 0, 4 * 37, pattern, 4));
  EXPECT_EQ(done.status, PENG_EMU_STATUS_OK);
  for (int i = 0; i < 37; ++i) {
    float f;
    std::memcpy(&f, mem + 16384 + 4 * i, 4);
    ASSERT_EQ(f, 1.0f) << i;
  }
}

TEST(EmuChannel, RejectsCommandsOutsideDeviceMemory) {
  std::string error;
  auto channel = EmuChannel::Start(Config(), &error);
  ASSERT_TRUE(channel) << error;
  uint64_t size = channel->memory_size();
  EXPECT_EQ(RunOne(*channel, Command(PENG_EMU_OP_COPY, 1, size - 10, 0, 11)).status,
            PENG_EMU_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(RunOne(*channel, Command(PENG_EMU_OP_COPY, 2, 0, UINT64_MAX - 5, 10)).status,
            PENG_EMU_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(RunOne(*channel, Command(PENG_EMU_OP_FILL, 3, 0, 0, 6, 0, 4)).status,
            PENG_EMU_STATUS_INVALID_ARGUMENT);  // not a whole number of patterns
  EXPECT_EQ(RunOne(*channel, Command(99, 4)).status, PENG_EMU_STATUS_UNIMPLEMENTED);
  // Still serving.
  EXPECT_EQ(RunOne(*channel, Command(PENG_EMU_OP_NOP, 5)).status, PENG_EMU_STATUS_OK);
}

TEST(EmuChannel, ManyCommandsWrapTheRings) {
  std::string error;
  auto channel = EmuChannel::Start(Config(), &error);
  ASSERT_TRUE(channel) << error;
  // Keeps the ring full, so that both cursors wrap many times.
  uint64_t submitted = 0, completed = 0, total = 20 * PENG_EMU_RING_ENTRIES;
  while (completed < total) {
    while (submitted < total && submitted - completed < PENG_EMU_RING_ENTRIES &&
           channel->TrySubmit(Command(PENG_EMU_OP_NOP, submitted + 1))) {
      ++submitted;
    }
    peng_emu_completion_t done;
    if (channel->PopCompletion(&done)) {
      ASSERT_EQ(done.id, completed + 1);  // the server completes in order
      ++completed;
    } else {
      channel->WaitForCompletion();
    }
  }
  EXPECT_EQ(channel->header().commands_done, total);
}

TEST(EmuChannel, ShutdownEndsTheServer) {
  std::string error;
  auto channel = EmuChannel::Start(Config(), &error);
  ASSERT_TRUE(channel) << error;
  EXPECT_EQ(RunOne(*channel, Command(PENG_EMU_OP_SHUTDOWN, 9)).status, PENG_EMU_STATUS_OK);
  for (int i = 0; i < 2000 && !channel->Exited(); ++i) usleep(1000);
  ASSERT_TRUE(channel->Exited());
  EXPECT_EQ(channel->exit_reason(), "exited with status 0");
}

TEST(EmuChannel, KilledServerIsNoticedThroughItsPidfd) {
  std::string error;
  auto channel = EmuChannel::Start(Config(), &error);
  ASSERT_TRUE(channel) << error;
  ASSERT_EQ(kill(channel->pid(), SIGKILL), 0);
  for (int i = 0; i < 2000 && !channel->Exited(); ++i) usleep(1000);
  ASSERT_TRUE(channel->Exited());
  EXPECT_NE(channel->exit_reason().find("signal 9"), std::string::npos) << channel->exit_reason();
}

TEST(EmuChannel, StartFailuresSayWhy) {
  std::string error;
  EmuServerConfig c = Config();
  c.qemu = "/nonexistent/qemu-riscv64";
  EXPECT_FALSE(EmuChannel::Start(c, &error));
  EXPECT_NE(error.find("/nonexistent/qemu-riscv64: No such file"), std::string::npos) << error;

  c = Config();
  c.qemu = "peng-no-such-qemu";
  EXPECT_FALSE(EmuChannel::Start(c, &error));
  EXPECT_NE(error.find("peng-no-such-qemu not found in PATH"), std::string::npos) << error;

  c = Config();
  c.server = "/nonexistent/peng-emu-server";
  EXPECT_FALSE(EmuChannel::Start(c, &error));
  EXPECT_NE(error.find("device server /nonexistent/peng-emu-server"), std::string::npos) << error;

  // Not a riscv64 program: QEMU refuses it and exits before the server is ready.
  c = Config();
  c.server = "/bin/true";
  EXPECT_FALSE(EmuChannel::Start(c, &error));
  EXPECT_NE(error.find("before it was ready"), std::string::npos) << error;

  // A VLEN QEMU does not take.
  c = Config(/*vlen=*/100);
  EXPECT_FALSE(EmuChannel::Start(c, &error));
  EXPECT_NE(error.find("before it was ready"), std::string::npos) << error;
}

}  // namespace
}  // namespace peng::emu
