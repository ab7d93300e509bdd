#include "driver/fresh_process.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern char** environ;

namespace peng_bench {
namespace {

constexpr const char* kChildEnv = "PENG_BENCH_MEMORY_CHILD";

struct Outcome {
  std::vector<std::pair<std::string, double>> results;
  std::string label;
};

Outcome MeasureHere(const NamedMeasurement& m) {
  PerTaskMemory memory(TaskCount());
  m.fn(memory, TaskCount());
  return {memory.results(), memory.label()};
}

// Runs the measurement in a child; false if the child could not be started.
bool MeasureInChild(const NamedMeasurement& m, Outcome* out) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, kChildEnv, std::strlen(kChildEnv)) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back(std::string(kChildEnv) + "=" + m.name);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid;
  int rc = posix_spawn(&pid, exe, &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return false;
  }
  std::string text;
  char buf[4096];
  ssize_t got;
  while ((got = read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, size_t(got));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);

  std::string error;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "error") error = value;
    else if (key == "label") out->label = value;
    else out->results.emplace_back(key, std::strtod(value.c_str(), nullptr));
  }
  if (!error.empty()) throw BenchError(error);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out->results.empty()) {
    throw BenchError(std::string("the measurement process for ") + m.name + " failed");
  }
  return true;
}

}  // namespace

void MemoryBenchmark(benchmark::State& state, const NamedMeasurement& m) {
  RunGuarded(state, [&] {
    const char* in_process = std::getenv("PENG_BENCH_MEMORY_IN_PROCESS");
    for (auto _ : state) {
      Outcome outcome;
      if ((in_process && *in_process == '1') || !MeasureInChild(m, &outcome)) {
        outcome = MeasureHere(m);
      }
      for (const auto& [key, value] : outcome.results) {
        state.counters[key] = benchmark::Counter(value);
      }
      if (!outcome.label.empty()) state.SetLabel(outcome.label);
    }
  });
}

bool RunIfMemoryChild(const std::vector<NamedMeasurement>& table, int* exit_code) {
  const char* name = std::getenv(kChildEnv);
  if (!name || !*name) return false;
  *exit_code = 1;
  for (const NamedMeasurement& m : table) {
    if (std::strcmp(m.name, name) != 0) continue;
    try {
      Outcome outcome = MeasureHere(m);
      for (const auto& [key, value] : outcome.results) {
        std::printf("%s=%.17g\n", key.c_str(), value);
      }
      if (!outcome.label.empty()) std::printf("label=%s\n", outcome.label.c_str());
      *exit_code = 0;
    } catch (const std::exception& e) {
      std::string msg = e.what();
      for (char& c : msg) {
        if (c == '\n') c = ' ';
      }
      std::printf("error=%s\n", msg.c_str());
    }
    std::fflush(stdout);
    return true;
  }
  std::printf("error=no memory measurement named %s\n", name);
  return true;
}

}  // namespace peng_bench
