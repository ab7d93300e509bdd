// Empty-command round trips through an emu device server's rings (see
// CMakeLists.txt). Each benchmark reports its median and p99 in µs as
// counters, from one sample per round trip; Google Benchmark's own time is
// the mean.
//
//   peng-bench-emu --benchmark_format=json --benchmark_out=emu.json
//   PENG_BENCH_EMU_SAMPLES=2000 (default 1000) round trips per benchmark
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "emu_channel.h"

namespace {

using Clock = std::chrono::steady_clock;

int Samples() {
  const char* s = std::getenv("PENG_BENCH_EMU_SAMPLES");
  return s ? std::max(1, std::atoi(s)) : 1000;
}

std::unique_ptr<peng::emu::EmuChannel> Start() {
  peng::emu::EmuServerConfig c;
  c.name = "bench";
  const char* qemu = std::getenv("PENG_QEMU");
  c.qemu = qemu && *qemu ? qemu : "qemu-riscv64";
  c.server = PENG_BENCH_EMU_SERVER;
  c.memory_bytes = 1 << 20;
  // PENG_BENCH_EMU_SPIN_US: the channel's spin before sleeping (0: futex only).
  if (const char* spin = std::getenv("PENG_BENCH_EMU_SPIN_US")) c.spin_us = uint32_t(std::atoi(spin));
  std::string error;
  auto channel = peng::emu::EmuChannel::Start(c, &error);
  if (!channel) fprintf(stderr, "peng-bench-emu: %s\n", error.c_str());
  return channel;
}

double RoundTripUs(peng::emu::EmuChannel& channel, uint64_t id) {
  peng_emu_command_t nop{};
  nop.op = PENG_EMU_OP_NOP;
  nop.id = id;
  auto start = Clock::now();
  channel.TrySubmit(nop);
  peng_emu_completion_t done;
  while (!channel.PopCompletion(&done)) channel.WaitForCompletion();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

void Report(benchmark::State& state, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  state.counters["median_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  state.counters["samples"] = double(us.size());
}

// Round trips with `idle_ms` of nothing between them (0: back to back).
void RoundTrip(benchmark::State& state) {
  auto channel = Start();
  if (!channel) {
    state.SkipWithError("the device server did not start");
    return;
  }
  int idle_ms = int(state.range(0));
  std::vector<double> us;
  uint64_t id = 0;
  for (int i = 0; i < 20; ++i) RoundTripUs(*channel, ++id);  // warm: code translated
  for (auto _ : state) {
    int n = idle_ms ? std::max(1, Samples() / 20) : Samples();
    for (int i = 0; i < n; ++i) {
      if (idle_ms) std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
      double t = RoundTripUs(*channel, ++id);
      us.push_back(t);
    }
    state.SetIterationTime(0);
  }
  Report(state, us);
}
BENCHMARK(RoundTrip)->Arg(0)->Arg(10)->ArgName("idle_ms")->Iterations(1)->UseManualTime();

// CPU seconds (user + system) the server's process has used, from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// The server's CPU time over two seconds of idling after some work.
void IdleServerCpu(benchmark::State& state) {
  auto channel = Start();
  if (!channel) {
    state.SkipWithError("the device server did not start");
    return;
  }
  for (int i = 0; i < 100; ++i) RoundTripUs(*channel, i + 1);
  double seconds = 2, used = 0;
  for (auto _ : state) {
    double before = CpuSeconds(channel->pid());
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    used = CpuSeconds(channel->pid()) - before;
    state.SetIterationTime(seconds);
  }
  state.counters["idle_cpu_ms_per_s"] = used * 1000 / seconds;
  state.counters["clock_tick_ms"] = 1000.0 / double(sysconf(_SC_CLK_TCK));
}
BENCHMARK(IdleServerCpu)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
