// The C ABI: checks every handle and argument, then calls into the C++ core.
// No exception crosses it: any that escapes the core becomes
// PENG_ERROR_INTERNAL (or OUT_OF_MEMORY) with its message.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>
#include <new>

#include "base/handle_table.h"
#include "base/status.h"
#include "graph/event.h"
#include "graph/graph.h"
#include "graph/module.h"
#include "hal/device.h"
#include "memory/buffer.h"
#include "runtime.h"
#include "sched/scheduler.h"
#include "trace/trace.h"

using namespace peng::rt;

namespace {

template <typename T, typename H>
T* Lookup(H handle) {
  return HandleTable<T>::Get().Lookup(reinterpret_cast<uint64_t>(handle));
}

template <typename H, typename T>
peng_status_t Publish(Ref<T> object, H* out) {
  uint64_t h = HandleTable<T>::Get().Insert(object.get());
  if (!h) return Report(PENG_ERROR_OUT_OF_MEMORY, "handle table is full");
  *out = reinterpret_cast<H>(h);
  return PENG_OK;
}

template <typename F>
peng_status_t Guard(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Report(PENG_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return Report(PENG_ERROR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return Report(PENG_ERROR_INTERNAL, "internal error");
  }
}

peng_status_t BadHandle(const char* what) {
  return Report(PENG_ERROR_INVALID_HANDLE, std::string("invalid ") + what + " handle");
}
peng_status_t NullOut(const char* what) {
  return Report(PENG_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

#define PENG_LOOKUP(Type, var, handle, what) \
  Type* var = Lookup<Type>(handle);          \
  if (!var) return BadHandle(what)
#define PENG_CHECK_OUT(ptr) \
  if (!(ptr)) return NullOut(#ptr)

}  // namespace

extern "C" {

void peng_runtime_options_init(peng_runtime_options_t* options) {
  if (!options) return;
  std::memset(options, 0, sizeof(*options));
  options->struct_size = sizeof(*options);
  options->policy = PENG_POLICY_EAGER;
}

peng_status_t peng_runtime_create(const peng_runtime_options_t* options,
                                  peng_runtime_t* out_runtime) {
  return Guard([&] {
    PENG_CHECK_OUT(out_runtime);
    *out_runtime = nullptr;
    // The options as first released (without watchdog_ms) are still accepted.
    if (options && options->struct_size != sizeof(peng_runtime_options_t) &&
        options->struct_size != offsetof(peng_runtime_options_t, watchdog_ms)) {
      return Report(PENG_ERROR_INVALID_ARGUMENT,
                    "options.struct_size does not match: call peng_runtime_options_init first");
    }
    auto rt = Runtime::Create(RuntimeOptions::FromC(options));
    if (!rt.ok()) return Report(rt.status());
    return Publish(std::move(*rt), out_runtime);
  });
}

static void ReleaseDeviceHandles(Runtime* rt);

peng_status_t peng_runtime_release(peng_runtime_t runtime) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    rt->Shutdown();
    ReleaseDeviceHandles(rt);
    HandleTable<Runtime>::Get().Remove(reinterpret_cast<uint64_t>(runtime));
    return PENG_OK;
  });
}

peng_status_t peng_runtime_device_count(peng_runtime_t runtime, uint32_t* out_count) {
  PENG_LOOKUP(Runtime, rt, runtime, "runtime");
  PENG_CHECK_OUT(out_count);
  *out_count = rt->device_count();
  return PENG_OK;
}

// One handle per device, made on first request and kept while the runtime lives.
static std::mutex g_device_handle_mutex;
static std::unordered_map<Device*, uint64_t>* g_device_handles =
    new std::unordered_map<Device*, uint64_t>();

static peng_status_t DeviceHandle(Device* device, peng_device_t* out) {
  std::lock_guard<std::mutex> lock(g_device_handle_mutex);
  auto it = g_device_handles->find(device);
  if (it != g_device_handles->end() && HandleTable<Device>::Get().Lookup(it->second) == device) {
    *out = reinterpret_cast<peng_device_t>(it->second);
    return PENG_OK;
  }
  uint64_t h = HandleTable<Device>::Get().Insert(device);
  if (!h) return Report(PENG_ERROR_OUT_OF_MEMORY, "handle table is full");
  (*g_device_handles)[device] = h;
  *out = reinterpret_cast<peng_device_t>(h);
  return PENG_OK;
}

// Drops the handles' references to the runtime's devices, so that the devices
// (and what they hold: an emulated device's server process) go with the
// runtime instead of living until the process ends.
static void ReleaseDeviceHandles(Runtime* rt) {
  std::lock_guard<std::mutex> lock(g_device_handle_mutex);
  for (uint32_t i = 0; i < rt->device_count(); ++i) {
    auto it = g_device_handles->find(rt->device(i));
    if (it == g_device_handles->end()) continue;
    HandleTable<Device>::Get().Remove(it->second);
    g_device_handles->erase(it);
  }
}

peng_status_t peng_runtime_device(peng_runtime_t runtime, uint32_t index, peng_device_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    if (index >= rt->device_count()) {
      return Report(PENG_ERROR_INVALID_ARGUMENT, "device index " + std::to_string(index) +
                                                     " out of range (" +
                                                     std::to_string(rt->device_count()) + ")");
    }
    return DeviceHandle(rt->device(index), out);
  });
}

