/* The null backend: the skeleton to copy when porting a new accelerator.
 *
 * Every slot is filled and every operation returns PENG_ERROR_UNIMPLEMENTED,
 * so the runtime can enumerate the device, report it, and fail cleanly when
 * work reaches it. See README.md beside this file for how to turn a copy of
 * it into a real backend. Plain C on purpose: a vendor's driver team can
 * build it with any toolchain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peng/hal.h"

typedef struct null_device {
  peng_hal_device_t base; /* first: the runtime sees the vtable through it */
  char name[PENG_MAX_NAME];
  peng_device_kind_t kind;
  uint32_t memory_space;
  /* Attaches a message to a failing status (peng_hal_device_params_t). */
  peng_status_t (*set_error)(peng_status_t code, const char* message);
} null_device_t;

typedef struct null_queue {
  peng_hal_queue_t base;
} null_queue_t;

/* ----------------------------------------------------------------- queue */

static void null_queue_destroy(peng_hal_queue_t* queue) { free(queue); }

static peng_status_t null_queue_enqueue_copy(peng_hal_queue_t* queue, const peng_hal_copy_t* copy,
                                             peng_hal_completion_t completion) {
  (void)queue, (void)copy, (void)completion;
  /* TODO(port): start a DMA; call completion.fn from its interrupt handler. */
  return PENG_ERROR_UNIMPLEMENTED;
}

static peng_status_t null_queue_enqueue_dispatch(peng_hal_queue_t* queue,
                                                 const peng_hal_dispatch_t* dispatch,
                                                 peng_hal_completion_t completion) {
  (void)queue, (void)dispatch, (void)completion;
  /* TODO(port): write a command into the device's ring and ring its doorbell. */
  return PENG_ERROR_UNIMPLEMENTED;
}

static peng_status_t null_queue_wait_idle(peng_hal_queue_t* queue, uint64_t timeout_ns) {
  (void)queue, (void)timeout_ns;
  return PENG_OK; /* nothing was ever enqueued */
}

static const peng_hal_queue_vtable_t null_queue_vtable = {
    /*.destroy = */ null_queue_destroy,
    /*.enqueue_copy = */ null_queue_enqueue_copy,
    /*.enqueue_dispatch = */ null_queue_enqueue_dispatch,
    /*.wait_idle = */ null_queue_wait_idle,
    /*.help = */ NULL, /* (optional) only for work that runs on host threads */
};

/* ---------------------------------------------------------------- device */

static void null_device_destroy(peng_hal_device_t* device) { free(device); }

static peng_status_t null_device_query_info(peng_hal_device_t* device, peng_device_info_t* out) {
  null_device_t* d = (null_device_t*)device;
  memset(out, 0, sizeof(*out));
  snprintf(out->name, sizeof(out->name), "%s", d->name);
  snprintf(out->backend, sizeof(out->backend), "null");
  snprintf(out->target, sizeof(out->target), "null");
  out->kind = d->kind;
  out->memory_space = d->memory_space;
  return PENG_OK;
}

static peng_status_t null_device_supports(peng_hal_device_t* device,
                                          const peng_hal_executable_spec_t* spec, int* out) {
  (void)device;
  /* TODO(port): accept the targets and formats your compiler emits ("opencl"
   * with "opencl-c", ...), and check spec->features against the device. */
  *out = spec && spec->target && strcmp(spec->target, "null") == 0;
  return PENG_OK;
}

static peng_status_t null_device_allocate(peng_hal_device_t* device, uint64_t size,
                                          peng_hal_buffer_t** out) {
  (void)device, (void)size, (void)out;
  return PENG_ERROR_UNIMPLEMENTED;
}

static peng_status_t null_device_load_executable(peng_hal_device_t* device,
                                                 const peng_hal_executable_spec_t* spec,
                                                 peng_hal_executable_t** out) {
  null_device_t* d = (null_device_t*)device;
  (void)spec, (void)out;
  /* TODO(port): build or load spec->code once, resolve every entry; on
   * failure say why (a build log) through set_error. */
  return d->set_error(PENG_ERROR_UNIMPLEMENTED, "the null backend cannot load code");
}

static peng_status_t null_device_create_queue(peng_hal_device_t* device, peng_hal_queue_t** out) {
  (void)device;
  null_queue_t* q = (null_queue_t*)calloc(1, sizeof(null_queue_t));
  if (!q) return PENG_ERROR_OUT_OF_MEMORY;
  q->base.resource.vtable = &null_queue_vtable;
  *out = &q->base;
  return PENG_OK;
}

static const peng_hal_device_vtable_t null_device_vtable = {
    /*.destroy = */ null_device_destroy,
    /*.query_info = */ null_device_query_info,
    /*.supports = */ null_device_supports,
    /*.allocate = */ null_device_allocate,
    /*.load_executable = */ null_device_load_executable,
    /*.create_queue = */ null_device_create_queue,
    /*.check_health = */ NULL, /* (optional) */
    /*.describe = */ NULL,     /* (optional) */
};

/* --------------------------------------------------------------- factory */

static peng_status_t null_enumerate(uint32_t* out_count) {
  *out_count = 1;
  return PENG_OK;
}

static peng_status_t null_keep_status(peng_status_t code, const char* message) {
  (void)message;
  return code;
}

static peng_status_t null_create_device(uint32_t index, const peng_hal_device_params_t* params,
                                        peng_hal_device_t** out) {
  (void)index;
  null_device_t* d = (null_device_t*)calloc(1, sizeof(null_device_t));
  if (!d) return PENG_ERROR_OUT_OF_MEMORY;
  d->base.resource.vtable = &null_device_vtable;
  snprintf(d->name, sizeof(d->name), "%s", params && params->name ? params->name : "null0");
  d->kind = params ? params->kind : PENG_DEVICE_NPU;
  d->memory_space = params ? params->memory_space : 0;
  d->set_error = params && params->set_error ? params->set_error : null_keep_status;
  *out = &d->base;
  return PENG_OK;
}

static const peng_hal_factory_t null_factory = {
    /*.abi_version = */ PENG_HAL_ABI_VERSION,
    /*.name = */ "null",
    /*.enumerate = */ null_enumerate,
    /*.create_device = */ null_create_device,
};

const peng_hal_factory_t* peng_backend_null_factory(void) { return &null_factory; }

/* Built as a plugin (PENG_NULL_AS_PLUGIN), the same code registers itself. */
#ifdef PENG_NULL_AS_PLUGIN
PENG_HAL_EXPORT const peng_hal_factory_t* peng_hal_plugin_register(void) {
  static peng_hal_factory_t plugin;
  plugin = null_factory;
  plugin.name = PENG_NULL_PLUGIN_NAME;
  return &plugin;
}
#endif
