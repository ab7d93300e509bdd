/* peng/hal.h — the device interface. A backend (built in, or a vendor plugin)
 * implements four small C vtables: device, buffer, executable and queue.
 * `destroy` is the first slot of each; slots marked (optional) may be NULL and
 * the runtime then uses a shared default or reports PENG_ERROR_UNIMPLEMENTED.
 *
 * Every HAL object starts with a peng_hal_resource_t whose first member is its
 * vtable pointer. The runtime owns each object it got from a backend and calls
 * destroy exactly once, after the last operation on it has completed.
 *
 * A backend exposes itself with a factory:
 *
 *   static const peng_hal_factory_t kFactory = {
 *       .abi_version = PENG_HAL_ABI_VERSION,
 *       .name = "mynpu",
 *       .enumerate = mynpu_enumerate,     // how many devices are there?
 *       .create_device = mynpu_create,    // open device i
 *   };
 *   // In a plugin .so found through PENG_PLUGIN_PATH:
 *   PENG_HAL_EXPORT const peng_hal_factory_t* peng_hal_plugin_register(void) {
 *     return &kFactory;
 *   }
 *
 * backends/null is the skeleton to copy.
 *
 * Queues: operations on one queue may run concurrently and complete in any
 * order; the runtime orders dependent work itself, through completions. Any
 * thread may call enqueue_* at any time, also concurrently and from inside a
 * completion: a backend makes its queue thread-safe.
 *
 * Device-side ordering (optional): a queue whose vtable sets
 * PENG_HAL_QUEUE_ORDERING can chain work on the device (an in-order queue,
 * event wait lists). The runtime then enqueues a launch whose predecessors
 * all went to the same queue as soon as they are enqueued, not when they
 * complete, naming them in dispatch.waits: a chain of launches on one
 * accelerator costs no host round trip per launch. See peng_hal_dispatch_t.
 *
 * Completions: enqueue_* calls return at once; when the operation finishes the
 * backend calls completion.fn(completion.user_data, status) exactly once, from
 * any thread (a worker, a driver interrupt thread). A backend must not call it
 * from inside the enqueue call that fails: a failing enqueue returns the error
 * and never calls the completion.
 *
 * Helping: a backend whose operations run on host threads (the CPU backend)
 * may let a thread that waits for them run them itself, through the optional
 * queue slot `help`. The runtime calls it from a thread that waits for a
 * graph run, asking only for that run's operations, so the waiter works
 * instead of sleeping while a worker wakes up.
 */
#ifndef PENG_HAL_H_
#define PENG_HAL_H_

#include "peng/peng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 3: executables with entry points (one load per module and target, not per
 * kernel), launch metadata per entry, ISA features, error messages through
 * peng_hal_device_params_t.set_error, backend settings as key/value text,
 * the optional queue slot `help`, device-side ordering (dispatch ids and
 * waits, PENG_HAL_QUEUE_ORDERING), and the embedded peng_dispatch_state_t
 * gained workspace_size (kernel ABI 2).
 * 4: the optional device slot `describe` (a backend's own figures for tools
 * such as peng-info). */
#define PENG_HAL_ABI_VERSION 4
#define PENG_HAL_EXPORT PENG_API
#define PENG_HAL_PLUGIN_SYMBOL "peng_hal_plugin_register"

typedef struct peng_hal_resource {
  const void* vtable; /* points at a vtable whose first slot is destroy */
} peng_hal_resource_t;

typedef struct peng_hal_device peng_hal_device_t;
typedef struct peng_hal_buffer peng_hal_buffer_t;
typedef struct peng_hal_executable peng_hal_executable_t;
typedef struct peng_hal_queue peng_hal_queue_t;

typedef struct peng_hal_completion {
  void (*fn)(void* user_data, peng_status_t status);
  void* user_data;
} peng_hal_completion_t;

