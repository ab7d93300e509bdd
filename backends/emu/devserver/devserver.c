/* peng-emu-server: an emulated accelerator, a static riscv64 program that the
 * emu backend runs under qemu-riscv64 and drives like hardware through one
 * shared region (see ../common/emu_protocol.h):
 *
 *   qemu-riscv64 -cpu rv64,v=true,vlen=256,vext_spec=v1.0 peng-emu-server --fd 3
 *
 * fd 3 is a memfd the host created and mapped; the server maps it too, takes
 * commands from the command ring, executes them on device memory, and posts
 * completions. It exits after SHUTDOWN, or as soon as the host process is gone.
 *
 * Kernels: LOAD maps a kernel ELF from module.peng (rvv code, the kernel ABI
 * of peng.h) through the same elf_loader.c the CPU backend uses; DISPATCH runs
 * an entry's work-groups on `harts` threads (the main thread and harts - 1
 * workers), each with a workspace of its own.
 *
 * Test hook: `--hang-dispatch N` makes the N-th DISPATCH (from 1) never
 * complete, as a hung accelerator would, for the host's watchdog tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "elf_loader.h"
#include "emu_protocol.h"
#include "peng/peng.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

enum { kExitOk = 0, kExitUsage = 2, kExitBadRegion = 3, kExitHostGone = 4 };

static peng_emu_header_t* g_header;
static uint8_t* g_memory;
static uint8_t* g_args; /* argument slots */
static uint64_t g_hang_dispatch; /* test hook: 0 = never */
static uint64_t g_spin_ns = 5000; /* --spin-us: look for the next command this long before sleeping */
static uint64_t g_dispatches;

/* The heartbeat thread waits here until main has mapped the region. */
static pthread_mutex_t g_start_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_start_cond = PTHREAD_COND_INITIALIZER;
static int g_started;

