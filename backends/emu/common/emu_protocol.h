/* emu_protocol.h — the shared-memory contract between the emu HAL backend
 * (x86-64 host) and its device server (riscv64 under qemu-riscv64).
 *
 * One memfd region, mapped by both processes:
 *
 *   [ header | command ring | completion ring | argument slots | device memory ]
 *
 * The host creates the region, fills the header and starts the server with
 * the region's fd number (QEMU user mode passes fd numbers through). The
 * server checks magic and version, sets server_state to READY, then serves
 * commands until SHUTDOWN or until the host dies.
 *
 * Rings are single producer / single consumer: the host produces commands and
 * consumes completions, the server the other way round. `head` is written by
 * the producer only (release), `tail` by the consumer only (release); each
 * side reads the other's cursor with acquire.
 *
 * Doorbells are futex words in the region (no FUTEX_PRIVATE_FLAG: the key is
 * then the shared file and offset, so the native host and the QEMU guest meet
 * on it). A consumer about to sleep reads the doorbell, sets `sleeping`, checks
 * the ring once more, and waits on the doorbell value it read; a producer
 * publishes `head`, and when it sees `sleeping` bumps the doorbell and wakes.
 * The seq_cst order of "store head / load sleeping" against "store sleeping /
 * load head" is what makes a lost wake-up impossible.
 *
 * Plain fields accessed with __atomic builtins, not _Atomic members: the host
 * half is C++ and must see the same layout (checked by the asserts below).
 */
#ifndef PENG_EMU_PROTOCOL_H_
#define PENG_EMU_PROTOCOL_H_

#include <stdint.h>

#define PENG_EMU_MAGIC 0x31554d45474e4550ull /* "PENGEMU1" */
#define PENG_EMU_VERSION 2u
#define PENG_EMU_RING_ENTRIES 256u /* a power of two */
/* Device memory starts on this boundary, and the host allocator keeps buffers aligned to it. */
#define PENG_EMU_MEMORY_ALIGN 4096u
/* One argument slot per command slot: a command that needs more than its 64
 * bytes (DISPATCH) finds the rest in the slot of the same index, which the
 * host does not reuse before the server has moved past the command. */
#define PENG_EMU_ARG_SLOT_BYTES 4096u
/* Limits of one dispatch (peng_emu_dispatch_t). */
#define PENG_EMU_MAX_BINDINGS 32u
#define PENG_EMU_MAX_RANK 8u
#define PENG_EMU_MAX_CONSTANTS 64u
/* LOAD's error text, written over the symbol names on failure. */
#define PENG_EMU_LOAD_ERROR_BYTES 256u

/* Command opcodes. */
enum {
  PENG_EMU_OP_NOP = 0,
  PENG_EMU_OP_COPY = 1,     /* memmove(mem + dst, mem + src, size) */
  PENG_EMU_OP_FILL = 2,     /* repeat the low `pattern_size` bytes of value over [dst, dst + size) */
  PENG_EMU_OP_SHUTDOWN = 3, /* completes, then the server exits 0 */
  /* Loads a kernel ELF (elf_loader.c) as executable `value` (a host-chosen id,
   * not in use): the image is [src, src + size) of device memory, the
   * `pattern_size` entry symbols NUL-separated names at dst. On failure the
   * server writes a NUL-terminated message (at most PENG_EMU_LOAD_ERROR_BYTES)
   * at dst. The host may reuse both ranges once the command completed. */
  PENG_EMU_OP_LOAD = 4,
  PENG_EMU_OP_UNLOAD = 5, /* forgets executable `value` */
  /* Runs entry `pattern_size` of executable `value` over the grid described
   * by this command's argument slot (peng_emu_dispatch_t), work-groups split
   * over the server's harts. */
  PENG_EMU_OP_DISPATCH = 6,
};

/* server_state */
enum {
  PENG_EMU_STATE_STARTING = 0,
  PENG_EMU_STATE_READY = 1,
  PENG_EMU_STATE_EXITED = 2,
  PENG_EMU_STATE_FAILED = 3, /* the server rejected the region; error_text says why */
};

/* Completion status: 0 or a peng_status_t code (peng.h) the host reports as is. */
enum {
  PENG_EMU_STATUS_OK = 0,
  PENG_EMU_STATUS_INVALID_ARGUMENT = 1, /* PENG_ERROR_INVALID_ARGUMENT */
  PENG_EMU_STATUS_OUT_OF_MEMORY = 3,    /* PENG_ERROR_OUT_OF_MEMORY: a hart's workspace */
  PENG_EMU_STATUS_UNIMPLEMENTED = 4,    /* PENG_ERROR_UNIMPLEMENTED: an unknown opcode */
  PENG_EMU_STATUS_CORRUPT_DATA = 11,    /* PENG_ERROR_CORRUPT_DATA: LOAD refused the image */
  PENG_EMU_STATUS_KERNEL_FAILED = 12,   /* PENG_ERROR_KERNEL_FAILED: a work-group returned non-zero */
};