peng_status_t peng_runtime_find_device(peng_runtime_t runtime, const char* name,
                                       peng_device_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    PENG_CHECK_OUT(name);
    Device* d = rt->FindDevice(name);
    if (!d) return Report(PENG_ERROR_NOT_FOUND, std::string("no device named '") + name + "'");
    return DeviceHandle(d, out);
  });
}

peng_status_t peng_runtime_absent_device_count(peng_runtime_t runtime, uint32_t* out_count) {
  PENG_LOOKUP(Runtime, rt, runtime, "runtime");
  PENG_CHECK_OUT(out_count);
  *out_count = uint32_t(rt->absent_devices().size());
  return PENG_OK;
}

peng_status_t peng_runtime_absent_device(peng_runtime_t runtime, uint32_t index,
                                         const char** out_name, const char** out_reason) {
  PENG_LOOKUP(Runtime, rt, runtime, "runtime");
  PENG_CHECK_OUT(out_name);
  PENG_CHECK_OUT(out_reason);
  const auto& absent = rt->absent_devices();
  if (index >= absent.size()) {
    return Report(PENG_ERROR_INVALID_ARGUMENT, "absent device index " + std::to_string(index) +
                                                   " out of range (" +
                                                   std::to_string(absent.size()) + ")");
  }
  *out_name = absent[index].name.c_str();
  *out_reason = absent[index].reason.c_str();
  return PENG_OK;
}

peng_status_t peng_runtime_set_policy(peng_runtime_t runtime, peng_policy_t policy) {
  PENG_LOOKUP(Runtime, rt, runtime, "runtime");
  if (RawEnum(policy) < PENG_POLICY_EAGER || RawEnum(policy) > PENG_POLICY_COST_MODEL) {
    return Report(PENG_ERROR_INVALID_ARGUMENT, "unknown policy");
  }
  rt->scheduler().set_policy(policy);
  return PENG_OK;
}

peng_status_t peng_runtime_wait_idle(peng_runtime_t runtime, uint64_t timeout_ns) {
  PENG_LOOKUP(Runtime, rt, runtime, "runtime");
  return Report(rt->scheduler().WaitIdle(timeout_ns));
}

peng_status_t peng_runtime_write_trace(peng_runtime_t runtime, const char* path) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(path);
    if (!rt->tracer()) {
      return Report(PENG_ERROR_INVALID_ARGUMENT, "tracing is off: set options.enable_trace");
    }
    return Report(rt->tracer()->Write(path));
  });
}

peng_status_t peng_runtime_save_perf_models(peng_runtime_t runtime, const char* path) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(path);
    return Report(rt->SavePerfModels(path));
  });
}

