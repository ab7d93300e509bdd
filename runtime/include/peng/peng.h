/* peng.h — the stable C ABI of the Peng runtime.
 *
 * Every call that can fail returns a peng_status_t; results come back through
 * out_ parameters. No call aborts the process on bad input. After a failing
 * call, peng_last_error_message() tells what went wrong on this thread.
 *
 * Handles are opaque, typed and checked: a destroyed, foreign or made-up
 * handle gives PENG_ERROR_INVALID_HANDLE, never a crash.
 *
 * Usage:
 *   peng_runtime_t rt;
 *   peng_runtime_create(NULL, &rt);                  // discovers devices
 *   peng_buffer_t a;
 *   peng_buffer_create(rt, 4096, &a);
 *   peng_buffer_write(a, 0, 4096, host_data);
 *   peng_module_t mod;                               // C functions through the kernel ABI
 *   peng_module_create_native(rt, "my_kernels", defs, n_defs, &mod);
 *   peng_kernel_t k;
 *   peng_module_find_kernel(mod, "scale", &k);
 *   peng_graph_t g;
 *   peng_graph_create(rt, &g);
 *   peng_tensor_arg_t args[] = {{a, PENG_DTYPE_F32, 1, {1024}}};
 *   peng_task_t t;
 *   peng_graph_add_task(g, k, args, 1, NULL, 0, NULL, &t);
 *   peng_event_t done;
 *   peng_graph_submit(g, NULL, 0, &done);
 *   peng_event_wait(done, PENG_WAIT_FOREVER);        // returns the graph's first error
 *   peng_buffer_read(a, 0, 4096, host_data);
 *   ... peng_*_release() each object.
 */
#ifndef PENG_PENG_H_
#define PENG_PENG_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PENG_API __declspec(dllexport)
#else
#define PENG_API __attribute__((visibility("default")))
#endif

#define PENG_API_VERSION 1

/* ------------------------------------------------------------------ status */

typedef enum peng_status_e {
  PENG_OK = 0,
  PENG_ERROR_INVALID_ARGUMENT = 1,
  PENG_ERROR_INVALID_HANDLE = 2,
  PENG_ERROR_OUT_OF_MEMORY = 3,
  PENG_ERROR_UNIMPLEMENTED = 4,
  PENG_ERROR_UNSUPPORTED = 5, /* no device can run it */
  PENG_ERROR_NOT_FOUND = 6,
  PENG_ERROR_DEVICE_LOST = 7,
  PENG_ERROR_CANCELLED = 8, /* a task it depended on failed */
  PENG_ERROR_TIMEOUT = 9,
  PENG_ERROR_PLUGIN_LOAD = 10,
  PENG_ERROR_CORRUPT_DATA = 11,
  PENG_ERROR_KERNEL_FAILED = 12, /* the kernel itself returned non-zero */
  PENG_ERROR_IO = 13,
  PENG_ERROR_INTERNAL = 14,
} peng_status_t;

/* A static string naming the code, e.g. "PENG_ERROR_INVALID_HANDLE". */
PENG_API const char* peng_status_string(peng_status_t status);
/* The message of the last failing call on this thread ("" if none). Valid
 * until the next failing call on this thread. */
PENG_API const char* peng_last_error_message(void);

/* ----------------------------------------------------------------- handles */

typedef struct peng_runtime_opaque* peng_runtime_t;
typedef struct peng_device_opaque* peng_device_t;
typedef struct peng_buffer_opaque* peng_buffer_t;
typedef struct peng_module_opaque* peng_module_t;
typedef struct peng_kernel_opaque* peng_kernel_t;
typedef struct peng_graph_opaque* peng_graph_t;
typedef struct peng_event_opaque* peng_event_t;
/* A task inside one graph: an index, valid only with that graph. */
typedef uint32_t peng_task_t;

#define PENG_WAIT_FOREVER UINT64_MAX

/* ------------------------------------------------------------------- types */

