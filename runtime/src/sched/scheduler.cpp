#include "sched/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/clock.h"
#include "graph/module.h"
#include "hal/device.h"
#include "memory/buffer.h"
#include "runtime.h"
#include "sched/perf_model.h"
#include "trace/trace.h"

namespace peng::rt {

// One task in flight on one device. Pooled: a run of a million tasks reuses a
// few dozen of these.
struct Launch {
  Scheduler* scheduler;
  Run* run;
  uint32_t index;
  uint32_t device;
  double predicted_us;
  bool measure;  // timestamps wanted (models learning, or tracing)
  bool early;    // enqueued before its predecessors completed (device-side ordering)
  uint64_t enqueue_ns;
  uint64_t timestamps[2];
  std::atomic<uint32_t> acquires_pending;
  std::atomic<int> acquire_error;
  peng_hal_dispatch_t dispatch;
  std::vector<peng_hal_buffer_t*> buffers;
  std::vector<void*> slots;
  std::vector<uint64_t> sizes;
  std::vector<const int64_t*> shapes;
  std::vector<uint32_t> ranks;
  std::vector<uint64_t> waits;  // device-side ordering: launches this one waits for
  // A recompute (a producer run again for data lost with a device): who
  // waits for it. Null for the run's own launches.
  std::shared_ptr<struct RecomputeWaiter> recompute;
  uint8_t recompute_rounds;  // times this launch had its lost inputs recomputed
};

// Recomputes started together, and what runs when the last is done.
struct RecomputeWaiter {
  std::atomic<uint32_t> pending{0};
  std::atomic<int> error{PENG_OK};
  std::function<void(peng_status_t)> done;
};

namespace {
// The device whose completion this thread is handling: work stealing keeps
// released tasks there, for locality.
thread_local int t_current_device = -1;
// Reused per thread: successors released by one completion.
thread_local std::vector<uint32_t> t_ready;
// Launches started from inside a launch on this thread wait here, so that a
// chain of tasks completing inline cannot grow the stack.
thread_local int t_launch_depth = 0;
thread_local std::vector<Launch*> t_deferred;
}  // namespace

Scheduler::Scheduler(Runtime* runtime, peng_policy_t policy) : runtime_(runtime), policy_(policy) {
  for (uint32_t d = 0; d < runtime->device_count(); ++d) {
    auto q = std::make_unique<DeviceQueue>();
    q->device = runtime->device(d);
    const peng_device_info_t& info = q->device->info();
    uint32_t depth = runtime->queue_depth(d);
    q->capacity = depth ? depth : std::max<uint32_t>(2, 2 * std::max<uint32_t>(1, info.compute_units));
    q->lost = q->device->lost();  // lost from the start (see Runtime::AddDevice)
    ordering_ = ordering_ || q->device->ordering();
    devices_.push_back(std::move(q));
  }
}

Scheduler::~Scheduler() {
  WaitIdle(PENG_WAIT_FOREVER);
  delete spare_run_.load(std::memory_order_acquire);
  for (Launch* l : free_launches_) delete l;
}

void Scheduler::set_policy(peng_policy_t policy) { policy_.store(policy); }

bool Scheduler::learning() const {
  return policy() == PENG_POLICY_COST_MODEL || runtime_->tracer() != nullptr ||
         runtime_->learn_models();
}

Result<Ref<Event>> Scheduler::Submit(Graph* graph, const std::vector<Ref<Event>>& wait_events) {
  std::unique_ptr<Run> run(spare_run_.exchange(nullptr, std::memory_order_acquire));
  if (!run) run = std::make_unique<Run>();
  {
    // Finalize and the running count change together, so a concurrent
    // AddTask either sees the run or the run sees the finished graph.
    std::lock_guard<std::mutex> lock(runtime_->graph_mutex());
    PENG_RETURN_IF_ERROR(graph->Finalize());
    graph->running().fetch_add(1, std::memory_order_acq_rel);
  }
  uint32_t n = graph->task_count();
  run->scheduler = this;
  run->runtime = Ref<Runtime>(runtime_);
  run->graph = Ref<Graph>(graph);
  run->done = MakeRef<Event>(runtime_);
  run->done->set_helper(run.get());
  run->id = next_run_id_.fetch_add(1);
  run->first_error.store(PENG_OK, std::memory_order_relaxed);
  run->error_message.clear();
  run->pins.store(1, std::memory_order_relaxed);
  if (run->capacity < n) {
    run->pending.reset(new std::atomic<uint32_t>[n]);
    run->cancelled.reset(new std::atomic<uint8_t>[n]);
    run->launched.reset(new std::atomic<uint8_t>[n]);
    run->capacity = n;
  }
  for (uint32_t i = 0; i < n; ++i) {
    run->pending[i].store(graph->task(i).pred_count, std::memory_order_relaxed);
    run->cancelled[i].store(0, std::memory_order_relaxed);
    run->launched[i].store(0, std::memory_order_relaxed);
  }
  run->ordered = ordering_;
  if (ordering_) {
    if (run->ordered_capacity < n) {
      run->unissued.reset(new std::atomic<uint32_t>[n]);
      run->issue_device.reset(new std::atomic<int32_t>[n]);
      run->started.reset(new std::atomic<uint8_t>[n]);
      run->op_id.reset(new uint64_t[n]);
      run->ordered_capacity = n;
    }
    for (uint32_t i = 0; i < n; ++i) {
      run->unissued[i].store(graph->task(i).pred_count, std::memory_order_relaxed);
      run->issue_device[i].store(-1, std::memory_order_relaxed);
      run->started[i].store(Run::kNotStarted, std::memory_order_relaxed);
    }
    run->early_ok.store(true, std::memory_order_relaxed);
  }
  run->remaining = n;  // published to other threads through the scheduler's mutex
  Ref<Event> done = run->done;

  std::vector<Ref<Event>> waits = wait_events;
  {
    // One lock over all the run's buffers: two runs sequenced buffer by
    // buffer in different orders would each wait for the other.
    std::lock_guard<std::mutex> lock(sequence_mutex_);
    for (const auto& [buffer, writes] : graph->buffer_modes()) {
      buffer->SequenceRun(writes, done, &waits);
    }
  }
  active_runs_.fetch_add(1);
  Run* r = run.release();  // owned by itself until FinishRun
  r->start_pending.store(int32_t(waits.size()) + 1);
  for (auto& w : waits) {
    w->OnComplete([this, r](peng_status_t s) {
      if (s != PENG_OK) SetError(r, PENG_ERROR_CANCELLED, "an event the graph waited for failed");
      if (r->start_pending.fetch_sub(1) == 1) StartRun(r);
    });
  }
  if (r->start_pending.fetch_sub(1) == 1) StartRun(r);
  return done;
}

void Scheduler::StartRun(Run* run) {
  const Graph& graph = *run->graph;
  if (graph.task_count() == 0) {
    FinishRun(run);
    return;
  }
  if (run->first_error.load() != PENG_OK) {
    // An event it waited for failed: cancel everything.
    for (uint32_t i = 0; i < graph.task_count(); ++i) run->cancelled[i].store(1);
    run->remaining = 1;
    FinishRun(run);
    return;
  }
  const auto& roots = graph.roots();
  // Push in slices so the devices start while a large graph is still going in.
  constexpr size_t kSlice = 1024;
  for (size_t i = 0; i < roots.size(); i += kSlice) {
    PushReady(run, roots.data() + i, std::min(kSlice, roots.size() - i));
  }
}

void Scheduler::FinishRun(Run* run) {
  run->graph->running().fetch_sub(1, std::memory_order_acq_rel);
  // The graph goes before the event completes: the waiter's release of the
  // graph is then the last, and frees it on the waiter's thread.
  run->graph = Ref<Graph>();
  Ref<Event> done = std::move(run->done);
  peng_status_t status = peng_status_t(run->first_error.load());
  std::string message = std::move(run->error_message);
  done->Complete(status, std::move(message));  // no waiter pins the run after this
  run->Unpin();
  // Notify under the lock: once the count is zero a waiter may destroy the
  // scheduler, so this thread must be done with idle_cv_ before it can wake.
  std::lock_guard<std::mutex> lock(idle_mutex_);
  active_runs_.fetch_sub(1);
  idle_cv_.notify_all();
}

Status Scheduler::WaitIdle(uint64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(idle_mutex_);
  auto idle = [&] { return active_runs_.load() == 0; };
  if (timeout_ns == PENG_WAIT_FOREVER) {
    idle_cv_.wait(lock, idle);
  } else if (!idle_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), idle)) {
    return Error(PENG_ERROR_TIMEOUT, "runtime still busy after the timeout");
  }
  return OkStatus();
}