peng_status_t peng_device_info(peng_device_t device, peng_device_info_t* out_info) {
  PENG_LOOKUP(Device, d, device, "device");
  PENG_CHECK_OUT(out_info);
  *out_info = d->info();
  // Asks the backend, so that a device lost while idle (an emulated device's
  // server killed) shows as lost without work having failed on it first.
  if (!d->lost()) (void)d->CheckHealth();
  out_info->lost = d->lost() ? 1 : 0;
  return PENG_OK;
}

peng_status_t peng_device_describe(peng_device_t device, char* out, size_t size,
                                   size_t* out_length) {
  return Guard([&] {
    PENG_LOOKUP(Device, d, device, "device");
    if (size > 0 && !out) return Report(PENG_ERROR_INVALID_ARGUMENT, "out is NULL");
    std::string text = d->Describe();
    return peng_hal_write_text(text.data(), text.size(), out, size, out_length);
  });
}

// ------------------------------------------------------------------ buffers

peng_status_t peng_buffer_create(peng_runtime_t runtime, uint64_t size, peng_buffer_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    if (size == 0) return Report(PENG_ERROR_INVALID_ARGUMENT, "buffer size must not be 0");
    auto b = Buffer::Create(rt, size);
    if (!b.ok()) return Report(b.status());
    return Publish(std::move(*b), out);
  });
}

peng_status_t peng_buffer_release(peng_buffer_t buffer) {
  return Guard([&] {
    if (!HandleTable<Buffer>::Get().Remove(reinterpret_cast<uint64_t>(buffer))) {
      return BadHandle("buffer");
    }
    return PENG_OK;
  });
}

peng_status_t peng_buffer_size(peng_buffer_t buffer, uint64_t* out) {
  PENG_LOOKUP(Buffer, b, buffer, "buffer");
  PENG_CHECK_OUT(out);
  *out = b->size();
  return PENG_OK;
}

peng_status_t peng_buffer_write(peng_buffer_t buffer, uint64_t offset, uint64_t size,
                                const void* src) {
  return Guard([&] {
    PENG_LOOKUP(Buffer, b, buffer, "buffer");
    return Report(b->Write(offset, size, src));
  });
}

peng_status_t peng_buffer_read(peng_buffer_t buffer, uint64_t offset, uint64_t size, void* dst) {
  return Guard([&] {
    PENG_LOOKUP(Buffer, b, buffer, "buffer");
    return Report(b->Read(offset, size, dst));
  });
}

peng_status_t peng_buffer_valid_spaces(peng_buffer_t buffer, uint64_t* out_mask) {
  PENG_LOOKUP(Buffer, b, buffer, "buffer");
  PENG_CHECK_OUT(out_mask);
  *out_mask = b->ValidMask();
  return PENG_OK;
}

// ------------------------------------------------------------------ modules

static peng_status_t PublishModule(Result<Ref<Module>> m, peng_module_t* out) {
  if (!m.ok()) return Report(m.status());
  for (const auto& k : (*m)->kernels()) {
    uint64_t h = HandleTable<Kernel>::Get().Insert(k.get());
    if (!h) {
      for (uint64_t done : (*m)->kernel_handles()) HandleTable<Kernel>::Get().Remove(done);
      return Report(PENG_ERROR_OUT_OF_MEMORY, "handle table is full");
    }
    (*m)->kernel_handles().push_back(h);
  }
  return Publish(std::move(*m), out);
}

peng_status_t peng_module_create_native(peng_runtime_t runtime, const char* name,
                                        const peng_native_kernel_def_t* defs, uint32_t def_count,
                                        peng_module_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    return PublishModule(Module::CreateNative(rt, name ? name : "", defs, def_count), out);
  });
}

peng_status_t peng_module_load(peng_runtime_t runtime, const char* name, const void* data,
                               uint64_t size, peng_module_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    return PublishModule(Module::Load(rt, name ? name : "module", data, size), out);
  });
}

peng_status_t peng_module_load_file(peng_runtime_t runtime, const char* path, peng_module_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    PENG_CHECK_OUT(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) return Report(PENG_ERROR_IO, std::string("cannot open '") + path + "'");
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Report(PENG_ERROR_IO, std::string("cannot read '") + path + "'");
    return PublishModule(Module::Load(rt, path, bytes.data(), bytes.size()), out);
  });
}

