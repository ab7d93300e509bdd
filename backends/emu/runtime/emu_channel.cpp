#include "emu_channel.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

extern char** environ;

namespace peng::emu {

namespace {

long Futex(uint32_t* word, int op, uint32_t value, const struct timespec* timeout = nullptr) {
  return syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

std::string Errno(int e) { return std::strerror(e); }

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "ended (wait status " + std::to_string(status) + ")";
}

}  // namespace

std::string FindExecutable(const std::string& name, std::string* error) {
  auto usable = [](const std::string& path) { return access(path.c_str(), X_OK) == 0; };
  if (name.find('/') != std::string::npos) {
    if (usable(name)) return name;
    *error = name + ": " + Errno(errno);
    return {};
  }
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t begin = 0; begin <= dirs.size();) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(begin, end - begin);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (usable(candidate)) return candidate;
    begin = end + 1;
  }
  *error = name + " not found in PATH (install qemu-user, or set PENG_QEMU)";
  return {};
}

std::unique_ptr<EmuChannel> EmuChannel::Start(const EmuServerConfig& config, std::string* error) {
  std::unique_ptr<EmuChannel> c(new EmuChannel());
  c->qemu_path_ = FindExecutable(config.qemu, error);
  if (c->qemu_path_.empty()) return nullptr;
  if (access(config.server.c_str(), R_OK) != 0) {
    *error = "device server " + config.server + ": " + Errno(errno) +
             " (build the peng_emu_server target, or set PENG_EMU_SERVER)";
    return nullptr;
  }
  if (config.memory_bytes == 0 || config.memory_bytes > (1ull << 40)) {
    *error = "device memory of " + std::to_string(config.memory_bytes) + " bytes is out of range";
    return nullptr;
  }

  // CLOEXEC, so that no other fork of this process inherits the region: only
  // the server's child clears it on its own copy, just before exec.
  std::string memfd_name = "peng-emu:" + config.name;
  c->memfd_ = memfd_create(memfd_name.c_str(), MFD_CLOEXEC);
  if (c->memfd_ < 0) {
    *error = "memfd_create: " + Errno(errno);
    return nullptr;
  }
  uint64_t memory_size = peng_emu_align_up(config.memory_bytes, PENG_EMU_MEMORY_ALIGN);
  c->region_size_ = peng_emu_memory_offset() + memory_size;
  if (ftruncate(c->memfd_, off_t(c->region_size_)) != 0) {
    *error = "sizing the device memory (" + std::to_string(c->region_size_) + " bytes): " +
             Errno(errno);
    return nullptr;
  }
  c->base_ = mmap(nullptr, c->region_size_, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd_, 0);
  if (c->base_ == MAP_FAILED) {
    c->base_ = nullptr;
    *error = "mapping the device memory: " + Errno(errno);
    return nullptr;
  }
  auto* base = static_cast<uint8_t*>(c->base_);
  c->header_ = reinterpret_cast<peng_emu_header_t*>(base);
  peng_emu_header_t& h = *c->header_;
  h.magic = PENG_EMU_MAGIC;
  h.version = PENG_EMU_VERSION;
  h.ring_entries = PENG_EMU_RING_ENTRIES;
  h.header_size = sizeof(peng_emu_header_t);
  h.commands_offset = peng_emu_commands_offset();
  h.completions_offset = peng_emu_completions_offset();
  h.args_offset = peng_emu_args_offset();
  h.memory_offset = peng_emu_memory_offset();
  h.memory_size = memory_size;
  h.region_size = c->region_size_;
  h.host_pid = uint32_t(getpid());
  h.harts = config.harts;
  c->commands_ = reinterpret_cast<peng_emu_command_t*>(base + h.commands_offset);
  c->completions_ = reinterpret_cast<peng_emu_completion_t*>(base + h.completions_offset);
  c->args_ = base + h.args_offset;
  c->memory_ = base + h.memory_offset;

  // Everything the child needs is prepared before fork: between fork and exec
  // a multi-threaded parent's child may only make async-signal-safe calls.
  std::string cpu = "rv64,v=true,vlen=" + std::to_string(config.vlen) + ",vext_spec=v1.0";
  std::string fd_text = std::to_string(c->memfd_);
  std::vector<std::string> args = {c->qemu_path_, "-cpu", cpu};
  args.insert(args.end(), config.qemu_args.begin(), config.qemu_args.end());
  args.insert(args.end(), {config.server, "--fd", fd_text, "--spin-us",
                           std::to_string(config.spin_us)});
  c->spin_us_ = config.spin_us;
  args.insert(args.end(), config.server_args.begin(), config.server_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // exec's failure comes back through this pipe; a successful exec closes it.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    *error = "pipe2: " + Errno(errno);
    return nullptr;
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(report[0]);
    close(report[1]);
    *error = "fork: " + Errno(e);
    return nullptr;
  }
  if (pid == 0) {
    int memfd = c->memfd_;
    int flags = fcntl(memfd, F_GETFD);
    if (flags >= 0) fcntl(memfd, F_SETFD, flags & ~FD_CLOEXEC);
    execve(argv[0], argv.data(), environ);
    int e = errno;
    ssize_t ignored = write(report[1], &e, sizeof(e));
    (void)ignored;
    _exit(127);
  }
  close(report[1]);
  c->pid_ = pid;
  c->pidfd_ = int(syscall(SYS_pidfd_open, pid, 0));
  int exec_errno = 0;
  ssize_t n;
  do n = read(report[0], &exec_errno, sizeof(exec_errno));
  while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == ssize_t(sizeof(exec_errno))) {
    while (!c->Exited()) usleep(1000);  // the child's _exit(127) is immediate
    *error = "cannot run " + c->qemu_path_ + ": " + Errno(exec_errno);
    return nullptr;
  }
  if (c->pidfd_ < 0) {
    *error = "pidfd_open: " + Errno(errno) + " (the emu backend needs Linux 5.3 or later)";
    c->Kill();
    return nullptr;
  }

  // Wait for READY, watching for an early exit (a bad binary, QEMU refusing
  // the -cpu options).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.start_timeout_ms);
  for (;;) {
    uint32_t state = __atomic_load_n(&h.server_state, __ATOMIC_ACQUIRE);
    if (state == PENG_EMU_STATE_READY) break;
    if (state == PENG_EMU_STATE_FAILED) {
      *error = "the device server refused the region: " +
               std::string(h.error_text, strnlen(h.error_text, sizeof(h.error_text)));
      c->Kill();
      return nullptr;
    }
    if (c->Exited()) {
      *error = "the device server (" + c->qemu_path_ + " " + config.server + ") " +
               c->exit_reason() + " before it was ready";
      return nullptr;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *error = "the device server was not ready after " +
               std::to_string(config.start_timeout_ms) + " ms";
      c->Kill();
      return nullptr;
    }
    struct timespec wait = {0, 20 * 1000 * 1000};
    Futex(&h.server_state, FUTEX_WAIT, state, &wait);
  }
  return c;
}