/* One entry point of an executable: a kernel and how it is launched. */
typedef struct peng_hal_entry_spec {
  const char* name;             /* the kernel's name */
  const char* symbol;           /* code executables: its symbol or function name in the code */
  peng_kernel_fn_t fn;          /* "native" executables: the function */
  uint32_t workgroup_size[3];   /* work-items per workgroup; {1, 1, 1} on CPUs */
  uint64_t workspace_size;      /* scratch bytes per running workgroup */
} peng_hal_entry_spec_t;

/* What a device loads: one executable holding many kernels, e.g. the code of
 * one module.peng for one target (an ELF with every kernel, an OpenCL
 * program), or a set of native functions. Loaded once per device; dispatches
 * name an entry by its index. */
typedef struct peng_hal_executable_spec {
  const char* target;       /* "host", "rvv", "opencl", ... */
  const char* format;       /* "native" (entries[i].fn), "elf", "opencl-c" */
  const void* code;         /* the image or source; NULL for "native" */
  uint64_t code_size;
  const char* arch;         /* ELF code: "x86_64", "riscv64"; NULL otherwise */
  /* Comma-separated ISA features the code needs ("avx2,fma", "v"); a device
   * that lacks one (or does not know its name) must not run the code. */
  const char* features;
  uint32_t min_vlen;        /* RVV code: valid for VLEN in [min, max] bits; 0: no bound */
  uint32_t max_vlen;
  uint32_t entry_count;
  const peng_hal_entry_spec_t* entries;
} peng_hal_executable_spec_t;

/* One kernel launch. Buffers are device buffers already valid in the
 * device's memory space. The record and all it points to stay valid until the
 * completion is called, so a backend may keep pointers instead of copying. */
typedef struct peng_hal_dispatch {
  peng_hal_executable_t* executable;
  uint32_t entry;                    /* index into the executable's entries */
  peng_dispatch_state_t state;       /* state.bindings == binding_slots */
  peng_hal_buffer_t* const* buffers; /* state.binding_count of them */
  void** binding_slots;              /* the device writes each buffer's device address here */
  uint64_t* timestamps;              /* [start, end] in CLOCK_MONOTONIC ns; a device that
                                        measures writes them, others leave 0 */
  /* Work the timing model charges for this launch (see peng_device_info_t). */
  double flops;
  double bytes;
  /* On queues with PENG_HAL_QUEUE_ORDERING, this launch's number on its
   * queue: unique, never 0, taken in increasing order (concurrent enqueues
   * may arrive out of it). 0 on other queues. */
  uint64_t id;
  /* Device-side ordering, only on queues with PENG_HAL_QUEUE_ORDERING (else
   * always 0): launches enqueued earlier on this queue, by id, that must
   * complete before this one starts. Some may have completed already (and
   * their completions been called): those are satisfied. If one of them
   * failed, the backend completes this launch with PENG_ERROR_CANCELLED, or
   * runs it anyway (the runtime then discards its result). The runtime
   * treats a launch's outputs as valid in the device's memory, for later
   * launches on this queue, from the time the launch is enqueued. */
  uint32_t wait_count;
  const uint64_t* waits;
} peng_hal_dispatch_t;

/* A copy between a device buffer and host memory or between two buffers of
 * this device. Exactly one of src_buffer/src_host and of dst_buffer/dst_host
 * is set. */
typedef struct peng_hal_copy {
  peng_hal_buffer_t* src_buffer;
  const void* src_host;
  uint64_t src_offset;
  peng_hal_buffer_t* dst_buffer;
  void* dst_host;
  uint64_t dst_offset;
  uint64_t size;
  uint64_t* timestamps; /* NULL, or [start, end] as in peng_hal_dispatch_t */
} peng_hal_copy_t;