bool Run::Help() { return scheduler->HelpRun(this); }

void Run::Unpin() {
  if (pins.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Kept for the next submission. The runtime reference goes last: if it is
  // the last one, the scheduler (and with it this run) goes with it.
  Ref<Runtime> keep = std::move(runtime);
  graph = Ref<Graph>();
  done = Ref<Event>();
  delete scheduler->spare_run_.exchange(this, std::memory_order_acq_rel);
}

bool Scheduler::HelpRun(Run* run) {
  uint32_t ran = 0;
  for (auto& q : devices_) {
    if (!q->device->lost()) ran += q->device->Help(&TakeLaunchOf, run);
  }
  return ran > 0;
}

int Scheduler::TakeLaunchOf(void* run, const peng_hal_completion_t* completion) {
  return completion->fn == &Scheduler::OnHalDone &&
         static_cast<Launch*>(completion->user_data)->run == run;
}

// ------------------------------------------------------------------ queues

void Scheduler::PushReady(Run* run, const uint32_t* indices, size_t count) {
  LaunchList launches;
  {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    for (size_t i = 0; i < count; ++i) {
      const Task& t = run->graph->task(indices[i]);
      PushLocked(ReadyTask{run, indices[i], t.priority, seq_++});
    }
    PumpAllLocked(&launches);
  }
  LaunchAll(launches);
}

double Scheduler::PredictUs(const Task& task, uint32_t device) const {
  Device* dev = devices_[device]->device;
  double us = runtime_->perf_models().PredictUs(task.kernel->name(), task.bucket, dev->name());
  if (us >= 0) return us;
  // No history yet: a device with a timing model can still be predicted.
  const peng_hal_device_params_t& p = dev->params();
  if (p.model_gflops > 0) {
    double t = p.model_launch_us + double(task.flops) / (p.model_gflops * 1e3);
    if (p.model_mem_gbps > 0) t = std::max(t, p.model_launch_us + double(task.bytes) / (p.model_mem_gbps * 1e3));
    return t;
  }
  return -1;
}

double Scheduler::TransferUs(uint64_t valid_mask, uint32_t space, uint64_t bytes) const {
  if ((valid_mask >> space) & 1) return 0;
  auto link_us = [&](uint32_t s) {
    Device* owner = runtime_->space_owner(s);
    return runtime_->perf_models().PredictTransferUs(s, bytes, owner->link());
  };
  // Backends copy between their memory and the host, so a device-to-device
  // move is two hops through host memory.
  double us = 0;
  if (!(valid_mask & 1)) {
    uint32_t source = 1;
    while (source < 64 && !((valid_mask >> source) & 1)) ++source;
    if (source < runtime_->space_count()) us += link_us(source);
  }
  if (space != 0) us += link_us(space);
  return us;
}

int Scheduler::ChooseDeviceLocked(const ReadyTask& rt) {
  const Task& task = rt.run->graph->task(rt.index);
  uint64_t mask = task.kernel->supported_mask();
  auto usable = [&](uint32_t d) { return ((mask >> d) & 1) && !devices_[d]->lost; };
  if (task.device >= 0) return usable(uint32_t(task.device)) ? task.device : -1;
  int n = int(devices_.size());
  switch (policy()) {
    case PENG_POLICY_EXPLICIT:
    case PENG_POLICY_EAGER: {
      for (int d = 0; d < n; ++d) {
        if (usable(d)) return d;
      }
      return -1;
    }
    case PENG_POLICY_WORK_STEALING: {
      if (t_current_device >= 0 && t_current_device < n && usable(t_current_device)) {
        return t_current_device;
      }
      int best = -1;
      size_t best_load = SIZE_MAX;
      for (int d = 0; d < n; ++d) {
        if (!usable(d)) continue;
        size_t load = devices_[d]->queue.size() + devices_[d]->inflight;
        if (load < best_load) best = d, best_load = load;
      }
      return best;
    }
    case PENG_POLICY_COST_MODEL: {
      const TaskArg* args = rt.run->graph->args(task);
      int best = -1, calibrate = -1, fallback = -1;
      double best_finish = 1e300;
      size_t calibrate_load = SIZE_MAX, fallback_load = SIZE_MAX;
      for (int d = 0; d < n; ++d) {
        if (!usable(d)) continue;
        DeviceQueue& q = *devices_[d];
        double exec = PredictUs(task, d);
        if (exec < 0) {
          // Still calibrating: explore, the device with the fewest tasks
          // first (a calibrating device has no predicted backlog, so tasks
          // ready at once would otherwise all go to the first one), and only
          // while it holds fewer tasks than calibration needs: a slow device
          // must not take a whole wave of ready tasks to learn its speed.
          size_t load = q.queue.size() + q.inflight;
          if (load < fallback_load) fallback = d, fallback_load = load;
          if (load < size_t(PerfModels::kCalibrated) && load < calibrate_load) {
            calibrate = d, calibrate_load = load;
          }
          continue;
        }
        double transfer = 0;
        for (uint32_t a = 0; a < task.arg_count; ++a) {
          if (args[a].access & PENG_ACCESS_READ) {
            transfer += TransferUs(args[a].buffer->ValidMask(), q.device->memory_space(),
                                   args[a].bytes);
          }
        }
        double finish = q.backlog_us + transfer + exec;
        if (finish < best_finish) best = d, best_finish = finish;
      }
      return calibrate >= 0 ? calibrate : best >= 0 ? best : fallback;
    }
  }
  return -1;
}

void Scheduler::PushLocked(const ReadyTask& rt) {
  int d = ChooseDeviceLocked(rt);
  if (d < 0) {
    // Nowhere to run (its devices are lost): fail it. Completion runs later,
    // outside the lock, through a launch that carries the error.
    Launch* l = NewLaunchLocked(rt, UINT32_MAX);
    lost_launches_.push_back(l);
    return;
  }
  if (policy() == PENG_POLICY_EAGER && rt.run->graph->task(rt.index).device < 0) {
    uint64_t mask = rt.run->graph->task(rt.index).kernel->supported_mask();
    for (auto& [m, q] : central_) {
      if (m == mask) {
        q.push(rt);
        return;
      }
    }
    central_.emplace_back(mask, Queue());
    central_.back().second.push(rt);
    return;
  }
  DeviceQueue& q = *devices_[d];
  if (policy() == PENG_POLICY_COST_MODEL) {
    double p = PredictUs(rt.run->graph->task(rt.index), d);
    q.backlog_us += p > 0 ? p : 0;
  }
  q.queue.push(rt);
}

bool Scheduler::PopLocked(uint32_t d, ReadyTask* out) {
  DeviceQueue& q = *devices_[d];
  const ReadyTask* best = nullptr;
  Queue* from = nullptr;
  if (!q.queue.empty()) {
    best = &q.queue.top();
    from = &q.queue;
  }
  if (policy() == PENG_POLICY_EAGER) {
    for (auto& [mask, cq] : central_) {
      if (!((mask >> d) & 1) || cq.empty()) continue;
      if (!best || *best < cq.top()) best = &cq.top(), from = &cq;
    }
  }
  if (!best && policy() == PENG_POLICY_WORK_STEALING) {
    size_t longest = 0;
    for (auto& other : devices_) {
      if (other.get() == &q || other->queue.empty() || other->queue.size() <= longest) continue;
      const ReadyTask& top = other->queue.top();
      const Task& t = top.run->graph->task(top.index);
      if (t.device >= 0 || !t.kernel->SupportedOn(d)) continue;
      best = &top, from = &other->queue, longest = other->queue.size();
    }
  }
  if (!best) return false;
  *out = *best;
  from->pop();
  return true;
}

Launch* Scheduler::NewLaunchLocked(const ReadyTask& rt, uint32_t device) {
  Launch* l;
  if (!free_launches_.empty()) {
    l = free_launches_.back();
    free_launches_.pop_back();
  } else {
    l = new Launch();
  }
  l->scheduler = this;
  l->run = rt.run;
  l->index = rt.index;
  l->device = device;
  l->predicted_us = -1;
  l->measure = false;
  l->early = false;
  l->waits.clear();
  l->recompute.reset();
  l->recompute_rounds = 0;
  l->acquire_error.store(PENG_OK, std::memory_order_relaxed);
  return l;
}

void Scheduler::PumpAllLocked(LaunchList* launches) {
  for (uint32_t d = 0; d < devices_.size(); ++d) {
    DeviceQueue& q = *devices_[d];
    ReadyTask rt;
    while (!q.lost && q.inflight < q.capacity && PopLocked(d, &rt)) {
      ++q.inflight;
      launches->push_back(NewLaunchLocked(rt, d));
    }
  }
  for (Launch* l : lost_launches_) launches->push_back(l);
  lost_launches_.clear();
}

void Scheduler::LaunchAll(LaunchList& launches) {
  // The first launch goes last: on a CPU device it then tends to run on this
  // thread right after, while the others spread to idle threads.
  if (t_launch_depth > 0) {
    for (size_t i = launches.size(); i-- > 0;) t_deferred.push_back(launches[i]);
    return;
  }
  ++t_launch_depth;
  for (size_t i = launches.size(); i-- > 0;) Start(launches[i]);
  while (!t_deferred.empty()) {
    Launch* l = t_deferred.back();
    t_deferred.pop_back();
    Start(l);
  }
  --t_launch_depth;
}

// ------------------------------------------------------------------ launch

void Scheduler::Start(Launch* l) {
  const Graph& graph = *l->run->graph;
  const Task& task = graph.task(l->index);
  if (l->device == UINT32_MAX) {
    Complete(l, PENG_ERROR_DEVICE_LOST, "every device with code for it is lost");
    return;
  }
  if (task.workgroups[0] == 0 || task.workgroups[1] == 0 || task.workgroups[2] == 0) {
    Complete(l, PENG_OK);  // an empty grid: nothing to do
    return;
  }
  if (!l->recompute) l->run->launched[l->index].store(1, std::memory_order_relaxed);
  l->measure = learning();
  if (l->measure) {
    l->predicted_us = PredictUs(task, l->device);
    l->enqueue_ns = NowNs();
  }
  uint32_t n = task.arg_count;
  l->buffers.resize(n);
  if (n == 0) {
    Dispatch(l);  // no data to move
    return;
  }
  l->acquires_pending.store(n + 1, std::memory_order_relaxed);
  {
    const TaskArg* args = graph.args(task);
    uint32_t space = devices_[l->device]->device->memory_space();
    for (uint32_t i = 0; i < n; ++i) {
      args[i].buffer->Acquire(space, args[i].access, &l->buffers[i], [this, l](peng_status_t s) {
        if (s != PENG_OK) {
          int expected = PENG_OK;
          l->acquire_error.compare_exchange_strong(expected, s);
        }
        if (l->acquires_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) Dispatch(l);
      });
    }
  }
  if (l->acquires_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) Dispatch(l);
}

void Scheduler::Dispatch(Launch* l) {
  if (int err = l->acquire_error.load(); err != PENG_OK) {
    // If the device itself is gone, the task may still run elsewhere.
    if (!devices_[l->device]->device->CheckHealth().ok()) {
      OnHalDone(l, PENG_ERROR_DEVICE_LOST);
      return;
    }
    // Or its inputs went with another device: their producers run again.
    if (err == PENG_ERROR_DEVICE_LOST && RetryWithLostInputs(l)) return;
    Complete(l, peng_status_t(err), "its data could not be moved to the device");
    return;
  }
  const Graph& graph = *l->run->graph;
  const Task& task = graph.task(l->index);
  const TaskArg* args = graph.args(task);
  uint32_t n = task.arg_count;
  l->slots.assign(n, nullptr);
  l->sizes.resize(n);
  l->shapes.resize(n);
  l->ranks.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    l->sizes[i] = args[i].bytes;
    l->shapes[i] = args[i].shape;
    l->ranks[i] = args[i].rank;
  }
  // Every field is set below, so no zeroing first (a 128-byte clear per
  // task shows in the profile); a new field must be set here too.
  static_assert(sizeof(peng_hal_dispatch_t) == 160 && sizeof(peng_dispatch_state_t) == 80,
                "peng_hal_dispatch_t changed: set its new fields below");
  peng_hal_dispatch_t& d = l->dispatch;
  const KernelLaunch& launch = task.kernel->launch(l->device);
  d.executable = launch.executable;
  d.entry = launch.entry;
  d.state.abi_version = PENG_KERNEL_ABI_VERSION;
  if (!launch.own_grid) {
    // AddTask counted the workgroups of the kernel's grid already.
    std::memcpy(d.state.workgroup_count, task.workgroups, sizeof(task.workgroups));
  } else {
    // This device's variant splits the work its own way.
    for (int g = 0; g < 3; ++g) {
      const peng_grid_dim_t& gd = launch.grid[g];
      d.state.workgroup_count[g] =
          gd.tile == 0 ? 1
                       : uint32_t((uint64_t(args[gd.arg].shape[gd.dim]) + gd.tile - 1) / gd.tile);
    }
  }
  d.state.binding_count = n;
  d.state.bindings = l->slots.data();
  d.state.binding_sizes = l->sizes.data();
  d.state.shapes = l->shapes.data();
  d.state.ranks = l->ranks.data();
  d.state.constant_count = task.const_count;
  d.state.constants = graph.constants(task);
  d.state.workspace_size = launch.workspace;
  d.buffers = l->buffers.data();
  d.binding_slots = l->slots.data();
  l->timestamps[0] = l->timestamps[1] = 0;
  d.timestamps = l->measure ? l->timestamps : nullptr;
  d.flops = task.flops;
  d.bytes = task.bytes;
  DeviceQueue& q = *devices_[l->device];
  Run* run = l->run;
  const uint32_t index = l->index, device = l->device;
  const bool ordering = run->ordered && q.device->ordering();
  // Only ordering queues need ids: a shared counter costs a contended atomic
  // per launch (a tenth of a re-run of a small graph on the CPU).
  const uint64_t id = ordering ? q.next_op.fetch_add(1, std::memory_order_relaxed) : 0;
  d.id = id;
  d.wait_count = uint32_t(l->waits.size());
  d.waits = l->waits.data();
  Ref<Graph> pinned_graph;
  if (ordering) {
    // Outputs written whole are valid in the device's memory from now on,
    // for launches this queue runs after this one: a successor enqueued
    // early must not fetch the old contents over them. (Outputs also read
    // were fetched there already; their other copies stay valid until the
    // completion, for nobody else may touch them before.)
    uint32_t space = q.device->memory_space();
    for (uint32_t i = 0; i < n; ++i) {
      if (args[i].access == PENG_ACCESS_WRITE) args[i].buffer->CommitWrite(space);
    }
    // The launch may complete, and the run finish, before the enqueue
    // returns: keep the run and its graph for the successors below.
    run->Pin();
    pinned_graph = run->graph;
  }
  Status st = q.device->EnqueueDispatch(d, peng_hal_completion_t{&OnHalDone, l});
  // `l` may be complete and reused from here on.
  if (!st.ok()) {
    Report(st);
    if (st.code() == PENG_ERROR_DEVICE_LOST) {
      OnHalDone(l, PENG_ERROR_DEVICE_LOST);
    } else {
      Complete(l, st.code(), st.message().c_str());
    }
  } else if (ordering) {
    StartSuccessorsEarly(run, *pinned_graph, index, device, id);
  }
  if (ordering) {
    pinned_graph = Ref<Graph>();
    run->Unpin();  // may free the runtime, and this scheduler with it
  }
}

