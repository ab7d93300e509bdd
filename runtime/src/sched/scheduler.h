// Scheduler: how graphs run. A submission becomes a Run with one dependency
// counter per task. Ready tasks go to queues chosen by the policy; each device
// keeps up to `capacity` tasks in flight, pulling the next one when a task
// completes, on the completing thread, with no scheduler thread in between.
// A thread waiting for a run runs the run's launches itself where the device
// allows it (the HAL queue slot `help`): the Run is its event's helper.
//
// Policies:
//   EXPLICIT       a task's placement, else the first device with code for it
//   EAGER          one central priority queue per set of capable devices; idle
//                  devices pull from it
//   WORK_STEALING  a ready task joins the queue of the device that released it;
//                  idle devices steal from the longest queue
//   COST_MODEL     dmda: the device with the earliest predicted finish, counting
//                  its backlog, the transfers of the task's inputs and the
//                  history model of (kernel, size, device); devices still
//                  calibrating get the task first
// A placement set on a task is honoured by every policy. A device never gets
// a kernel it has no code for, and a lost device gets nothing more.
//
// Device-side ordering: on a device whose queue chains work
// (PENG_HAL_QUEUE_ORDERING), a task whose predecessors were all enqueued on
// that device's queue is enqueued as soon as the last of them is, naming
// them as waits, instead of after their completions come back to the host.
// The usual path stays the fallback: a task starts early or normally, never
// both (Run::started), and a run that loses a device stops starting early.
//
// Errors: the first error of a run wins; the tasks depending on the failed
// one are cancelled (PENG_ERROR_CANCELLED), independent tasks still run.
//
// Lost devices: a task on a device that is lost runs again on a capable
// survivor. Data whose only valid copy was on a lost device is recomputed: a
// task that needs it runs its producer again first (recursively, if the
// producer's own inputs went too), and at the end of a run the last writers
// of lost results run again, so the run's outputs survive. A producer runs
// again only while its inputs and outputs are as it left them (no later
// writer of them has started) and a device may run it; else exactly the tasks
// that need the data fail with PENG_ERROR_DEVICE_LOST.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "base/adaptive_mutex.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "graph/event.h"
#include "graph/graph.h"
#include "peng/hal.h"

namespace peng::rt {

class Runtime;
class Buffer;
class Device;
class Scheduler;
struct Launch;

// Launches collected under the scheduler lock, started after it: inline for
// the usual handful, on the heap past that.
class LaunchList {
 public:
  void push_back(Launch* l) {
    if (size_ < kInline) inline_[size_] = l;
    else overflow_.push_back(l);
    ++size_;
  }
  size_t size() const { return size_; }
  Launch* operator[](size_t i) const { return i < kInline ? inline_[i] : overflow_[i - kInline]; }

 private:
  static constexpr size_t kInline = 16;
  Launch* inline_[kInline];
  std::vector<Launch*> overflow_;
  size_t size_ = 0;
};

// One submission of a graph. It is its event's helper: a thread waiting for
// the event runs the run's launches queued on devices that allow it.
struct Run final : Event::Helper {
  Scheduler* scheduler = nullptr;
  // Keeps the scheduler and devices there for a helping waiter that pins the
  // run after the graph let go (FinishRun drops `graph` before the event
  // completes, so that the user's last release of a graph frees it).
  Ref<Runtime> runtime;
  Ref<Graph> graph;
  Ref<Event> done;
  uint64_t id = 0;
  // Per task; `capacity` of each. A finished run is kept for the next
  // submission (Scheduler::spare_run_), arrays included.
  uint32_t capacity = 0;
  std::unique_ptr<std::atomic<uint32_t>[]> pending;
  std::unique_ptr<std::atomic<uint8_t>[]> cancelled;
  std::unique_ptr<std::atomic<uint8_t>[]> launched;  // started at least once (recompute's test)
  uint32_t remaining = 0;  // tasks not finished; guarded by the scheduler's mutex
  std::atomic<int32_t> start_pending{0};
  std::atomic<int> first_error{PENG_OK};
  std::string error_message;  // written once, by whoever set first_error
  std::atomic<uint32_t> pins{1};  // the scheduler's until FinishRun, and each helping waiter's

  // Device-side ordering, when some device's queue orders (else unused). Per
  // task: predecessors not yet enqueued on an ordering queue; the device they
  // went to (-1 none yet, -2 several); kNotStarted.. below; its launch's id.
  enum : uint8_t { kNotStarted, kStarted, kStartedEarly, kStartedEarlyPredsDone };
  bool ordered = false;
  std::atomic<bool> early_ok{false};  // cleared when the run loses a device
  uint32_t ordered_capacity = 0;
  std::unique_ptr<std::atomic<uint32_t>[]> unissued;
  std::unique_ptr<std::atomic<int32_t>[]> issue_device;
  std::unique_ptr<std::atomic<uint8_t>[]> started;
  std::unique_ptr<uint64_t[]> op_id;

  void Pin() override { pins.fetch_add(1, std::memory_order_relaxed); }
  void Unpin() override;
  bool Help() override;
};

class Scheduler {
 public:
  Scheduler(Runtime* runtime, peng_policy_t policy);
  ~Scheduler();

  void set_policy(peng_policy_t policy);
  peng_policy_t policy() const { return policy_.load(std::memory_order_relaxed); }

  Result<Ref<Event>> Submit(Graph* graph, const std::vector<Ref<Event>>& wait_events);
  Status WaitIdle(uint64_t timeout_ns);
  // Runs the run's launches waiting on devices that let this thread help;
  // returns whether any ran.
  bool HelpRun(Run* run);


