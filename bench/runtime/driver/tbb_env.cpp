#include "driver/tbb_env.h"

#include <memory>

#include "driver/harness.h"

namespace peng_bench {
namespace {
std::unique_ptr<tbb::task_arena> g_arena;
}  // namespace

TbbScope::TbbScope()
    : limit_(tbb::global_control::max_allowed_parallelism, size_t(kThreads)) {}

tbb::task_arena& TbbScope::arena() {
  if (!g_arena) g_arena = std::make_unique<tbb::task_arena>(kThreads, /*reserved_for_masters=*/1);
  return *g_arena;
}

void ShutdownTbb() { g_arena.reset(); }

}  // namespace peng_bench
