// EmuChannel: one running device server and the region shared with it: the
// process (started under qemu-riscv64, watched through a pidfd), the command
// and completion rings, and device memory. The HAL device (emu_device.cpp)
// builds on it; tests drive it directly.
//
//   EmuServerConfig config;
//   config.qemu = "qemu-riscv64";  config.server = ".../peng-emu-server";
//   config.memory_bytes = 64 << 20;
//   std::string error;
//   auto channel = EmuChannel::Start(config, &error);   // nullptr + error on failure
//   channel->TrySubmit({PENG_EMU_OP_NOP, 0, /*id=*/1});
//   peng_emu_completion_t done;
//   while (!channel->PopCompletion(&done)) channel->WaitForCompletion();
//
// Threading: one thread submits at a time and one pops at a time (the rings
// are single producer, single consumer); Interrupt, Exited and Kill may be
// called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emu_protocol.h"

namespace peng::emu {

struct EmuServerConfig {
  std::string name = "emu";  // for messages and the memfd's name
  std::string qemu;          // a path, or a name looked up in PATH
  std::string server;        // the riscv64 server executable
  uint32_t vlen = 256;       // bits
  uint32_t harts = 1;
  uint64_t memory_bytes = 64ull << 20;
  uint32_t start_timeout_ms = 30000;
  // Both sides look for the next entry this long before they sleep on the
  // doorbell: back-to-back commands then cost no wake-up.
  uint32_t spin_us = 5;
  std::vector<std::string> qemu_args;    // before the server (a plugin, -d ...)
  std::vector<std::string> server_args;  // after --fd (test hooks: --hang-dispatch N)
};

class EmuChannel {
 public:
  // Starts the server and waits until it is ready; on failure returns nullptr
  // and says why in *error.
  static std::unique_ptr<EmuChannel> Start(const EmuServerConfig& config, std::string* error);
  // Shuts the server down (SHUTDOWN, then SIGKILL if it does not exit within
  // a second) and reaps it.
  ~EmuChannel();
  EmuChannel(const EmuChannel&) = delete;
  EmuChannel& operator=(const EmuChannel&) = delete;

  uint8_t* memory() const { return memory_; }
  uint64_t memory_size() const { return header_->memory_size; }
  const peng_emu_header_t& header() const { return *header_; }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }
  const std::string& qemu_path() const { return qemu_path_; }
  uint32_t ring_entries() const { return header_->ring_entries; }
  // The argument slot of the command the next TrySubmit publishes: fill it
  // first (the same thread, before TrySubmit).
  uint8_t* next_args() const {
    uint64_t slot = header_->command_ring.head & (header_->ring_entries - 1);
    return args_ + slot * PENG_EMU_ARG_SLOT_BYTES;
  }

  // Publishes a command and rings the doorbell if the server sleeps; false
  // when the command ring is full.
  bool TrySubmit(const peng_emu_command_t& command);
  // Takes the next completion, if any.
  bool PopCompletion(peng_emu_completion_t* out);
  // Sleeps until a completion may be there, or Interrupt() was called.
  void WaitForCompletion();
  // Releases WaitForCompletion now and on every later call, for good.
  void Interrupt();

  // Whether the server has exited; reaps it then, once, and keeps how
  // ("killed by signal 9"). Does not block.
  bool Exited();
  std::string exit_reason();
  void Kill();

 private:
  EmuChannel() = default;
  bool WaitForExit(int timeout_ms);

  int memfd_ = -1;
  int pidfd_ = -1;
  pid_t pid_ = -1;
  void* base_ = nullptr;
  uint64_t region_size_ = 0;
  peng_emu_header_t* header_ = nullptr;
  peng_emu_command_t* commands_ = nullptr;
  peng_emu_completion_t* completions_ = nullptr;
  uint8_t* args_ = nullptr;
  uint8_t* memory_ = nullptr;
  std::string qemu_path_;
  std::atomic<bool> interrupted_{false};
  uint32_t spin_us_ = 0;
  std::mutex reap_mutex_;
  bool reaped_ = false;
  std::string exit_reason_;
};

// Resolves qemu-riscv64 as a shell would: a name with a '/' as it is, else the
// first executable of that name in PATH. Empty and *error on failure.
std::string FindExecutable(const std::string& name, std::string* error);

}  // namespace peng::emu