 private:
  struct ReadyTask {
    Run* run;
    uint32_t index;
    int32_t priority;
    uint64_t seq;
    bool operator<(const ReadyTask& o) const {
      // priority_queue pops the largest: higher priority, then older.
      return priority != o.priority ? priority < o.priority : seq > o.seq;
    }
  };
  // Ready tasks by priority, FIFO within one priority. Graphs use few
  // distinct priorities, so a short list of FIFO buckets beats a heap: push
  // and pop are O(1) where a heap of a million tasks misses cache log n times.
  class Queue {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const ReadyTask& top() const { return buckets_[first_].second.front(); }
    void push(const ReadyTask& t) {
      size_t i = 0;
      while (i < buckets_.size() && buckets_[i].first > t.priority) ++i;
      if (i == buckets_.size() || buckets_[i].first != t.priority) {
        buckets_.emplace(buckets_.begin() + i, t.priority, std::deque<ReadyTask>());
        if (size_ && i <= first_) ++first_;
      }
      buckets_[i].second.push_back(t);
      if (size_ == 0 || i < first_) first_ = i;
      ++size_;
    }
    void pop() {
      buckets_[first_].second.pop_front();
      if (--size_ == 0) {
        // Emptied buckets stay: a chain empties and refills the queue at
        // every task, and a deque costs two allocations to make.
        if (buckets_.size() > 8) buckets_.clear();
        first_ = 0;
        return;
      }
      while (buckets_[first_].second.empty()) ++first_;
    }

   private:
    std::vector<std::pair<int32_t, std::deque<ReadyTask>>> buckets_;  // highest first
    size_t first_ = 0;  // first non-empty bucket, while size_ > 0
    size_t size_ = 0;
  };
  struct DeviceQueue {
    Device* device = nullptr;
    Queue queue;
    uint32_t inflight = 0;
    uint32_t capacity = 2;
    double backlog_us = 0;  // predicted work queued or running (cost policy)
    bool lost = false;
    std::atomic<uint64_t> next_op{1};  // peng_hal_dispatch_t.id
  };

  void StartRun(Run* run);
  void FinishRun(Run* run);
  // Pushes ready tasks and launches what devices can take now.
  void PushReady(Run* run, const uint32_t* indices, size_t count);
  void PushLocked(const ReadyTask& task);
  int ChooseDeviceLocked(const ReadyTask& task);
  bool PopLocked(uint32_t device, ReadyTask* out);
  void PumpAllLocked(LaunchList* launches);
  Launch* NewLaunchLocked(const ReadyTask& task, uint32_t device);
  void LaunchAll(LaunchList& launches);

  void Start(Launch* launch);
  void Dispatch(Launch* launch);
  static void OnHalDone(void* user, peng_status_t status);
  // After task `index` was enqueued on ordering device `device` as launch
  // `id`: enqueues the successors whose predecessors are now all there.
  void StartSuccessorsEarly(Run* run, const Graph& graph, uint32_t index, uint32_t device,
                            uint64_t id);
  // Release's test for a successor whose last predecessor finished: whether
  // the usual path starts it (false: it was enqueued early).
  static bool ClaimStart(Run* run, uint32_t task);
  // Device::Help's filter: the launches of the run `user`.
  static int TakeLaunchOf(void* run, const peng_hal_completion_t* completion);
  void Complete(Launch* launch, peng_status_t status, const char* why = nullptr);

  // Recomputing data lost with a device (see the top).
  bool DataLost(Buffer* buffer) const;
  static int64_t LastWriterBefore(const Graph& graph, const Buffer* buffer, uint32_t before);
  bool Recomputable(Run* run, uint32_t producer, uint32_t requester) const;
  // Runs `producers` of `run` again on capable survivors, then calls `done`
  // with the first failure or PENG_OK; false (and nothing started) when some
  // producer has no device left.
  bool StartRecomputes(Run* run, const std::vector<uint32_t>& producers, uint32_t requester,
                       std::function<void(peng_status_t)> done);
  void FinishRecompute(Launch* launch, peng_status_t status);
  // A launch whose inputs were lost: recomputes them and starts it again.
  bool RetryWithLostInputs(Launch* launch);
  // At the end of a run that lost a device: recomputes lost results; false
  // when there is nothing to do (the caller finishes the run).
  bool RepairRun(Run* run);
  static void SetError(Run* run, peng_status_t status, std::string message);
  // Task index finished (run or cancelled): releases successors into `ready`
  // and returns how many tasks finished (it and the successors it cancelled).
  uint32_t Release(Run* run, uint32_t index, bool failed, std::vector<uint32_t>* ready);
  double PredictUs(const Task& task, uint32_t device) const;
  // Predicted time to make a copy valid in `space`, given where it is valid.
  double TransferUs(uint64_t valid_mask, uint32_t space, uint64_t bytes) const;
  bool learning() const;

  Runtime* runtime_;
  std::atomic<peng_policy_t> policy_;
  mutable AdaptiveMutex mutex_;
  std::vector<std::unique_ptr<DeviceQueue>> devices_;
  std::vector<std::pair<uint64_t, Queue>> central_;  // EAGER: per capable-device mask
  uint64_t seq_ = 0;
  std::vector<Launch*> free_launches_;
  std::vector<Launch*> lost_launches_;  // ready tasks with no usable device left

  std::mutex sequence_mutex_;  // orders submissions that share buffers
  std::mutex idle_mutex_;
  std::condition_variable idle_cv_;
  std::atomic<uint64_t> active_runs_{0};
  std::atomic<uint64_t> next_run_id_{1};
  bool ordering_ = false;  // some device's queue orders on the device
  // The last finished run, reused by the next submission: re-running a graph
  // allocates no run and no per-task counters (only its event). Holds at
  // most the counters of one run, 5 bytes a task.
  std::atomic<Run*> spare_run_{nullptr};
  friend struct Run;
};

}  // namespace peng::rt