typedef enum peng_dtype_e {
  PENG_DTYPE_INVALID = 0,
  PENG_DTYPE_F32,
  PENG_DTYPE_F16,
  PENG_DTYPE_BF16,
  PENG_DTYPE_F64,
  PENG_DTYPE_I8,
  PENG_DTYPE_U8,
  PENG_DTYPE_I16,
  PENG_DTYPE_I32,
  PENG_DTYPE_I64,
  PENG_DTYPE_BOOL,
  PENG_DTYPE_COUNT_,
} peng_dtype_t;
PENG_API size_t peng_dtype_size(peng_dtype_t dtype); /* 0 for invalid */
PENG_API const char* peng_dtype_name(peng_dtype_t dtype);

typedef enum peng_access_e {
  PENG_ACCESS_READ = 1,
  PENG_ACCESS_WRITE = 2, /* overwrites the whole buffer: old contents need not move */
  PENG_ACCESS_READWRITE = 3,
} peng_access_t;

typedef enum peng_device_kind_e {
  PENG_DEVICE_CPU = 0,
  PENG_DEVICE_GPU = 1,
  PENG_DEVICE_NPU = 2,
  PENG_DEVICE_DPU = 3,
} peng_device_kind_t;
PENG_API const char* peng_device_kind_name(peng_device_kind_t kind);

#define PENG_MAX_RANK 8
#define PENG_MAX_NAME 64

/* ----------------------------------------------------------------- runtime */

typedef enum peng_policy_e {
  PENG_POLICY_EAGER = 0,         /* one central priority queue; idle devices pull */
  PENG_POLICY_EXPLICIT = 1,      /* on peng_task_options_t.device, else the first capable one */
  PENG_POLICY_WORK_STEALING = 2, /* per-device queues, idle devices steal */
  PENG_POLICY_COST_MODEL = 3,    /* dmda/HEFT: earliest predicted finish */
} peng_policy_t;

typedef struct peng_runtime_options {
  uint32_t struct_size;      /* sizeof(peng_runtime_options_t): lets the struct grow */
  peng_policy_t policy;
  /* Platform profile (TOML, see platforms/). NULL: env PENG_PLATFORM, else
   * one CPU device with all hardware threads. */
  const char* platform_path;
  /* Colon-separated plugin folders or .so files. NULL: env PENG_PLUGIN_PATH. */
  const char* plugin_path;
  /* Performance-model file, loaded at create, saved at destroy and by
   * peng_runtime_save_perf_models. NULL: env PENG_PERF_MODEL (may be unset). */
  const char* perf_model_path;
  /* Threads for the default CPU device; 0 = hardware concurrency. */
  uint32_t cpu_threads;
  /* Non-zero: record a trace (see peng_runtime_write_trace). */
  uint32_t enable_trace;
  /* Non-zero: also create a "null" device (the skeleton backend). */
  uint32_t enable_null_device;
  /* Milliseconds a dispatch may run on a device that has a watchdog (an
   * emulated device) before the device counts as hung and is lost; a
   * profile's own watchdog_ms wins. 0: the backend's default. (Added after
   * the first release: a struct_size without it is still accepted.) */
  uint32_t watchdog_ms;
} peng_runtime_options_t;

PENG_API void peng_runtime_options_init(peng_runtime_options_t* options);
/* options may be NULL for the defaults. */
PENG_API peng_status_t peng_runtime_create(const peng_runtime_options_t* options,
                                           peng_runtime_t* out_runtime);
PENG_API peng_status_t peng_runtime_release(peng_runtime_t runtime);
PENG_API peng_status_t peng_runtime_device_count(peng_runtime_t runtime, uint32_t* out_count);
PENG_API peng_status_t peng_runtime_device(peng_runtime_t runtime, uint32_t index,
                                           peng_device_t* out_device);
/* Finds a device by name ("cpu0", "npu0", ...). */
PENG_API peng_status_t peng_runtime_find_device(peng_runtime_t runtime, const char* name,
                                                peng_device_t* out_device);
