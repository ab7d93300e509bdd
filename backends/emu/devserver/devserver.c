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
 * This slice serves NOP, COPY, FILL and SHUTDOWN; loading and dispatching RVV
 * kernels comes next.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu_protocol.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

enum { kExitOk = 0, kExitUsage = 2, kExitBadRegion = 3, kExitHostGone = 4 };

static peng_emu_header_t* g_header;
static uint8_t* g_memory;

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

static int32_t Execute(const peng_emu_command_t* c) {
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
    default:
      return PENG_EMU_STATUS_UNIMPLEMENTED;
  }
}

/* Waits until the command ring has an entry past `tail` (see the doorbell
 * protocol in emu_protocol.h). */
static void WaitForCommand(peng_emu_ring_t* ring, uint64_t tail) {
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
      h->memory_offset != peng_emu_memory_offset() || h->region_size > (uint64_t)st.st_size ||
      h->memory_offset + h->memory_size > h->region_size) {
    Fail(kExitBadRegion, "the region's layout does not match this server's");
  }
  g_memory = (uint8_t*)base + h->memory_offset;
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
    int32_t status = Execute(&c);
    __atomic_store_n(&ring->tail, tail + 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&h->commands_done, 1, __ATOMIC_RELAXED);
    PostCompletion(completions, c.id, status);
    if (c.op == PENG_EMU_OP_SHUTDOWN) {
      __atomic_store_n(&h->server_state, PENG_EMU_STATE_EXITED, __ATOMIC_SEQ_CST);
      return kExitOk;
    }
  }
}
