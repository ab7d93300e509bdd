#include "graph/graph.h"

#include <algorithm>
#include <cstring>

#include "graph/module.h"
#include "hal/device.h"
#include "memory/buffer.h"
#include "runtime.h"
#include "sched/perf_model.h"

namespace peng::rt {

Graph::Graph(Runtime* runtime) : runtime_ref_(runtime), runtime_(runtime) {}

Status Graph::CheckMutable() const {
  if (running_.load(std::memory_order_acquire) != 0) {
    return Error(PENG_ERROR_INVALID_ARGUMENT,
                 "the graph is running: wait for its submissions before changing it");
  }
  return OkStatus();
}

Result<uint32_t> Graph::AddTask(Kernel* kernel, const peng_tensor_arg_t* args, uint32_t arg_count,
                                const int64_t* constants, uint32_t constant_count,
                                const peng_task_options_t* options) {
  PENG_RETURN_IF_ERROR(CheckMutable());
  const std::string& kname = kernel->name();
  if (kernel->runtime() != runtime_) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' belongs to another runtime");
  }
  const auto& descs = kernel->args();
  if (arg_count != descs.size()) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' takes ", descs.size(),
                 " tensor arguments, got ", arg_count);
  }
  if (arg_count && !args) return Error(PENG_ERROR_INVALID_ARGUMENT, "args is NULL");
  if (constant_count != kernel->constant_count()) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' takes ",
                 kernel->constant_count(), " constants, got ", constant_count);
  }
  if (constant_count && !constants) return Error(PENG_ERROR_INVALID_ARGUMENT, "constants is NULL");
  if (tasks_.size() >= UINT32_MAX - 1) return Error(PENG_ERROR_OUT_OF_MEMORY, "graph is full");

  Task task{};
  task.kernel = kernel;
  task.arg_begin = uint32_t(args_.size());
  task.arg_count = uint16_t(arg_count);
  task.const_begin = uint32_t(constants_.size());
  task.const_count = uint16_t(constant_count);
  task.priority = options ? options->priority : 0;
  task.device = -1;

  if (options && options->device) {
    Device* device = HandleTable<Device>::Get().Lookup(reinterpret_cast<uint64_t>(options->device));
    if (!device || device->runtime() != runtime_) {
      return Error(PENG_ERROR_INVALID_HANDLE, "task placement: invalid device handle");
    }
    if (!kernel->SupportedOn(device->index())) {
      return Error(PENG_ERROR_UNSUPPORTED, "kernel '", kname, "' has no code for device '",
                   device->name(), "' (", kernel->unsupported_reason(), ")");
    }
    task.device = int32_t(device->index());
  }
  if (kernel->supported_mask() == 0) {
    return Error(PENG_ERROR_UNSUPPORTED, "no device has code for kernel '", kname, "' (",
                 kernel->unsupported_reason(), ")");
  }

  // Validate every argument before touching any state, so a bad task leaves
  // the graph as it was.
  std::vector<TaskArg> new_args(arg_count);
  double total_bytes = 0;
  for (uint32_t i = 0; i < arg_count; ++i) {
    const peng_tensor_arg_t& a = args[i];
    const peng_arg_desc_t& d = descs[i];
    Buffer* buffer = HandleTable<Buffer>::Get().Lookup(reinterpret_cast<uint64_t>(a.buffer));
    if (!buffer) {
      return Error(PENG_ERROR_INVALID_HANDLE, "kernel '", kname, "' argument ", i,
                   ": invalid buffer handle");
    }
    if (buffer->runtime() != runtime_) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' argument ", i,
                   ": buffer belongs to another runtime");
    }
    if (RawEnum(a.dtype) != RawEnum(d.dtype)) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' argument ", i, ": dtype ",
                   peng_dtype_name(a.dtype), " does not match the kernel's ",
                   peng_dtype_name(d.dtype));
    }
    if (a.rank != d.rank) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' argument ", i, ": rank ",
                   a.rank, " does not match the kernel's ", d.rank);
    }
    uint64_t elems = 1;
    bool overflow = false;
    for (uint32_t k = 0; k < a.rank; ++k) {
      if (a.shape[k] < 0) {
        return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' argument ", i, " dim ", k,
                     " is negative (", a.shape[k], ")");
      }
      if (d.shape[k] >= 0 && a.shape[k] != d.shape[k]) {
        return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' argument ", i, " dim ", k,
                     " is ", a.shape[k], ", the kernel needs ", d.shape[k]);
      }
      overflow |= __builtin_mul_overflow(elems, uint64_t(a.shape[k]), &elems);
    }
    uint64_t bytes = 0;
    overflow |= __builtin_mul_overflow(elems, uint64_t(peng_dtype_size(a.dtype)), &bytes);
    if (overflow || bytes > buffer->size()) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' argument ", i, ": a ",
                   peng_dtype_name(a.dtype), " tensor of this shape needs ",
                   overflow ? std::string("more than 2^64") : std::to_string(bytes),
                   " bytes, the buffer has ", buffer->size());
    }
    TaskArg& t = new_args[i];
    t.buffer = buffer;
    t.access = d.access;
    t.rank = a.rank;
    std::memcpy(t.shape, a.shape, sizeof(t.shape));
    t.bytes = bytes;
    total_bytes += double(bytes);
  }
  // One buffer bound to two arguments where one is written: kernels read
  // inputs after writing outputs (tiles, fused producers), so this silently
  // corrupts results unless the kernel declares the pair safe in place.
  for (uint32_t i = 0; i < arg_count; ++i) {
    for (uint32_t j = i + 1; j < arg_count; ++j) {
      if (new_args[i].buffer != new_args[j].buffer) continue;
      if (!((new_args[i].access | new_args[j].access) & PENG_ACCESS_WRITE)) continue;
      if (kernel->InPlaceAllowed(i, j)) continue;
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' arguments ", i, " and ", j,
                   " are the same buffer and one of them is written; the kernel does not "
                   "declare that pair safe in place, so pass a separate output buffer");
    }
  }

  // Grid: ceil(dim / tile) per used entry.
  for (int g = 0; g < 3; ++g) {
    const peng_grid_dim_t& gd = kernel->grid()[g];
    if (gd.tile == 0) {
      task.workgroups[g] = 1;
      continue;
    }
    uint64_t extent = uint64_t(new_args[gd.arg].shape[gd.dim]);
    uint64_t count = (extent + gd.tile - 1) / gd.tile;
    if (count > UINT32_MAX) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "': grid of ", count,
                   " workgroups is too large");
    }
    task.workgroups[g] = uint32_t(count);
  }

  double flops = kernel->static_flops(), bytes = total_bytes;
  if (kernel->cost_fn()) {
    std::vector<const int64_t*> shapes(arg_count);
    std::vector<uint32_t> ranks(arg_count);
    std::vector<uint64_t> sizes(arg_count);
    for (uint32_t i = 0; i < arg_count; ++i) {
      shapes[i] = new_args[i].shape;
      ranks[i] = new_args[i].rank;
      sizes[i] = new_args[i].bytes;
    }
    peng_dispatch_state_t state{};
    state.abi_version = PENG_KERNEL_ABI_VERSION;
    std::memcpy(state.workgroup_count, task.workgroups, sizeof(task.workgroups));
    state.binding_count = arg_count;
    state.binding_sizes = sizes.data();
    state.shapes = shapes.data();
    state.ranks = ranks.data();
    state.constant_count = constant_count;
    state.constants = constants;
    kernel->cost_fn()(&state, &flops, &bytes);
  }
  task.flops = float(flops);
  task.bytes = float(bytes);
  task.bucket = SizeBucket(std::max(bytes, flops));

  // Commit: dependencies from access modes, then the task itself.
  uint32_t id = uint32_t(tasks_.size());
  for (uint32_t i = 0; i < arg_count; ++i) {
    Buffer* buffer = new_args[i].buffer;
    auto [it, inserted] = trackers_.try_emplace(buffer);
    if (inserted) buffers_.push_back(Ref<Buffer>(buffer));
    Tracker& tr = it->second;
    peng_access_t access = new_args[i].access;
    if (access & PENG_ACCESS_WRITE) {
      if (!tr.readers.empty()) {
        for (uint32_t r : tr.readers) {
          if (r != id) edges_.emplace_back(r, id);
        }
      } else if (tr.last_writer >= 0 && tr.last_writer != id) {
        edges_.emplace_back(uint32_t(tr.last_writer), id);
      }
      tr.readers.clear();
      tr.last_writer = id;
      tr.writes = true;
    } else {
      if (tr.last_writer >= 0 && tr.last_writer != id) {
        edges_.emplace_back(uint32_t(tr.last_writer), id);
      }
      tr.readers.push_back(id);
    }
  }
  if (kernel != last_kernel_) {
    bool known = std::any_of(kernels_.begin(), kernels_.end(),
                             [&](const Ref<Kernel>& k) { return k.get() == kernel; });
    if (!known) kernels_.push_back(Ref<Kernel>(kernel));
    last_kernel_ = kernel;
  }
  args_.insert(args_.end(), new_args.begin(), new_args.end());
  constants_.insert(constants_.end(), constants, constants + constant_count);
  tasks_.push_back(task);
  finalized_ = false;
  return id;
}