/* Devices of the platform profile that the runtime runs without: their backend
 * could not reach them (an emulated device whose server would not start), or
 * an `optional = true` device failed to come up. `out_reason` says why; both
 * strings live as long as the runtime. */
PENG_API peng_status_t peng_runtime_absent_device_count(peng_runtime_t runtime,
                                                       uint32_t* out_count);
PENG_API peng_status_t peng_runtime_absent_device(peng_runtime_t runtime, uint32_t index,
                                                 const char** out_name, const char** out_reason);
PENG_API peng_status_t peng_runtime_set_policy(peng_runtime_t runtime, peng_policy_t policy);
/* Waits until every submitted graph has finished. */
PENG_API peng_status_t peng_runtime_wait_idle(peng_runtime_t runtime, uint64_t timeout_ns);
/* Writes the Chrome/Perfetto JSON trace recorded so far. */
PENG_API peng_status_t peng_runtime_write_trace(peng_runtime_t runtime, const char* path);
PENG_API peng_status_t peng_runtime_save_perf_models(peng_runtime_t runtime, const char* path);

/* ------------------------------------------------------------------ device */

typedef struct peng_device_info {
  char name[PENG_MAX_NAME];    /* unique in the runtime: "cpu0", "npu0" */
  char backend[PENG_MAX_NAME]; /* "cpu", "null", or a plugin's name */
  char target[PENG_MAX_NAME];  /* code it runs: "host", "rvv", "opencl", ... */
  peng_device_kind_t kind;
  uint32_t memory_space;       /* 0 is host memory; devices sharing an id share memory */
  uint64_t memory_bytes;
  uint32_t compute_units;      /* threads, cores or CUs */
  uint32_t vector_bits;        /* 0 if none */
  uint32_t max_workgroups;     /* per dispatch and dimension */
  uint32_t lost;               /* non-zero once the device has been lost */
  double peak_gflops;          /* from the timing model or a guess; 0 if unknown */
} peng_device_info_t;

PENG_API peng_status_t peng_device_info(peng_device_t device, peng_device_info_t* out_info);
/* The backend's own description of the device: "Name: value" lines (an OpenCL
 * device's driver and limits, as clinfo shows them), "" when it gives none.
 * Writes at most `size` bytes including the NUL (out may be NULL when size is
 * 0); *out_length (optional) is the full length without the NUL. */
PENG_API peng_status_t peng_device_describe(peng_device_t device, char* out, size_t size,
                                            size_t* out_length);

/* ------------------------------------------------------------------ buffer */

/* A buffer is one piece of data that may hold valid copies in several memory
 * spaces. Tasks move it where they need it; host reads wait for the tasks
 * writing it. */
PENG_API peng_status_t peng_buffer_create(peng_runtime_t runtime, uint64_t size,
                                          peng_buffer_t* out_buffer);
PENG_API peng_status_t peng_buffer_release(peng_buffer_t buffer);
PENG_API peng_status_t peng_buffer_size(peng_buffer_t buffer, uint64_t* out_size);
/* Waits for pending tasks that write (write: or read) the buffer, then copies. */
PENG_API peng_status_t peng_buffer_write(peng_buffer_t buffer, uint64_t offset, uint64_t size,
                                         const void* src);
PENG_API peng_status_t peng_buffer_read(peng_buffer_t buffer, uint64_t offset, uint64_t size,
                                        void* dst);
/* Bit mask of memory spaces holding a valid copy (bit 0: host). For tests and tools. */
PENG_API peng_status_t peng_buffer_valid_spaces(peng_buffer_t buffer, uint64_t* out_mask);

/* ------------------------------------------------------------ kernel ABI */

/* The CPU kernel ABI, shared by C++ kernels registered here and by compiled
 * module code. One function per kernel; the runtime calls it once per
 * workgroup, from several threads at once. Version it with
 * PENG_KERNEL_ABI_VERSION. */
