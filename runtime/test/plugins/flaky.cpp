// A test backend that dies: it runs dispatches and copies inline, in its own
// memory space, until a set number of dispatches (the profile's `fail_after`
// setting; none: never), then reports every later operation and its health
// as PENG_ERROR_DEVICE_LOST, like an accelerator that fell off the bus.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <string>

#include "peng/hal.h"

namespace {

struct Device {
  peng_hal_device_t base;
  std::string name;
  uint32_t space;
  uint32_t budget;
  std::atomic<uint32_t> dispatches{0};
  std::atomic<bool> lost{false};
};
struct Buffer {
  peng_hal_buffer_t base;
  void* data;
};
struct Exe {
  peng_hal_executable_t base;
  std::vector<peng_kernel_fn_t> fns;
};
struct Queue {
  peng_hal_queue_t base;
  Device* dev;
};

void BufDestroy(peng_hal_buffer_t* b) {
  std::free(reinterpret_cast<Buffer*>(b)->data);
  delete reinterpret_cast<Buffer*>(b);
}
peng_status_t BufMap(peng_hal_buffer_t* b, void** out) {
  *out = reinterpret_cast<Buffer*>(b)->data;
  return PENG_OK;
}
const peng_hal_buffer_vtable_t kBuf = {BufDestroy, BufMap};
void ExeDestroy(peng_hal_executable_t* e) { delete reinterpret_cast<Exe*>(e); }
const peng_hal_executable_vtable_t kExe = {ExeDestroy};

void* Data(peng_hal_buffer_t* b) { return reinterpret_cast<Buffer*>(b)->data; }

void QDestroy(peng_hal_queue_t* q) { delete reinterpret_cast<Queue*>(q); }
peng_status_t QCopy(peng_hal_queue_t* q, const peng_hal_copy_t* c, peng_hal_completion_t done) {
  Device* dev = reinterpret_cast<Queue*>(q)->dev;
  if (dev->lost) return PENG_ERROR_DEVICE_LOST;
  const char* src = c->src_buffer ? static_cast<const char*>(Data(c->src_buffer))
                                  : static_cast<const char*>(c->src_host);
  char* dst = c->dst_buffer ? static_cast<char*>(Data(c->dst_buffer)) : static_cast<char*>(c->dst_host);
  std::memcpy(dst + c->dst_offset, src + c->src_offset, c->size);
  done.fn(done.user_data, PENG_OK);
  return PENG_OK;
}
peng_status_t QDispatch(peng_hal_queue_t* q, const peng_hal_dispatch_t* d,
                        peng_hal_completion_t done) {
  Device* dev = reinterpret_cast<Queue*>(q)->dev;
  if (dev->budget && dev->dispatches.fetch_add(1) >= dev->budget) dev->lost = true;
  if (dev->lost) {
    // Half the time the loss shows at enqueue, half at completion.
    if (dev->dispatches % 2) return PENG_ERROR_DEVICE_LOST;
    done.fn(done.user_data, PENG_ERROR_DEVICE_LOST);
    return PENG_OK;
  }
  for (uint32_t i = 0; i < d->state.binding_count; ++i) d->binding_slots[i] = Data(d->buffers[i]);
  auto fn = reinterpret_cast<Exe*>(d->executable)->fns[d->entry];
  peng_workgroup_state_t wg{};
  int rc = 0;
  for (uint32_t z = 0; z < d->state.workgroup_count[2]; ++z)
    for (uint32_t y = 0; y < d->state.workgroup_count[1]; ++y)
      for (uint32_t x = 0; x < d->state.workgroup_count[0]; ++x) {
        wg.workgroup_id[0] = x, wg.workgroup_id[1] = y, wg.workgroup_id[2] = z;
        rc |= fn(&d->state, &wg);
      }
  done.fn(done.user_data, rc ? PENG_ERROR_KERNEL_FAILED : PENG_OK);
  return PENG_OK;
}
peng_status_t QWait(peng_hal_queue_t*, uint64_t) { return PENG_OK; }
const peng_hal_queue_vtable_t kQueue = {QDestroy, QCopy, QDispatch, QWait};

void DevDestroy(peng_hal_device_t* d) { delete reinterpret_cast<Device*>(d); }
peng_status_t DevInfo(peng_hal_device_t* d, peng_device_info_t* out) {
  auto* dev = reinterpret_cast<Device*>(d);
  std::memset(out, 0, sizeof(*out));
  std::strncpy(out->name, dev->name.c_str(), sizeof(out->name) - 1);
  std::strcpy(out->target, "host");
  out->kind = PENG_DEVICE_NPU;
  out->memory_space = dev->space;
  out->compute_units = 1;
  return PENG_OK;
}
peng_status_t DevSupports(peng_hal_device_t*, const peng_hal_executable_spec_t* x, int* out) {
  *out = std::strcmp(x->format, "native") == 0 && std::strcmp(x->target, "host") == 0;
  return PENG_OK;
}
peng_status_t DevAlloc(peng_hal_device_t* d, uint64_t size, peng_hal_buffer_t** out) {
  if (reinterpret_cast<Device*>(d)->lost) return PENG_ERROR_DEVICE_LOST;
  *out = &(new Buffer{{&kBuf}, std::calloc(1, size ? size : 1)})->base;
  return PENG_OK;
}
std::atomic<uint32_t> g_loads{0};

peng_status_t DevLoad(peng_hal_device_t*, const peng_hal_executable_spec_t* x,
                      peng_hal_executable_t** out) {
  g_loads.fetch_add(1);
  auto* exe = new Exe{{&kExe}, {}};
  for (uint32_t i = 0; i < x->entry_count; ++i) exe->fns.push_back(x->entries[i].fn);
  *out = &exe->base;
  return PENG_OK;
}
peng_status_t DevQueue(peng_hal_device_t* d, peng_hal_queue_t** out) {
  *out = &(new Queue{{&kQueue}, reinterpret_cast<Device*>(d)})->base;
  return PENG_OK;
}
peng_status_t DevHealth(peng_hal_device_t* d) {
  return reinterpret_cast<Device*>(d)->lost ? PENG_ERROR_DEVICE_LOST : PENG_OK;
}
const peng_hal_device_vtable_t kDevice = {DevDestroy, DevInfo,  DevSupports, DevAlloc,
                                          DevLoad,    DevQueue, DevHealth};

peng_status_t Enumerate(uint32_t* n) {
  *n = 1;
  return PENG_OK;
}
peng_status_t Create(uint32_t, const peng_hal_device_params_t* p, peng_hal_device_t** out) {
  auto* dev = new Device();
  dev->base.resource.vtable = &kDevice;
  dev->name = p->name;
  dev->space = p->memory_space;
  // A backend setting from the platform profile (hal.h: peng_hal_setting).
  const char* fail_after = peng_hal_setting(p, "fail_after");
  dev->budget = fail_after ? uint32_t(std::strtoul(fail_after, nullptr, 10)) : 0;
  *out = &dev->base;
  return PENG_OK;
}
const peng_hal_factory_t kFactory = {PENG_HAL_ABI_VERSION, "flaky", Enumerate, Create};

}  // namespace

extern "C" PENG_HAL_EXPORT const peng_hal_factory_t* peng_hal_plugin_register(void) {
  return &kFactory;
}

// How many executables this plugin has loaded: tests check one load per
// module and target, however many kernels it holds.
extern "C" PENG_HAL_EXPORT uint32_t peng_test_flaky_loads(void) { return g_loads.load(); }