EmuChannel::~EmuChannel() {
  if (pid_ > 0 && !Exited()) {
    peng_emu_command_t shutdown{};
    shutdown.op = PENG_EMU_OP_SHUTDOWN;
    if (!TrySubmit(shutdown) || !WaitForExit(1000)) Kill();
  }
  if (pidfd_ >= 0) close(pidfd_);
  if (base_) munmap(base_, region_size_);
  if (memfd_ >= 0) close(memfd_);
}

bool EmuChannel::TrySubmit(const peng_emu_command_t& command) {
  peng_emu_ring_t& ring = header_->command_ring;
  uint64_t head = ring.head;
  if (head - __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE) >= header_->ring_entries) return false;
  commands_[head & (header_->ring_entries - 1)] = command;
  __atomic_store_n(&ring.head, head + 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&ring.sleeping, __ATOMIC_SEQ_CST)) {
    __atomic_add_fetch(&ring.doorbell, 1, __ATOMIC_SEQ_CST);
    Futex(&ring.doorbell, FUTEX_WAKE, 1);
  }
  return true;
}

bool EmuChannel::PopCompletion(peng_emu_completion_t* out) {
  peng_emu_ring_t& ring = header_->completion_ring;
  uint64_t tail = ring.tail;
  if (__atomic_load_n(&ring.head, __ATOMIC_ACQUIRE) == tail) return false;
  *out = completions_[tail & (header_->ring_entries - 1)];
  __atomic_store_n(&ring.tail, tail + 1, __ATOMIC_RELEASE);
  return true;
}

void EmuChannel::WaitForCompletion() {
  peng_emu_ring_t& ring = header_->completion_ring;
  uint64_t tail = ring.tail;
  if (spin_us_) {
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
    do {
      for (int i = 0; i < 64; ++i) {
        if (__atomic_load_n(&ring.head, __ATOMIC_ACQUIRE) != tail ||
            interrupted_.load(std::memory_order_relaxed)) {
          return;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      // The server may share this CPU: let it run.
      sched_yield();
    } while (std::chrono::steady_clock::now() < until);
  }
  uint32_t bell = __atomic_load_n(&ring.doorbell, __ATOMIC_ACQUIRE);
  __atomic_store_n(&ring.sleeping, 1, __ATOMIC_SEQ_CST);
  // Interrupt() bumps the doorbell after setting the flag, so checking the
  // flag after reading the bell cannot miss it.
  if (__atomic_load_n(&ring.head, __ATOMIC_SEQ_CST) == tail &&
      !interrupted_.load(std::memory_order_seq_cst)) {
    Futex(&ring.doorbell, FUTEX_WAIT, bell);
  }
  __atomic_store_n(&ring.sleeping, 0, __ATOMIC_RELAXED);
}

void EmuChannel::Interrupt() {
  interrupted_.store(true, std::memory_order_seq_cst);
  __atomic_add_fetch(&header_->completion_ring.doorbell, 1, __ATOMIC_SEQ_CST);
  Futex(&header_->completion_ring.doorbell, FUTEX_WAKE, INT32_MAX);
}

bool EmuChannel::Exited() {
  std::lock_guard<std::mutex> lock(reap_mutex_);
  if (reaped_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  reaped_ = true;
  exit_reason_ = r == pid_ ? DescribeWaitStatus(status) : "is gone (" + Errno(errno) + ")";
  return true;
}

std::string EmuChannel::exit_reason() {
  std::lock_guard<std::mutex> lock(reap_mutex_);
  return exit_reason_;
}

bool EmuChannel::WaitForExit(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!Exited()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd p = {pidfd_, POLLIN, 0};
    poll(&p, 1, int(left.count()));
  }
  return true;
}

void EmuChannel::Kill() {
  if (pid_ <= 0 || Exited()) return;
  // Through the pidfd: the pid cannot have been reused while we hold it.
  if (pidfd_ >= 0) {
    syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
  } else {
    kill(pid_, SIGKILL);
  }
  WaitForExit(5000);
}

}  // namespace peng::emu