#define PENG_KERNEL_ABI_VERSION 2

typedef struct peng_dispatch_state {
  uint32_t abi_version;
  uint32_t workgroup_count[3];
  uint32_t binding_count;
  void* const* bindings;           /* base pointers, one per tensor argument */
  const uint64_t* binding_sizes;   /* bytes */
  const int64_t* const* shapes;    /* shapes[i][d]: actual dims of argument i */
  const uint32_t* ranks;
  uint32_t constant_count;
  const int64_t* constants;        /* scalar arguments */
  uint64_t workspace_size;         /* bytes of workgroup->workspace (module.peng's "workspace") */
} peng_dispatch_state_t;

typedef struct peng_workgroup_state {
  uint32_t workgroup_id[3];
  uint32_t thread_index;           /* 0..compute_units-1, for per-thread scratch */
  uint32_t reserved;
  /* workspace_size bytes, 64-byte aligned, for this workgroup alone while it
   * runs: compiled kernels keep temporaries too large for a stack here. */
  void* workspace;
} peng_workgroup_state_t;

/* Returns 0 on success; anything else fails the task with PENG_ERROR_KERNEL_FAILED. */
typedef int (*peng_kernel_fn_t)(const peng_dispatch_state_t* dispatch,
                                const peng_workgroup_state_t* workgroup);

typedef struct peng_arg_desc {
  peng_dtype_t dtype;
  peng_access_t access;
  uint32_t rank;
  int64_t shape[PENG_MAX_RANK]; /* -1: dynamic */
} peng_arg_desc_t;

/* The grid: workgroup_count[i] = ceil(shape(arg, dim) / tile) for each used
 * entry; unused entries (tile == 0) count 1. */
typedef struct peng_grid_dim {
  uint32_t arg;
  uint32_t dim;
  uint32_t tile;
} peng_grid_dim_t;

/* Optional cost callback for the performance models; NULL: flops = 0 and
 * bytes = the arguments' total size. */
typedef void (*peng_cost_fn_t)(const peng_dispatch_state_t* dispatch, double* out_flops,
                               double* out_bytes);

typedef struct peng_native_kernel_def {
  const char* name;
  const char* target;             /* "host" for C++ functions */
  peng_kernel_fn_t fn;
  uint32_t arg_count;
  const peng_arg_desc_t* args;
  uint32_t constant_count;        /* scalar arguments expected at launch */
  peng_grid_dim_t grid[3];
  peng_cost_fn_t cost;            /* optional */
} peng_native_kernel_def_t;

/* ----------------------------------------------------------- module/kernel */

/* A module of kernels given as C functions through the kernel ABI. Defs with
 * the same name and different targets become one kernel with several variants. */
PENG_API peng_status_t peng_module_create_native(peng_runtime_t runtime, const char* name,
                                                 const peng_native_kernel_def_t* defs,
                                                 uint32_t def_count, peng_module_t* out_module);
/* Loads a module.peng image made by pengc (see docs/compiler.md). The file is
 * validated whole first: a corrupt, truncated or incompatible one gives
 * PENG_ERROR_CORRUPT_DATA (or PENG_ERROR_UNSUPPORTED) with a message, and no
 * module. Each device loads the variant it can run; a kernel no device can run
 * still loads, and adding a task that uses it gives PENG_ERROR_UNSUPPORTED. */
PENG_API peng_status_t peng_module_load(peng_runtime_t runtime, const char* name, const void* data,
                                        uint64_t size, peng_module_t* out_module);
PENG_API peng_status_t peng_module_load_file(peng_runtime_t runtime, const char* path,
                                             peng_module_t* out_module);
PENG_API peng_status_t peng_module_release(peng_module_t module);
PENG_API peng_status_t peng_module_kernel_count(peng_module_t module, uint32_t* out_count);
PENG_API peng_status_t peng_module_kernel(peng_module_t module, uint32_t index,
                                          peng_kernel_t* out_kernel);