static long Futex(uint32_t* word, int op, uint32_t value) {
  return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static void Fail(int code, const char* format, ...) {
  char text[sizeof(g_header->error_text)];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  fprintf(stderr, "peng-emu-server: %s\n", text);
  if (g_header) {
    memcpy(g_header->error_text, text, sizeof(text));
    __atomic_store_n(&g_header->server_state, PENG_EMU_STATE_FAILED, __ATOMIC_SEQ_CST);
    Futex(&g_header->server_state, FUTEX_WAKE, INT32_MAX);
  }
  _exit(code);
}

/* Bumps the heartbeat and exits the whole server once the host is gone, so
 * that a host killed by SIGKILL leaves no device process behind. It also is
 * the second thread QEMU needs to see before it makes guest atomics real. */
static void* Heartbeat(void* arg) {
  (void)arg;
  pthread_mutex_lock(&g_start_mutex);
  while (!g_started) pthread_cond_wait(&g_start_cond, &g_start_mutex);
  pthread_mutex_unlock(&g_start_mutex);

  pid_t host = (pid_t)g_header->host_pid;
  int pidfd = (int)syscall(SYS_pidfd_open, host, 0);
  for (;;) {
    /* A pidfd turns readable when the host exits: no polling while alive,
     * only one wake-up a second for the heartbeat. Without one (an old
     * kernel or QEMU), a reparented server notices through getppid. */
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      int n = poll(&p, 1, 1000);
      if (n > 0) _exit(kExitHostGone);
    } else {
      usleep(100 * 1000);
    }
    if (getppid() != host) _exit(kExitHostGone);
    __atomic_add_fetch(&g_header->heartbeat, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static int InBounds(uint64_t offset, uint64_t size) {
  uint64_t limit = g_header->memory_size;
  return offset <= limit && size <= limit - offset;
}

/* ------------------------------------------------------------- executables */

/* Loaded executables by the host's id. Few per device (one per module), so
 * a small table searched linearly. */
typedef struct Executable {
  uint64_t id; /* 0: free */
  peng_elf_image_t* image;
  uint32_t entry_count;
  peng_kernel_fn_t* fns;
} Executable;
#define kMaxExecutables 256
static Executable g_executables[kMaxExecutables];

static Executable* FindExecutable(uint64_t id) {
  for (int i = 0; id && i < kMaxExecutables; ++i) {
    if (g_executables[i].id == id) return &g_executables[i];
  }
  return NULL;
}

static int32_t LoadFailed(const peng_emu_command_t* c, const char* format, ...) {
  char* text = (char*)g_memory + c->dst;
  va_list args;
  va_start(args, format);
  vsnprintf(text, PENG_EMU_LOAD_ERROR_BYTES, format, args);
  va_end(args);
  return PENG_EMU_STATUS_CORRUPT_DATA;
}

static int32_t Load(const peng_emu_command_t* c) {
  if (!InBounds(c->src, c->size) || !InBounds(c->dst, PENG_EMU_LOAD_ERROR_BYTES) || !c->value ||
      FindExecutable(c->value)) {
    return PENG_EMU_STATUS_INVALID_ARGUMENT;
  }
  Executable* x = NULL;
  for (int i = 0; !x && i < kMaxExecutables; ++i) {
    if (!g_executables[i].id) x = &g_executables[i];
  }
  if (!x) return LoadFailed(c, "the device holds %d executables already", kMaxExecutables);
  /* The names first: the error text goes over them. */
  uint32_t count = c->pattern_size;
  const char* names = (const char*)g_memory + c->dst;
  uint64_t limit = g_header->memory_size - c->dst;
  size_t names_size = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const char* end = memchr(names + names_size, 0, limit - names_size);
    if (!end) return LoadFailed(c, "entry names run past device memory");
    names_size = (size_t)(end - names) + 1;
  }
  char* copy = malloc(names_size ? names_size : 1);
  peng_kernel_fn_t* fns = calloc(count ? count : 1, sizeof(peng_kernel_fn_t));
  if (!copy || !fns) {
    free(copy);
    free(fns);
    return LoadFailed(c, "out of server memory");
  }
  memcpy(copy, names, names_size);
  char error[PENG_EMU_LOAD_ERROR_BYTES];
  peng_elf_image_t* image = NULL;
  if (peng_elf_load(g_memory + c->src, c->size, &image, error, sizeof error) != 0) {
    free(copy);
    free(fns);
    return LoadFailed(c, "%s", error);
  }
  const char* name = copy;
  for (uint32_t i = 0; i < count; ++i, name += strlen(name) + 1) {
    fns[i] = (peng_kernel_fn_t)peng_elf_symbol(image, name);
    if (!fns[i]) {
      peng_elf_unload(image);
      int32_t status = LoadFailed(c, "no symbol '%s' in the kernel image", name);
      free(copy);
      free(fns);
      return status;
    }
  }
  free(copy);
  x->id = c->value;
  x->image = image;
  x->entry_count = count;
  x->fns = fns;
  return PENG_EMU_STATUS_OK;
}

static int32_t Unload(const peng_emu_command_t* c) {
  Executable* x = FindExecutable(c->value);
  if (!x) return PENG_EMU_STATUS_INVALID_ARGUMENT;
  peng_elf_unload(x->image);
  free(x->fns);
  memset(x, 0, sizeof *x);
  return PENG_EMU_STATUS_OK;
}

/* ---------------------------------------------------------------- dispatch */

/* The job the harts share: work-groups claimed one at a time from `next`. */
typedef struct Job {
  peng_kernel_fn_t fn;
  const peng_dispatch_state_t* state;
  uint64_t total;
  uint64_t next;     /* atomic */
  int failed;        /* atomic */
  int no_memory;     /* atomic */
} Job;

static pthread_mutex_t g_job_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_job_start = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_job_done = PTHREAD_COND_INITIALIZER;
static Job* g_job;
static uint64_t g_job_generation;
static uint32_t g_job_busy; /* workers still in the current job */
static uint32_t g_harts = 1;

typedef struct Hart {
  uint32_t index;
  void* workspace; /* 64-byte aligned, workspace_size bytes */
  uint64_t workspace_size;
} Hart;
static Hart* g_hart_state;

static void RunShare(Job* job, Hart* hart) {
  const peng_dispatch_state_t* s = job->state;
  uint64_t nx = s->workgroup_count[0], ny = s->workgroup_count[1];
  if (s->workspace_size > hart->workspace_size) {
    free(hart->workspace);
    hart->workspace = aligned_alloc(64, (size_t)peng_emu_align_up(s->workspace_size, 64));
    hart->workspace_size = hart->workspace ? s->workspace_size : 0;
  }
  for (uint64_t i; (i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->total;) {
    if (s->workspace_size && !hart->workspace) {
      __atomic_store_n(&job->no_memory, 1, __ATOMIC_RELAXED);
      continue;
    }
    peng_workgroup_state_t wg;
    memset(&wg, 0, sizeof wg);
    wg.workgroup_id[0] = (uint32_t)(i % nx);
    wg.workgroup_id[1] = (uint32_t)((i / nx) % ny);
    wg.workgroup_id[2] = (uint32_t)(i / (nx * ny));
    wg.thread_index = hart->index;
    wg.workspace = s->workspace_size ? hart->workspace : NULL;
    if (job->fn(s, &wg) != 0) __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
  }
}

static void* Worker(void* arg) {
  Hart* hart = (Hart*)arg;
  uint64_t seen = 0;
  for (;;) {
    pthread_mutex_lock(&g_job_mutex);
    while (g_job_generation == seen) pthread_cond_wait(&g_job_start, &g_job_mutex);
    seen = g_job_generation;
    Job* job = g_job;
    pthread_mutex_unlock(&g_job_mutex);
    RunShare(job, hart);
    pthread_mutex_lock(&g_job_mutex);
    if (--g_job_busy == 0) pthread_cond_signal(&g_job_done);
    pthread_mutex_unlock(&g_job_mutex);
  }
  return NULL;
}

static void StartHarts(uint32_t harts) {
  g_harts = harts ? harts : 1;
  g_hart_state = calloc(g_harts, sizeof(Hart));
  if (!g_hart_state) Fail(kExitBadRegion, "out of server memory for %u harts", g_harts);
  for (uint32_t i = 0; i < g_harts; ++i) g_hart_state[i].index = i;
  for (uint32_t i = 1; i < g_harts; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, Worker, &g_hart_state[i]) != 0) {
      Fail(kExitBadRegion, "cannot start hart %u", i);
    }
  }
}

static int32_t Dispatch(const peng_emu_command_t* c, uint64_t slot) {
  Executable* x = FindExecutable(c->value);
  if (!x || c->pattern_size >= x->entry_count) return PENG_EMU_STATUS_INVALID_ARGUMENT;
  const peng_emu_dispatch_t* a =
      (const peng_emu_dispatch_t*)(g_args + slot * PENG_EMU_ARG_SLOT_BYTES);
  if (a->binding_count > PENG_EMU_MAX_BINDINGS || a->constant_count > PENG_EMU_MAX_CONSTANTS) {
    return PENG_EMU_STATUS_INVALID_ARGUMENT;
  }
  void* bindings[PENG_EMU_MAX_BINDINGS];
  const int64_t* shapes[PENG_EMU_MAX_BINDINGS];
  for (uint32_t i = 0; i < a->binding_count; ++i) {
    if (!InBounds(a->binding_offset[i], a->binding_size[i]) || a->rank[i] > PENG_EMU_MAX_RANK) {
      return PENG_EMU_STATUS_INVALID_ARGUMENT;
    }
    bindings[i] = g_memory + a->binding_offset[i];
    shapes[i] = a->shape[i];
  }
  peng_dispatch_state_t state;
  memset(&state, 0, sizeof state);
  state.abi_version = a->abi_version;
  memcpy(state.workgroup_count, a->workgroup_count, sizeof state.workgroup_count);
  state.binding_count = a->binding_count;
  state.bindings = bindings;
  state.binding_sizes = a->binding_size;
  state.shapes = shapes;
  state.ranks = a->rank;
  state.constant_count = a->constant_count;
  state.constants = a->constants;
  state.workspace_size = a->workspace_size;

  if (g_hang_dispatch && ++g_dispatches == g_hang_dispatch) {
    for (;;) pause(); /* hung: only SIGKILL ends this */
  }
  Job job;
  memset(&job, 0, sizeof job);
  job.fn = x->fns[c->pattern_size];
  job.state = &state;
  job.total = (uint64_t)a->workgroup_count[0] * a->workgroup_count[1] * a->workgroup_count[2];
  /* Workers only for a grid that has work for them: a single work-group (a
   * small kernel) costs no wake-ups. */
  uint32_t helpers = job.total > 1 ? g_harts - 1 : 0;
  if (helpers) {
    pthread_mutex_lock(&g_job_mutex);
    g_job = &job;
    g_job_busy = g_harts - 1;
    ++g_job_generation;
    pthread_cond_broadcast(&g_job_start);
    pthread_mutex_unlock(&g_job_mutex);
  }
  RunShare(&job, &g_hart_state[0]);
  if (helpers) {
    pthread_mutex_lock(&g_job_mutex);
    while (g_job_busy) pthread_cond_wait(&g_job_done, &g_job_mutex);
    pthread_mutex_unlock(&g_job_mutex);
  }
  if (job.no_memory) return PENG_EMU_STATUS_OUT_OF_MEMORY;
  if (job.failed) return PENG_EMU_STATUS_KERNEL_FAILED;
  return PENG_EMU_STATUS_OK;
}

static int32_t Execute(const peng_emu_command_t* c, uint64_t slot) {
  switch (c->op) {
    case PENG_EMU_OP_NOP:
    case PENG_EMU_OP_SHUTDOWN:
      return PENG_EMU_STATUS_OK;
    case PENG_EMU_OP_COPY:
      if (!InBounds(c->src, c->size) || !InBounds(c->dst, c->size)) {
        return PENG_EMU_STATUS_INVALID_ARGUMENT;
      }
      memmove(g_memory + c->dst, g_memory + c->src, c->size);
      return PENG_EMU_STATUS_OK;
    case PENG_EMU_OP_FILL: {
      uint64_t n = c->pattern_size;
      if ((n != 1 && n != 2 && n != 4 && n != 8) || c->size % n != 0 ||
          !InBounds(c->dst, c->size)) {
        return PENG_EMU_STATUS_INVALID_ARGUMENT;
      }
      uint8_t* p = g_memory + c->dst;
      if (n == 1) {
        memset(p, (int)(c->value & 0xff), c->size);
        return PENG_EMU_STATUS_OK;
      }
      if (c->size == 0) return PENG_EMU_STATUS_OK;
      memcpy(p, &c->value, n);  /* little-endian: the low n bytes */
      for (uint64_t done = n; done < c->size;) {  /* doubling copies */
        uint64_t step = done < c->size - done ? done : c->size - done;
        memcpy(p + done, p, step);
        done += step;
      }
      return PENG_EMU_STATUS_OK;
    }
    case PENG_EMU_OP_LOAD:
      return Load(c);
    case PENG_EMU_OP_UNLOAD:
      return Unload(c);
    case PENG_EMU_OP_DISPATCH:
      return Dispatch(c, slot);
    default:
      return PENG_EMU_STATUS_UNIMPLEMENTED;
  }
}

/* Waits until the command ring has an entry past `tail` (see the doorbell
 * protocol in emu_protocol.h). */
static uint64_t NowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void WaitForCommand(peng_emu_ring_t* ring, uint64_t tail) {
  /* A host that sends commands back to back sends the next one within
   * microseconds: catch it awake (a futex wake-up costs far more), then
   * sleep, so that an idle server uses no CPU. */
  if (g_spin_ns) {
    uint64_t until = NowNs() + g_spin_ns;
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (__atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) != tail) return;
      }
      if (NowNs() >= until) break;
      sched_yield(); /* the host may share this CPU: let it run */
    }
  }
  for (;;) {
    if (__atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) != tail) return;
    uint32_t bell = __atomic_load_n(&ring->doorbell, __ATOMIC_ACQUIRE);
    __atomic_store_n(&ring->sleeping, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ring->head, __ATOMIC_SEQ_CST) == tail) {
      Futex(&ring->doorbell, FUTEX_WAIT, bell);
    }
    __atomic_store_n(&ring->sleeping, 0, __ATOMIC_RELAXED);
  }
}