Status Graph::AddEdge(uint32_t before, uint32_t after) {
  PENG_RETURN_IF_ERROR(CheckMutable());
  if (before >= tasks_.size() || after >= tasks_.size()) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "edge ", before, " -> ", after,
                 ": the graph has ", tasks_.size(), " tasks");
  }
  // Edges must point forward: that keeps every graph acyclic by construction.
  if (before >= after) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "edge ", before, " -> ", after,
                 " must go from an earlier task to a later one");
  }
  edges_.emplace_back(before, after);
  finalized_ = false;
  return OkStatus();
}

Status Graph::Finalize() {
  if (finalized_) return OkStatus();
  PENG_RETURN_IF_ERROR(CheckMutable());
  uint32_t n = uint32_t(tasks_.size());
  // Count, prefix-sum, fill: CSR successors without per-task vectors.
  std::vector<uint32_t> out_count(n + 1, 0);
  for (Task& t : tasks_) t.pred_count = 0;
  for (auto [a, b] : edges_) {
    ++out_count[a];
    ++tasks_[b].pred_count;
  }
  uint32_t running = 0;
  for (uint32_t i = 0; i < n; ++i) {
    tasks_[i].succ_begin = running;
    running += out_count[i];
  }
  succ_.assign(running, 0);
  std::vector<uint32_t> fill(n);
  for (uint32_t i = 0; i < n; ++i) fill[i] = tasks_[i].succ_begin;
  for (auto [a, b] : edges_) succ_[fill[a]++] = b;
  // Predecessor lists serve only device-side ordering's wait lists: a graph
  // on a runtime without an ordering device does not pay 4 bytes an edge.
  bool ordering = false;
  for (uint32_t d = 0; d < runtime_->device_count(); ++d) {
    ordering = ordering || runtime_->device(d)->ordering();
  }
  pred_begin_.clear();
  pred_.clear();
  if (ordering) {
    pred_begin_.assign(n + 1, 0);
    for (uint32_t i = 0; i < n; ++i) pred_begin_[i + 1] = pred_begin_[i] + tasks_[i].pred_count;
    pred_.assign(edges_.size(), 0);
    for (uint32_t i = 0; i < n; ++i) fill[i] = pred_begin_[i];
    for (auto [a, b] : edges_) pred_[fill[b]++] = a;
  }
  roots_.clear();
  for (uint32_t i = 0; i < n; ++i) {
    if (tasks_[i].pred_count == 0) roots_.push_back(i);
  }
  buffer_modes_.clear();
  for (const auto& b : buffers_) buffer_modes_.emplace_back(b.get(), trackers_[b.get()].writes);
  finalized_ = true;
  return OkStatus();
}

}  // namespace peng::rt