PENG_API peng_status_t peng_module_find_kernel(peng_module_t module, const char* name,
                                               peng_kernel_t* out_kernel);
/* Kernel handles stay valid while their module lives. */
PENG_API peng_status_t peng_kernel_name(peng_kernel_t kernel, const char** out_name);
/* The kernel's signature: argument count, and each argument's dtype, access
 * and shape (-1 for a dynamic dimension). */
PENG_API peng_status_t peng_kernel_arg_count(peng_kernel_t kernel, uint32_t* out_count);
PENG_API peng_status_t peng_kernel_arg(peng_kernel_t kernel, uint32_t index,
                                       peng_arg_desc_t* out_arg);
/* Whether a device has code for the kernel. */
PENG_API peng_status_t peng_kernel_supported_on(peng_kernel_t kernel, peng_device_t device,
                                                int* out_supported);
/* Whether the kernel is data-plane work (copies, gathers, layout changes,
 * format conversion, quantization, checksums) rather than compute: module.peng
 * marks it so (pengc: `attributes {peng.data_plane}` on the kernel's func).
 * A DPU is meant for it; the flag does not restrict placement. Native kernels
 * are compute. */
PENG_API peng_status_t peng_kernel_is_data_plane(peng_kernel_t kernel, int* out_data_plane);

/* -------------------------------------------------------------- task graph */

typedef struct peng_tensor_arg {
  peng_buffer_t buffer;
  peng_dtype_t dtype;
  uint32_t rank;
  int64_t shape[PENG_MAX_RANK];
} peng_tensor_arg_t;

typedef struct peng_task_options {
  int32_t priority;        /* higher runs first among ready tasks */
  peng_device_t device;    /* NULL: the policy chooses; else placement (EXPLICIT policy) */
} peng_task_options_t;

/* A graph describes work; submitting it runs it. Access modes come from the
 * kernel's argument descriptors; dependencies follow from them in the order
 * tasks are added (and across submissions), plus explicit edges. A graph can
 * be submitted many times, also while an earlier submission runs. Building
 * one graph from several threads needs the caller's own lock; submitting
 * graphs from several threads at once is safe. */
PENG_API peng_status_t peng_graph_create(peng_runtime_t runtime, peng_graph_t* out_graph);
PENG_API peng_status_t peng_graph_release(peng_graph_t graph);
PENG_API peng_status_t peng_graph_add_task(peng_graph_t graph, peng_kernel_t kernel,
                                           const peng_tensor_arg_t* args, uint32_t arg_count,
                                           const int64_t* constants, uint32_t constant_count,
                                           const peng_task_options_t* options,
                                           peng_task_t* out_task);
/* `before` must finish before `after` starts. */
PENG_API peng_status_t peng_graph_add_edge(peng_graph_t graph, peng_task_t before,
                                           peng_task_t after);
PENG_API peng_status_t peng_graph_task_count(peng_graph_t graph, uint32_t* out_count);
/* Runs the graph once the wait events have completed. out_event completes
 * when every task has run or been cancelled; its status is the first error. */
PENG_API peng_status_t peng_graph_submit(peng_graph_t graph, const peng_event_t* wait_events,
                                         uint32_t wait_count, peng_event_t* out_event);

/* ------------------------------------------------------------------- event */

/* A user event completes when peng_event_signal is called on it. */
PENG_API peng_status_t peng_event_create(peng_runtime_t runtime, peng_event_t* out_event);
PENG_API peng_status_t peng_event_signal(peng_event_t event, peng_status_t status);
/* Returns the event's status, or PENG_ERROR_TIMEOUT. */
PENG_API peng_status_t peng_event_wait(peng_event_t event, uint64_t timeout_ns);
/* PENG_OK / error once complete; PENG_ERROR_TIMEOUT while pending. */
PENG_API peng_status_t peng_event_query(peng_event_t event);
PENG_API peng_status_t peng_event_release(peng_event_t event);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PENG_PENG_H_ */
