// TaskGraph: what to run. Tasks name a kernel, tensor arguments and scalar
// constants; dependencies follow from the kernel's access modes in the order
// tasks are added (read after write, write after read, write after write), and
// from explicit edges. The Scheduler runs it; a graph only describes.
//
// Memory matters here (a graph may hold millions of tasks): a task is a fixed
// 64-byte record, its arguments and constants live in shared arrays, and the
// edges become one CSR array when the graph is first submitted.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "graph/event.h"
#include "peng/peng.h"

namespace peng::rt {

class Runtime;
class Kernel;
class Buffer;

struct TaskArg {
  Buffer* buffer;  // the graph holds a reference in buffers_
  peng_access_t access;
  uint32_t rank;
  int64_t shape[PENG_MAX_RANK];
  uint64_t bytes;
};

struct Task {
  Kernel* kernel;       // the graph holds a reference in kernels_
  uint32_t arg_begin;   // into args_
  uint32_t const_begin; // into constants_
  uint16_t arg_count;
  uint16_t const_count;
  int32_t priority;
  int32_t device;       // placement, -1 for none
  uint32_t bucket;      // size bucket for the history models
  uint32_t workgroups[3];
  uint32_t pred_count;  // filled by Finalize
  uint32_t succ_begin;  // into succ_, filled by Finalize
  float flops;
  float bytes;
};
static_assert(sizeof(Task) <= 64, "keep tasks small: graphs hold millions");

class Graph : public RefCounted<Graph> {
 public:
  explicit Graph(Runtime* runtime);

  Runtime* runtime() const { return runtime_; }
  Result<uint32_t> AddTask(Kernel* kernel, const peng_tensor_arg_t* args, uint32_t arg_count,
                           const int64_t* constants, uint32_t constant_count,
                           const peng_task_options_t* options);
  Status AddEdge(uint32_t before, uint32_t after);
  uint32_t task_count() const { return uint32_t(tasks_.size()); }

  // Builds successor lists and per-buffer modes if the graph changed.
  // Returns an error while a submission of the graph still runs and the graph changed.
  Status Finalize();

  const Task& task(uint32_t i) const { return tasks_[i]; }
  const TaskArg* args(const Task& t) const { return args_.data() + t.arg_begin; }
  const int64_t* constants(const Task& t) const { return constants_.data() + t.const_begin; }
  const uint32_t* successors(uint32_t i) const { return succ_.data() + tasks_[i].succ_begin; }
  uint32_t successor_count(uint32_t i) const {
    uint32_t end = i + 1 < tasks_.size() ? tasks_[i + 1].succ_begin : uint32_t(succ_.size());
    return end - tasks_[i].succ_begin;
  }
  // Built only where some device orders on the device (Scheduler's early starts).
  const uint32_t* predecessors(uint32_t i) const { return pred_.data() + pred_begin_[i]; }
  uint32_t predecessor_count(uint32_t i) const { return pred_begin_[i + 1] - pred_begin_[i]; }
  const std::vector<uint32_t>& roots() const { return roots_; }
  // Buffers the graph touches and whether any task writes them.
  const std::vector<std::pair<Buffer*, bool>>& buffer_modes() const { return buffer_modes_; }

  std::atomic<uint32_t>& running() { return running_; }

 private:
  struct Tracker {
    int64_t last_writer = -1;
    std::vector<uint32_t> readers;
    bool writes = false;
  };
  Status CheckMutable() const;

  Ref<Runtime> runtime_ref_;
  Runtime* runtime_;
  std::vector<Task> tasks_;
  std::vector<TaskArg> args_;
  std::vector<int64_t> constants_;
  std::vector<std::pair<uint32_t, uint32_t>> edges_;
  std::vector<Ref<Kernel>> kernels_;
  std::vector<Ref<Buffer>> buffers_;
  std::unordered_map<Buffer*, Tracker> trackers_;
  Kernel* last_kernel_ = nullptr;  // skips the kernels_ scan for runs of one kernel

  bool finalized_ = false;
  std::vector<uint32_t> succ_;
  std::vector<uint32_t> pred_;        // for device-side ordering's wait lists
  std::vector<uint32_t> pred_begin_;  // n + 1 offsets into pred_
  std::vector<uint32_t> roots_;
  std::vector<std::pair<Buffer*, bool>> buffer_modes_;
  std::atomic<uint32_t> running_{0};
};

template <>
struct HandleTraits<Graph> {
  static constexpr HandleType kType = HandleType::kGraph;
};

}  // namespace peng::rt