void Scheduler::StartSuccessorsEarly(Run* run, const Graph& graph, uint32_t index,
                                     uint32_t device, uint64_t id) {
  run->op_id[index] = id;  // published to the successors by the release below
  const uint32_t* succ = graph.successors(index);
  uint32_t count = graph.successor_count(index);
  uint32_t candidates[16];
  uint32_t found = 0;
  const int32_t dev = int32_t(device);
  for (uint32_t k = 0; k < count; ++k) {
    uint32_t s = succ[k];
    int32_t expected = -1;
    if (!run->issue_device[s].compare_exchange_strong(expected, dev, std::memory_order_acq_rel) &&
        expected != dev) {
      run->issue_device[s].store(-2, std::memory_order_release);
    }
    if (run->unissued[s].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
    if (run->issue_device[s].load(std::memory_order_acquire) != dev ||
        !run->early_ok.load(std::memory_order_acquire) ||
        run->cancelled[s].load(std::memory_order_relaxed)) {
      continue;
    }
    // Past 16 at once the rest start the usual way, when their inputs are done.
    if (found < 16) candidates[found++] = s;
  }
  if (found == 0) return;
  LaunchList launches;
  {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    DeviceQueue& q = *devices_[device];
    for (uint32_t c = 0; c < found && !q.lost; ++c) {
      uint32_t s = candidates[c];
      const Task& t = graph.task(s);
      if (t.device >= 0 ? t.device != dev : !t.kernel->SupportedOn(device)) continue;
      ReadyTask rt{run, s, t.priority, 0};
      // The cost model may still prefer another device (its inputs are
      // elsewhere too, or this one is busy); other policies keep the data here.
      if (t.device < 0 && policy() == PENG_POLICY_COST_MODEL && ChooseDeviceLocked(rt) != dev) {
        continue;
      }
      uint8_t state = Run::kNotStarted;
      if (!run->started[s].compare_exchange_strong(state, Run::kStartedEarly,
                                                   std::memory_order_acq_rel)) {
        continue;  // its predecessors completed meanwhile: it started the usual way
      }
      rt.seq = seq_++;
      Launch* l = NewLaunchLocked(rt, device);
      l->early = true;
      const uint32_t* preds = graph.predecessors(s);
      for (uint32_t p = 0, np = graph.predecessor_count(s); p < np; ++p) {
        l->waits.push_back(run->op_id[preds[p]]);
      }
      ++q.inflight;  // past the capacity: it waits on the device, not here
      if (policy() == PENG_POLICY_COST_MODEL) {
        double us = PredictUs(t, device);
        q.backlog_us += us > 0 ? us : 0;
      }
      launches.push_back(l);
    }
  }
  LaunchAll(launches);
}

bool Scheduler::ClaimStart(Run* run, uint32_t task) {
  if (!run->ordered) return true;
  std::atomic<uint8_t>& started = run->started[task];
  uint8_t state = started.load(std::memory_order_acquire);
  while (true) {
    if (state == Run::kNotStarted) {
      if (started.compare_exchange_weak(state, Run::kStarted, std::memory_order_acq_rel)) return true;
    } else if (state == Run::kStartedEarly) {
      // Its own completion finishes it; a lost device restarts it now.
      if (started.compare_exchange_weak(state, Run::kStartedEarlyPredsDone,
                                        std::memory_order_acq_rel)) {
        return false;
      }
    } else {
      return false;
    }
  }
}

void Scheduler::OnHalDone(void* user, peng_status_t status) {
  DeviceCallbackScope scope;
  Launch* l = static_cast<Launch*>(user);
  Scheduler* self = l->scheduler;
  uint64_t start = 0, end = 0;
  if (l->measure) {
    end = l->timestamps[1] ? l->timestamps[1] : NowNs();
    start = l->timestamps[0] ? l->timestamps[0] : l->enqueue_ns;
  }
  const Graph& graph = *l->run->graph;
  const Task& task = graph.task(l->index);
  DeviceQueue& q = *self->devices_[l->device];
  if (status == PENG_OK) {
    const TaskArg* args = graph.args(task);
    uint32_t space = q.device->memory_space();
    for (uint32_t i = 0; i < task.arg_count; ++i) {
      if (args[i].access & PENG_ACCESS_WRITE) args[i].buffer->CommitWrite(space);
    }
    if (l->measure) {
      self->runtime_->perf_models().Record(task.kernel->name(), task.bucket, q.device->name(),
                                           (end - start) * 1e-3);
    }
  }
  if (l->recompute) {
    if (status == PENG_ERROR_DEVICE_LOST) {
      self->runtime_->OnDeviceLost(l->device);
      std::lock_guard<AdaptiveMutex> lock(self->mutex_);
      q.lost = true;
    }
    Tracer* tracer = self->runtime_->tracer();
    if (tracer && l->measure) {
      tracer->RecordTask(l->device, task.kernel->name(), l->run->id, l->index, start, end,
                         l->predicted_us, status, /*recompute=*/true);
    }
    self->FinishRecompute(l, status);
    return;
  }
  if (status == PENG_ERROR_DEVICE_LOST) {
    self->runtime_->OnDeviceLost(l->device);
    Run* run = l->run;
    // Launches enqueued early may have lost predecessors with the device:
    // from now on the run starts tasks only the usual way.
    if (run->ordered) run->early_ok.store(false, std::memory_order_release);
    bool restart_later = false;
    if (l->early) {
      uint8_t state = Run::kStartedEarly;
      restart_later = run->started[l->index].compare_exchange_strong(state, Run::kNotStarted,
                                                                     std::memory_order_acq_rel);
      // Else its predecessors are done (kStartedEarlyPredsDone): it may move now.
      if (!restart_later) run->started[l->index].store(Run::kStarted, std::memory_order_release);
      if (!restart_later && run->cancelled[l->index].load(std::memory_order_relaxed)) {
        status = PENG_ERROR_CANCELLED;
      }
    }
    // Another device may still run it, if the placement allows it; a task
    // whose predecessors are not done starts when they are (Release).
    if (status == PENG_ERROR_DEVICE_LOST && (task.device < 0 || restart_later)) {
      LaunchList launches;
      {
        std::lock_guard<AdaptiveMutex> lock(self->mutex_);
        --q.inflight;
        q.backlog_us = 0;
        q.lost = true;
        // Requeue what waited on the lost device, and this task.
        std::vector<ReadyTask> orphans;
        while (!q.queue.empty()) {
          orphans.push_back(q.queue.top());
          q.queue.pop();
        }
        if (!restart_later) orphans.push_back(ReadyTask{l->run, l->index, task.priority, self->seq_++});
        self->free_launches_.push_back(l);
        for (const auto& o : orphans) self->PushLocked(o);
        self->PumpAllLocked(&launches);
      }
      self->LaunchAll(launches);
      return;
    }
  }
  Tracer* tracer = self->runtime_->tracer();
  if (tracer && l->measure) {
    tracer->RecordTask(l->device, task.kernel->name(), l->run->id, l->index, start, end,
                       l->predicted_us, status);
  }
  if (status != PENG_OK) {
    // The backend's own words, if it gave any (peng_hal_device_params_t.set_error).
    std::string why = TakeHalError();
    self->Complete(l, status, why.c_str());
    return;
  }
  self->Complete(l, status);
}

uint32_t Scheduler::Release(Run* run, uint32_t index, bool failed, std::vector<uint32_t>* ready) {
  const Graph& graph = *run->graph;
  // Tasks cancelled on the way; empty (no allocation) unless something failed.
  std::vector<uint32_t> cancelled;
  uint32_t finished = 0;
  uint32_t i = index;
  bool fail = failed;
  while (true) {
    ++finished;
    const uint32_t* succ = graph.successors(i);
    uint32_t count = graph.successor_count(i);
    for (uint32_t k = 0; k < count; ++k) {
      uint32_t s = succ[k];
      if (fail) run->cancelled[s].store(1, std::memory_order_relaxed);
      // The last predecessor to finish (the only one, or the others are
      // done) has no one left to race with, so it skips the atomic update.
      if (graph.task(s).pred_count == 1 ||
          run->pending[s].load(std::memory_order_acquire) == 1 ||
          run->pending[s].fetch_sub(1, std::memory_order_acq_rel) == 1) {
        if (!ClaimStart(run, s)) continue;  // enqueued early: its completion finishes it
        if (run->cancelled[s].load(std::memory_order_relaxed)) {
          cancelled.push_back(s);
        } else {
          ready->push_back(s);
        }
      }
    }
    if (cancelled.empty()) return finished;
    i = cancelled.back();
    cancelled.pop_back();
    fail = true;
  }
}

void Scheduler::SetError(Run* run, peng_status_t status, std::string message) {
  int expected = PENG_OK;
  if (run->first_error.compare_exchange_strong(expected, status)) {
    run->error_message = std::move(message);
  }
}

void Scheduler::Complete(Launch* l, peng_status_t status, const char* why) {
  if (l->recompute) {
    FinishRecompute(l, status);
    return;
  }
  Run* run = l->run;
  uint32_t index = l->index;
  uint32_t device = l->device;
  bool quiet = false;
  if (l->early && run->cancelled[index].load(std::memory_order_relaxed)) {
    // A predecessor failed while this waited on the device: its result (if
    // the backend ran it anyway) is void, and the predecessor reports why.
    status = PENG_ERROR_CANCELLED;
    quiet = true;
  } else if (l->early && status == PENG_ERROR_CANCELLED) {
    quiet = true;  // the backend's word for the same; the failed predecessor reports
  }
  if (status != PENG_OK && !quiet) {
    const Task& t = run->graph->task(index);
    std::string msg = "task " + std::to_string(index) + " (kernel '" + t.kernel->name() + "')";
    if (device != UINT32_MAX) msg += " on device '" + std::string(devices_[device]->device->name()) + "'";
    msg += " failed: " + std::string(peng_status_string(status));
    if (why && *why) msg += ": " + std::string(why);
    SetError(run, status, std::move(msg));
  }
  std::vector<uint32_t>& ready = t_ready;
  ready.clear();
  uint32_t finished = Release(run, index, status != PENG_OK, &ready);

  int saved_device = t_current_device;
  t_current_device = device == UINT32_MAX ? -1 : int(device);
  LaunchList launches;
  bool run_done;
  {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    // Counted here, under the lock this thread holds anyway: an atomic of
    // its own would cost more than the rest of the bookkeeping.
    run->remaining -= finished;
    run_done = run->remaining == 0;
    // Nothing queued ahead: the successor of highest priority takes this
    // task's slot on the same device, skipping push, choose, pop and pump.
    Launch* handed_over = nullptr;
    if (device != UINT32_MAX && !ready.empty() && status == PENG_OK) {
      size_t best = 0;
      for (size_t k = 1; k < ready.size(); ++k) {
        if (run->graph->task(ready[k]).priority > run->graph->task(ready[best]).priority) best = k;
      }
      const Task& t = run->graph->task(ready[best]);
      peng_policy_t p = policy();
      DeviceQueue& q = *devices_[device];
      bool ok = (p == PENG_POLICY_EAGER || p == PENG_POLICY_WORK_STEALING) && !q.lost &&
                (t.device < 0 || t.device == int(device)) && t.kernel->SupportedOn(device) &&
                q.queue.empty() && lost_launches_.empty();
      if (ok && p == PENG_POLICY_EAGER) {
        for (auto& [mask, cq] : central_) {
          if (((mask >> device) & 1) && !cq.empty()) ok = false;
        }
      }
      if (ok) {
        free_launches_.push_back(l);
        handed_over = NewLaunchLocked(ReadyTask{run, ready[best], t.priority, seq_++}, device);
        ready.erase(ready.begin() + best);
      }
    }
    if (!handed_over) {
      free_launches_.push_back(l);
      if (device != UINT32_MAX) {
        DeviceQueue& q = *devices_[device];
        --q.inflight;
        if (policy() == PENG_POLICY_COST_MODEL && l->predicted_us > 0) {
          q.backlog_us = std::max(0.0, q.backlog_us - l->predicted_us);
        }
      }
    }
    // (With a hand-over, inflight is unchanged: the successor holds the slot.)
    if (!ready.empty() || !handed_over) {
      for (uint32_t s : ready) {
        const Task& t = run->graph->task(s);
        PushLocked(ReadyTask{run, s, t.priority, seq_++});
      }
      PumpAllLocked(&launches);
    }
    // Started first (LaunchAll goes backwards), so on a CPU device it runs
    // next on this thread.
    if (handed_over) launches.push_back(handed_over);
  }
  t_current_device = saved_device;
  // After this the run may be gone: no access to it below.
  if (run_done && !RepairRun(run)) FinishRun(run);
  LaunchAll(launches);
}

// ---------------------------------------------------------------- recompute

bool Scheduler::DataLost(Buffer* buffer) const {
  uint64_t valid = buffer->ValidMask();
  if (valid == 0) return false;  // never written: nothing was lost
  for (uint32_t s = 0; s < 64; ++s) {
    if (!((valid >> s) & 1)) continue;
    if (s == 0) return false;
    Device* owner = runtime_->space_owner(s);
    if (owner && owner->CheckHealth().ok()) return false;
  }
  return true;
}

int64_t Scheduler::LastWriterBefore(const Graph& graph, const Buffer* buffer, uint32_t before) {
  for (uint32_t j = before; j-- > 0;) {
    const Task& t = graph.task(j);
    const TaskArg* args = graph.args(t);
    for (uint32_t i = 0; i < t.arg_count; ++i) {
      if (args[i].buffer == buffer && (args[i].access & PENG_ACCESS_WRITE)) return j;
    }
  }
  return -1;
}

// Whether `producer` would compute the same again: no task after it in the
// graph that writes one of its arguments has started (its requester, which
// waits for it, aside).
bool Scheduler::Recomputable(Run* run, uint32_t producer, uint32_t requester) const {
  const Graph& graph = *run->graph;
  const Task& p = graph.task(producer);
  const TaskArg* pargs = graph.args(p);
  for (uint32_t j = producer + 1; j < graph.task_count(); ++j) {
    if (j == requester || !run->launched[j].load(std::memory_order_relaxed)) continue;
    const Task& t = graph.task(j);
    const TaskArg* args = graph.args(t);
    for (uint32_t i = 0; i < t.arg_count; ++i) {
      if (!(args[i].access & PENG_ACCESS_WRITE)) continue;
      for (uint32_t k = 0; k < p.arg_count; ++k) {
        if (pargs[k].buffer == args[i].buffer) return false;
      }
    }
  }
  return true;
}

bool Scheduler::StartRecomputes(Run* run, const std::vector<uint32_t>& producers,
                                uint32_t requester, std::function<void(peng_status_t)> done) {
  auto waiter = std::make_shared<RecomputeWaiter>();
  waiter->pending.store(uint32_t(producers.size()));
  // Checked again once they ran: a later writer of their arguments that
  // started meanwhile may have changed what they read.
  waiter->done = [this, run, producers, requester, done = std::move(done)](peng_status_t st) {
    for (uint32_t p : producers) {
      if (st == PENG_OK && !Recomputable(run, p, requester)) st = PENG_ERROR_DEVICE_LOST;
    }
    done(st);
  };
  LaunchList launches;
  {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    std::vector<uint32_t> chosen;
    for (uint32_t p : producers) {
      const Task& t = run->graph->task(p);
      int best = -1;
      for (uint32_t d = 0; d < devices_.size(); ++d) {
        DeviceQueue& q = *devices_[d];
        if (q.lost || q.device->lost() || (t.device >= 0 && t.device != int(d)) ||
            !t.kernel->SupportedOn(d)) {
          continue;
        }
        if (best < 0 || q.inflight < devices_[best]->inflight) best = int(d);
      }
      if (best < 0) return false;
      chosen.push_back(uint32_t(best));
    }
    for (size_t i = 0; i < producers.size(); ++i) {
      const Task& t = run->graph->task(producers[i]);
      Launch* l = NewLaunchLocked(ReadyTask{run, producers[i], t.priority, seq_++}, chosen[i]);
      l->recompute = waiter;
      launches.push_back(l);
    }
  }
  LaunchAll(launches);
  return true;
}

void Scheduler::FinishRecompute(Launch* l, peng_status_t status) {
  std::shared_ptr<RecomputeWaiter> waiter = std::move(l->recompute);
  {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    free_launches_.push_back(l);
  }
  if (status != PENG_OK) {
    int expected = PENG_OK;
    waiter->error.compare_exchange_strong(expected, status);
  }
  if (waiter->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    waiter->done(peng_status_t(waiter->error.load()));
  }
}

bool Scheduler::RetryWithLostInputs(Launch* l) {
  if (l->recompute_rounds >= 3) return false;  // lost again and again: give up
  Run* run = l->run;
  const Graph& graph = *run->graph;
  const Task& task = graph.task(l->index);
  const TaskArg* args = graph.args(task);
  std::vector<uint32_t> producers;
  for (uint32_t i = 0; i < task.arg_count; ++i) {
    if (!(args[i].access & PENG_ACCESS_READ) || !DataLost(args[i].buffer)) continue;
    int64_t p = LastWriterBefore(graph, args[i].buffer, l->index);
    if (p < 0 || !Recomputable(run, uint32_t(p), l->index)) return false;
    if (std::find(producers.begin(), producers.end(), uint32_t(p)) == producers.end()) {
      producers.push_back(uint32_t(p));
    }
  }
  if (producers.empty()) return false;
  ++l->recompute_rounds;
  return StartRecomputes(run, producers, l->index, [this, l](peng_status_t st) {
    if (st != PENG_OK) {
      Complete(l, PENG_ERROR_DEVICE_LOST,
               "its input was lost with a device, and its producer could not run again");
      return;
    }
    l->acquire_error.store(PENG_OK, std::memory_order_relaxed);
    Start(l);
  });
}

bool Scheduler::RepairRun(Run* run) {
  // Only a runtime that has lost a device pays for the scan below; the look
  // is at the runtime's flags, not the backends (every run ends here).
  bool any_lost = false;
  for (const auto& q : devices_) any_lost = any_lost || q->device->lost();
  if (!any_lost) return false;
  const Graph& graph = *run->graph;
  std::vector<uint32_t> producers;
  for (const auto& [buffer, writes] : graph.buffer_modes()) {
    if (!writes || !DataLost(buffer)) continue;
    int64_t p = LastWriterBefore(graph, buffer, graph.task_count());
    if (p < 0) continue;
    if (!Recomputable(run, uint32_t(p), UINT32_MAX)) {
      SetError(run, PENG_ERROR_DEVICE_LOST,
               "the result of task " + std::to_string(p) + " (kernel '" +
                   graph.task(uint32_t(p)).kernel->name() +
                   "') was lost with its device and cannot be computed again");
      continue;
    }
    if (std::find(producers.begin(), producers.end(), uint32_t(p)) == producers.end()) {
      producers.push_back(uint32_t(p));
    }
  }
  if (producers.empty()) return false;
  bool started = StartRecomputes(run, producers, UINT32_MAX, [this, run](peng_status_t st) {
    if (st != PENG_OK) {
      SetError(run, st, "a result lost with its device could not be computed again");
    }
    FinishRun(run);
  });
  if (!started) {
    SetError(run, PENG_ERROR_DEVICE_LOST,
             "a result was lost with its device, and no device left can compute it again");
  }
  return started;
}

}  // namespace peng::rt