peng_status_t peng_module_release(peng_module_t module) {
  return Guard([&] {
    Ref<Module> m = HandleTable<Module>::Get().Remove(reinterpret_cast<uint64_t>(module));
    if (!m) return BadHandle("module");
    for (uint64_t h : m->kernel_handles()) HandleTable<Kernel>::Get().Remove(h);
    return PENG_OK;
  });
}

peng_status_t peng_module_kernel_count(peng_module_t module, uint32_t* out) {
  PENG_LOOKUP(Module, m, module, "module");
  PENG_CHECK_OUT(out);
  *out = uint32_t(m->kernels().size());
  return PENG_OK;
}

peng_status_t peng_module_kernel(peng_module_t module, uint32_t index, peng_kernel_t* out) {
  PENG_LOOKUP(Module, m, module, "module");
  PENG_CHECK_OUT(out);
  if (index >= m->kernel_handles().size()) {
    return Report(PENG_ERROR_INVALID_ARGUMENT, "kernel index out of range");
  }
  *out = reinterpret_cast<peng_kernel_t>(m->kernel_handles()[index]);
  return PENG_OK;
}

peng_status_t peng_module_find_kernel(peng_module_t module, const char* name, peng_kernel_t* out) {
  PENG_LOOKUP(Module, m, module, "module");
  PENG_CHECK_OUT(out);
  PENG_CHECK_OUT(name);
  for (size_t i = 0; i < m->kernels().size(); ++i) {
    if (m->kernels()[i]->name() == name) {
      *out = reinterpret_cast<peng_kernel_t>(m->kernel_handles()[i]);
      return PENG_OK;
    }
  }
  return Report(PENG_ERROR_NOT_FOUND, std::string("module '") + m->name() +
                                          "' has no kernel named '" + name + "'");
}

peng_status_t peng_kernel_arg_count(peng_kernel_t kernel, uint32_t* out_count) {
  PENG_LOOKUP(Kernel, k, kernel, "kernel");
  PENG_CHECK_OUT(out_count);
  *out_count = uint32_t(k->args().size());
  return PENG_OK;
}

peng_status_t peng_kernel_arg(peng_kernel_t kernel, uint32_t index, peng_arg_desc_t* out_arg) {
  PENG_LOOKUP(Kernel, k, kernel, "kernel");
  PENG_CHECK_OUT(out_arg);
  if (index >= k->args().size()) {
    return Report(PENG_ERROR_INVALID_ARGUMENT, "kernel '" + k->name() + "' has " +
                                                   std::to_string(k->args().size()) +
                                                   " arguments, asked for " + std::to_string(index));
  }
  *out_arg = k->args()[index];
  return PENG_OK;
}

peng_status_t peng_kernel_name(peng_kernel_t kernel, const char** out_name) {
  PENG_LOOKUP(Kernel, k, kernel, "kernel");
  PENG_CHECK_OUT(out_name);
  *out_name = k->name().c_str();
  return PENG_OK;
}

peng_status_t peng_kernel_supported_on(peng_kernel_t kernel, peng_device_t device, int* out) {
  PENG_LOOKUP(Kernel, k, kernel, "kernel");
  PENG_LOOKUP(Device, d, device, "device");
  PENG_CHECK_OUT(out);
  *out = d->runtime() == k->runtime() && k->SupportedOn(d->index()) ? 1 : 0;
  return PENG_OK;
}

peng_status_t peng_kernel_is_data_plane(peng_kernel_t kernel, int* out) {
  PENG_LOOKUP(Kernel, k, kernel, "kernel");
  PENG_CHECK_OUT(out);
  *out = k->data_plane() ? 1 : 0;
  return PENG_OK;
}

// ------------------------------------------------------------------ graphs

peng_status_t peng_graph_create(peng_runtime_t runtime, peng_graph_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    return Publish(MakeRef<Graph>(rt), out);
  });
}