static void PostCompletion(peng_emu_completion_t* entries, uint64_t id, int32_t status) {
  peng_emu_ring_t* ring = &g_header->completion_ring;
  uint64_t head = ring->head;
  /* The host never has more than ring_entries commands outstanding, so there
   * is always room; waiting here would only hide a host bug. */
  if (head - __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) >= g_header->ring_entries) {
    Fail(kExitBadRegion, "completion ring overflow (the host broke the protocol)");
  }
  peng_emu_completion_t* e = &entries[head & (g_header->ring_entries - 1)];
  e->id = id;
  e->status = status;
  __atomic_store_n(&ring->head, head + 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&ring->sleeping, __ATOMIC_SEQ_CST)) {
    __atomic_add_fetch(&ring->doorbell, 1, __ATOMIC_SEQ_CST);
    Futex(&ring->doorbell, FUTEX_WAKE, 1);
  }
}

static uint32_t ReadVlenb(void) {
  uint64_t vlenb;
  __asm__ volatile("csrr %0, vlenb" : "=r"(vlenb));
  return (uint32_t)vlenb;
}

int main(int argc, char** argv) {
  int fd = -1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
      char* end = NULL;
      long v = strtol(argv[++i], &end, 10);
      if (*end == '\0' && v >= 0 && v < 65536) fd = (int)v;
    } else if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc) {
      g_spin_ns = strtoull(argv[++i], NULL, 10) * 1000;
    } else if (strcmp(argv[i], "--hang-dispatch") == 0 && i + 1 < argc) {
      g_hang_dispatch = strtoull(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "peng-emu-server: unknown argument '%s'\n", argv[i]);
      return kExitUsage;
    }
  }
  if (fd < 0) {
    fprintf(stderr, "usage: peng-emu-server --fd N  (N: the region's inherited memfd)\n");
    return kExitUsage;
  }

  /* The second thread first: until it exists QEMU runs the guest without its
   * parallel mode, and atomics and fences on the shared region are not real. */
  pthread_t heartbeat;
  if (pthread_create(&heartbeat, NULL, Heartbeat, NULL) != 0) {
    Fail(kExitBadRegion, "cannot start the heartbeat thread");
  }

  struct stat st;
  if (fstat(fd, &st) != 0) Fail(kExitBadRegion, "fd %d: %s", fd, strerror(errno));
  if ((uint64_t)st.st_size < sizeof(peng_emu_header_t)) {
    Fail(kExitBadRegion, "fd %d is %lld bytes, too small for a region", fd, (long long)st.st_size);
  }
  void* base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) Fail(kExitBadRegion, "mmap of fd %d: %s", fd, strerror(errno));
  peng_emu_header_t* h = (peng_emu_header_t*)base;
  if (h->magic != PENG_EMU_MAGIC || h->version != PENG_EMU_VERSION) {
    Fail(kExitBadRegion, "fd %d is not a version %u emu region", fd, PENG_EMU_VERSION);
  }
  g_header = h;  /* from here on Fail() reports through the region */
  if (h->header_size != sizeof(peng_emu_header_t) || h->ring_entries != PENG_EMU_RING_ENTRIES ||
      h->commands_offset != peng_emu_commands_offset() ||
      h->completions_offset != peng_emu_completions_offset() ||
      h->args_offset != peng_emu_args_offset() ||
      h->memory_offset != peng_emu_memory_offset() || h->region_size > (uint64_t)st.st_size ||
      h->memory_offset + h->memory_size > h->region_size) {
    Fail(kExitBadRegion, "the region's layout does not match this server's");
  }
  g_memory = (uint8_t*)base + h->memory_offset;
  g_args = (uint8_t*)base + h->args_offset;
  StartHarts(h->harts);
  peng_emu_command_t* commands = (peng_emu_command_t*)((uint8_t*)base + h->commands_offset);
  peng_emu_completion_t* completions =
      (peng_emu_completion_t*)((uint8_t*)base + h->completions_offset);

  pthread_mutex_lock(&g_start_mutex);
  g_started = 1;
  pthread_cond_signal(&g_start_cond);
  pthread_mutex_unlock(&g_start_mutex);

  h->server_pid = (uint32_t)getpid();
  h->vlenb = ReadVlenb();
  __atomic_store_n(&h->server_state, PENG_EMU_STATE_READY, __ATOMIC_SEQ_CST);
  Futex(&h->server_state, FUTEX_WAKE, INT32_MAX);

  peng_emu_ring_t* ring = &h->command_ring;
  const uint64_t mask = h->ring_entries - 1;
  for (uint64_t tail = ring->tail;; ++tail) {
    WaitForCommand(ring, tail);
    peng_emu_command_t c = commands[tail & mask];  /* a copy: the slot is reused after tail moves */
    int32_t status = Execute(&c, tail & mask);
    __atomic_store_n(&ring->tail, tail + 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&h->commands_done, 1, __ATOMIC_RELAXED);
    PostCompletion(completions, c.id, status);
    if (c.op == PENG_EMU_OP_SHUTDOWN) {
      __atomic_store_n(&h->server_state, PENG_EMU_STATE_EXITED, __ATOMIC_SEQ_CST);
      return kExitOk;
    }
  }
}