typedef struct peng_hal_device_vtable {
  void (*destroy)(peng_hal_device_t* device);
  peng_status_t (*query_info)(peng_hal_device_t* device, peng_device_info_t* out_info);
  /* Whether the device can run this executable; *out_supported = 0 or 1.
   * When 0, a backend may say why through params.set_error (that call's
   * status is then ignored): "needs avx512f, which this CPU lacks". */
  peng_status_t (*supports)(peng_hal_device_t* device, const peng_hal_executable_spec_t* spec,
                            int* out_supported);
  peng_status_t (*allocate)(peng_hal_device_t* device, uint64_t size,
                            peng_hal_buffer_t** out_buffer);
  /* The spec and all it points to are valid during the call only. */
  peng_status_t (*load_executable)(peng_hal_device_t* device,
                                   const peng_hal_executable_spec_t* spec,
                                   peng_hal_executable_t** out_executable);
  peng_status_t (*create_queue)(peng_hal_device_t* device, peng_hal_queue_t** out_queue);
  /* PENG_OK while healthy; PENG_ERROR_DEVICE_LOST once lost, for good. */
  peng_status_t (*check_health)(peng_hal_device_t* device);
  /* (optional) What the device is beyond peng_device_info_t, as text: one
   * "Name: value" per line (a driver's version, its limits). Writes at most
   * `size` bytes including the NUL; *out_length is the text's full length
   * (without the NUL), so a caller can ask again with more room. */
  peng_status_t (*describe)(peng_hal_device_t* device, char* out, size_t size,
                            size_t* out_length);
} peng_hal_device_vtable_t;

typedef struct peng_hal_buffer_vtable {
  void (*destroy)(peng_hal_buffer_t* buffer);
  /* (optional) A host pointer to the contents, if the memory is host visible.
   * Devices in memory space 0 must implement it. */
  peng_status_t (*map)(peng_hal_buffer_t* buffer, void** out_host_ptr);
} peng_hal_buffer_vtable_t;

typedef struct peng_hal_executable_vtable {
  void (*destroy)(peng_hal_executable_t* executable);
} peng_hal_executable_vtable_t;

typedef struct peng_hal_queue_vtable {
  void (*destroy)(peng_hal_queue_t* queue);
  peng_status_t (*enqueue_copy)(peng_hal_queue_t* queue, const peng_hal_copy_t* copy,
                                peng_hal_completion_t completion);
  peng_status_t (*enqueue_dispatch)(peng_hal_queue_t* queue, const peng_hal_dispatch_t* dispatch,
                                    peng_hal_completion_t completion);
  /* Waits until every operation enqueued so far has completed. */
  peng_status_t (*wait_idle)(peng_hal_queue_t* queue, uint64_t timeout_ns);
  /* (optional) Runs on the calling thread operations of this queue that have
   * not started and that take(user, &completion) accepts, their completions
   * included, until none it accepts is left; returns how many ran (0 if none,
   * or if the backend cannot run any here now). Everything it started has
   * completed when it returns. The backend keeps its promises for the work it
   * runs here (a workgroup's thread_index is still 0..compute_units-1 and
   * unique among the workgroups running at once). NULL: waiters sleep. */
  uint32_t (*help)(peng_hal_queue_t* queue,
                   int (*take)(void* user, const peng_hal_completion_t* completion), void* user);
  /* PENG_HAL_QUEUE_* bits; 0 (the default of a shorter initializer): none. */
  uint32_t flags;
} peng_hal_queue_vtable_t;

/* The queue honours peng_hal_dispatch_t.waits (device-side ordering). Such a
 * backend should also fill dispatch.timestamps: a launch waits on the device
 * for its predecessors, so the host's enqueue time is not its start. */
#define PENG_HAL_QUEUE_ORDERING 1u

struct peng_hal_device {
  peng_hal_resource_t resource;
};
struct peng_hal_buffer {
  peng_hal_resource_t resource;
};
struct peng_hal_executable {
  peng_hal_resource_t resource;
};
struct peng_hal_queue {
  peng_hal_resource_t resource;
};

/* One backend setting: a [[device]] key of the platform profile that is not
 * the runtime's own, its value as text (numbers and booleans printed, arrays
 * joined with ',', sub-tables flattened to "table.key"). */