peng_status_t peng_graph_release(peng_graph_t graph) {
  return Guard([&] {
    if (!HandleTable<Graph>::Get().Remove(reinterpret_cast<uint64_t>(graph))) {
      return BadHandle("graph");
    }
    return PENG_OK;
  });
}

peng_status_t peng_graph_add_task(peng_graph_t graph, peng_kernel_t kernel,
                                  const peng_tensor_arg_t* args, uint32_t arg_count,
                                  const int64_t* constants, uint32_t constant_count,
                                  const peng_task_options_t* options, peng_task_t* out_task) {
  return Guard([&] {
    PENG_LOOKUP(Graph, g, graph, "graph");
    PENG_LOOKUP(Kernel, k, kernel, "kernel");
    auto id = g->AddTask(k, args, arg_count, constants, constant_count, options);
    if (!id.ok()) return Report(id.status());
    if (out_task) *out_task = *id;
    return PENG_OK;
  });
}

peng_status_t peng_graph_add_edge(peng_graph_t graph, peng_task_t before, peng_task_t after) {
  return Guard([&] {
    PENG_LOOKUP(Graph, g, graph, "graph");
    return Report(g->AddEdge(before, after));
  });
}

peng_status_t peng_graph_task_count(peng_graph_t graph, uint32_t* out) {
  PENG_LOOKUP(Graph, g, graph, "graph");
  PENG_CHECK_OUT(out);
  *out = g->task_count();
  return PENG_OK;
}

peng_status_t peng_graph_submit(peng_graph_t graph, const peng_event_t* wait_events,
                                uint32_t wait_count, peng_event_t* out_event) {
  return Guard([&] {
    PENG_LOOKUP(Graph, g, graph, "graph");
    if (wait_count && !wait_events) return NullOut("wait_events");
    std::vector<Ref<Event>> waits;
    waits.reserve(wait_count);
    for (uint32_t i = 0; i < wait_count; ++i) {
      Event* e = Lookup<Event>(wait_events[i]);
      if (!e) return BadHandle("wait event");
      waits.emplace_back(e);
    }
    auto done = g->runtime()->scheduler().Submit(g, waits);
    if (!done.ok()) return Report(done.status());
    if (out_event) return Publish(std::move(*done), out_event);
    return PENG_OK;
  });
}

// ------------------------------------------------------------------ events

peng_status_t peng_event_create(peng_runtime_t runtime, peng_event_t* out) {
  return Guard([&] {
    PENG_LOOKUP(Runtime, rt, runtime, "runtime");
    PENG_CHECK_OUT(out);
    return Publish(MakeRef<Event>(rt), out);
  });
}

peng_status_t peng_event_signal(peng_event_t event, peng_status_t status) {
  return Guard([&] {
    PENG_LOOKUP(Event, e, event, "event");
    if (!e->Complete(status)) {
      return Report(PENG_ERROR_INVALID_ARGUMENT, "event was already signalled");
    }
    return PENG_OK;
  });
}

peng_status_t peng_event_wait(peng_event_t event, uint64_t timeout_ns) {
  return Guard([&] {
    PENG_LOOKUP(Event, e, event, "event");
    Ref<Event> keep(e);
    peng_status_t st = keep->Wait(timeout_ns);
    if (st == PENG_ERROR_TIMEOUT) return Report(st, "event wait timed out");
    if (st != PENG_OK) {
      return Report(st, keep->message().empty()
                            ? std::string("the awaited work failed: ") + peng_status_string(st)
                            : keep->message());
    }
    return PENG_OK;
  });
}

peng_status_t peng_event_query(peng_event_t event) {
  PENG_LOOKUP(Event, e, event, "event");
  if (!e->IsComplete()) return PENG_ERROR_TIMEOUT;
  return e->status();
}

peng_status_t peng_event_release(peng_event_t event) {
  return Guard([&] {
    if (!HandleTable<Event>::Get().Remove(reinterpret_cast<uint64_t>(event))) {
      return BadHandle("event");
    }
    return PENG_OK;
  });
}

}  // extern "C"