typedef struct peng_emu_command {
  uint32_t op;
  uint32_t pattern_size; /* FILL: 1, 2, 4 or 8 */
  uint64_t id;           /* echoed in the completion */
  uint64_t dst;          /* offsets into device memory */
  uint64_t src;
  uint64_t size;
  uint64_t value;
  uint64_t reserved[2];
} peng_emu_command_t;

typedef struct peng_emu_completion {
  uint64_t id;
  int32_t status;
  uint32_t reserved;
} peng_emu_completion_t;

/* DISPATCH's arguments: peng_dispatch_state_t (peng.h) with device memory
 * offsets where the host has pointers; the server turns them into its own. */
typedef struct peng_emu_dispatch {
  uint32_t abi_version;
  uint32_t workgroup_count[3];
  uint32_t binding_count;
  uint32_t constant_count;
  uint64_t workspace_size; /* per work-group; the server keeps one per hart */
  uint64_t binding_offset[PENG_EMU_MAX_BINDINGS];
  uint64_t binding_size[PENG_EMU_MAX_BINDINGS];
  uint32_t rank[PENG_EMU_MAX_BINDINGS];
  int64_t shape[PENG_EMU_MAX_BINDINGS][PENG_EMU_MAX_RANK];
  int64_t constants[PENG_EMU_MAX_CONSTANTS];
} peng_emu_dispatch_t;

/* The cursors and doorbell of one ring, each written by one side on its own
 * cache line so that the two processes do not share a line they both write. */
typedef struct peng_emu_ring {
  uint64_t head; /* producer: entries published */
  uint8_t pad0[56];
  uint64_t tail; /* consumer: entries consumed */
  uint8_t pad1[56];
  uint32_t doorbell; /* futex word, bumped by the producer to wake the consumer */
  uint32_t sleeping; /* 1 while the consumer is (about to be) waiting on doorbell */
  uint8_t pad2[56];
} peng_emu_ring_t;

typedef struct peng_emu_header {
  /* Written by the host before the server starts; read-only afterwards. */
  uint64_t magic;
  uint32_t version;
  uint32_t ring_entries;
  uint64_t header_size;      /* sizeof(peng_emu_header_t), as the host built it */
  uint64_t commands_offset;  /* ring_entries peng_emu_command_t */
  uint64_t completions_offset; /* ring_entries peng_emu_completion_t */
  uint64_t args_offset;      /* ring_entries slots of PENG_EMU_ARG_SLOT_BYTES */
  uint64_t memory_offset;    /* device memory, PENG_EMU_MEMORY_ALIGN aligned */
  uint64_t memory_size;
  uint64_t region_size;
  uint32_t host_pid;         /* the server exits when this process is gone */
  uint32_t harts;            /* from the profile: threads that run work-groups */
  uint8_t pad0[48]; /* the host's part is 128 bytes */
  /* Written by the server. */
  uint32_t server_state;  /* PENG_EMU_STATE_*, a futex word the host waits on at start */
  uint32_t server_pid;
  uint32_t vlenb;         /* the guest's vlenb CSR: what QEMU really gives it */
  uint32_t reserved;
  uint64_t heartbeat;     /* bumped by the server's heartbeat thread */
  uint64_t commands_done;
  char error_text[96];    /* why the server gave up (PENG_EMU_STATE_FAILED) */
  peng_emu_ring_t command_ring;    /* host -> server */
  peng_emu_ring_t completion_ring; /* server -> host */
} peng_emu_header_t;

#ifdef __cplusplus
#define PENG_EMU_STATIC_ASSERT static_assert
#else
#define PENG_EMU_STATIC_ASSERT _Static_assert
#endif
PENG_EMU_STATIC_ASSERT(sizeof(peng_emu_command_t) == 64, "command layout");
PENG_EMU_STATIC_ASSERT(sizeof(peng_emu_completion_t) == 16, "completion layout");
PENG_EMU_STATIC_ASSERT(sizeof(peng_emu_ring_t) == 192, "ring layout");
PENG_EMU_STATIC_ASSERT(sizeof(peng_emu_header_t) == 640, "header layout");
PENG_EMU_STATIC_ASSERT(sizeof(peng_emu_dispatch_t) <= PENG_EMU_ARG_SLOT_BYTES, "dispatch args");

/* Offsets of the parts of a region with `memory_size` bytes of device memory. */
static inline uint64_t peng_emu_align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }
static inline uint64_t peng_emu_commands_offset(void) {
  return peng_emu_align_up(sizeof(peng_emu_header_t), 64);
}
static inline uint64_t peng_emu_completions_offset(void) {
  return peng_emu_commands_offset() + PENG_EMU_RING_ENTRIES * sizeof(peng_emu_command_t);
}
static inline uint64_t peng_emu_args_offset(void) {
  return peng_emu_align_up(
      peng_emu_completions_offset() + PENG_EMU_RING_ENTRIES * sizeof(peng_emu_completion_t),
      PENG_EMU_MEMORY_ALIGN);
}
static inline uint64_t peng_emu_memory_offset(void) {
  return peng_emu_args_offset() + (uint64_t)PENG_EMU_RING_ENTRIES * PENG_EMU_ARG_SLOT_BYTES;
}

#endif /* PENG_EMU_PROTOCOL_H_ */