typedef struct peng_hal_setting {
  const char* key;
  const char* value;
} peng_hal_setting_t;

/* Settings for one device instance, from a platform profile or defaults.
 * The runtime's keys arrive as fields, the rest as `settings`; backends
 * ignore settings they do not know. */
typedef struct peng_hal_device_params {
  const char* name;          /* "cpu0", "npu0": unique device name to report */
  peng_device_kind_t kind;
  uint32_t memory_space;     /* assigned by the runtime: 0 = host, else own */
  uint32_t threads;          /* 0 = default */
  uint64_t memory_bytes;     /* 0 = default */
  /* Timing model: when gflops > 0 a dispatch takes at least
   * launch_us + flops / gflops (and bytes / mem_gbps), as on the modelled board. */
  double model_gflops;
  double model_mem_gbps;
  double model_launch_us;
  /* Link to host memory, for discrete memory spaces (bandwidth in GB/s). */
  double link_gbps;
  double link_latency_us;
  /* Comma-separated kernel targets the device accepts; NULL: the backend's own. */
  const char* targets;
  /* Attaches a message to a failing status: a backend calls it on the failing
   * thread just before it returns the status (or calls a completion with it),
   * and returns what it returns: `return params->set_error(code, "...")`.
   * The text reaches the user's peng_status message. Never NULL. */
  peng_status_t (*set_error)(peng_status_t code, const char* message);
  /* The profile's other keys for this device, valid during create_device only. */
  const peng_hal_setting_t* settings;
  uint32_t setting_count;
} peng_hal_device_params_t;

/* Whether the comma-separated `list` ("host,rvv", params.targets) holds
 * `item` exactly. */
static inline int peng_hal_list_contains(const char* list, const char* item) {
  const char* p = list;
  while (p && item) {
    const char* a = p;
    const char* b = item;
    while (*a && *a != ',' && *a == *b) ++a, ++b;
    if ((*a == ',' || *a == '\0') && *b == '\0') return 1;
    while (*p && *p != ',') ++p;
    if (!*p) return 0;
    ++p;
  }
  return 0;
}

/* The value of setting `key`, or NULL. */
static inline const char* peng_hal_setting(const peng_hal_device_params_t* params,
                                           const char* key) {
  uint32_t i;
  for (i = 0; params && i < params->setting_count; ++i) {
    const char* a = params->settings[i].key;
    const char* b = key;
    while (*a && *a == *b) ++a, ++b;
    if (*a == *b) return params->settings[i].value;
  }
  return NULL;
}

/* Writes `length` bytes of `text` as `describe` must: *out_length (optional)
 * gets the full length, `out` (when size > 0) at most size - 1 bytes and a
 * NUL. Backends end their describe with it. */
static inline peng_status_t peng_hal_write_text(const char* text, size_t length, char* out,
                                                size_t size, size_t* out_length) {
  size_t i, n = size > 0 ? (length < size - 1 ? length : size - 1) : 0;
  if (out_length) *out_length = length;
  if (size == 0 || !out) return PENG_OK;
  for (i = 0; i < n; ++i) out[i] = text[i];
  out[n] = '\0';
  return PENG_OK;
}

typedef struct peng_hal_factory {
  uint32_t abi_version;      /* PENG_HAL_ABI_VERSION */
  const char* name;
  /* Number of devices this backend can open on this machine. */
  peng_status_t (*enumerate)(uint32_t* out_count);
  peng_status_t (*create_device)(uint32_t index, const peng_hal_device_params_t* params,
                                 peng_hal_device_t** out_device);
} peng_hal_factory_t;

typedef const peng_hal_factory_t* (*peng_hal_plugin_register_fn_t)(void);

/* Calls through the vtables, for backends and the runtime alike. */
#define PENG_HAL_VTABLE(object, type) ((const type*)((const peng_hal_resource_t*)(object))->vtable)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PENG_HAL_H_ */
