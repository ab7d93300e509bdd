/*
 * peng-qemu-icount: a QEMU TCG plugin that counts executed RISC-V
 * instructions by class (scalar, RVV, vset*, vector loads/stores) and an
 * LMUL-weighted vector-op count. See README.md beside this file.
 *
 * Built for the host as a shared module and loaded by qemu-user 7.2:
 *   qemu-riscv64 -plugin peng-qemu-icount.so,out=counts.json -d plugin ...
 *
 * Debian ships no qemu-plugin.h, so the handful of plugin API declarations
 * this file uses are written out below, as QEMU 7.2 defines them (plugin
 * API version 1; the structure, enum and callback types match its ABI). No
 * glib is needed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- QEMU plugin API, version 1 (subset) -------------------------------- */

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

/* QEMU refuses a plugin whose version is above what it supports (1 for 7.2). */
PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- Per-vCPU counters --------------------------------------------------- */

/*
 * One cache line per vCPU. Only the vCPU's own thread writes its slot, so the
 * updates need no read-modify-write atomics; relaxed atomic loads and stores
 * keep the final read at exit free of data races. A vCPU index at or above
 * MAX_SLOTS (a guest with that many live threads) falls back to one shared
 * slot updated with atomic adds, whose LMUL state is then shared too.
 */
enum { MAX_SLOTS = 1024 };

struct slot {
    uint64_t total;
    uint64_t vector;
    uint64_t vset;
    uint64_t vsetvl_unknown;
    uint64_t vload;
    uint64_t vstore;
    uint64_t lmul_weighted;
    uint64_t lmul_shift; /* log2 of the LMUL in effect; 0 (LMUL 1) for fractional LMUL */
} __attribute__((aligned(64)));

static struct slot slots[MAX_SLOTS];
static struct slot overflow_slot;

static char *out_path;
static pid_t install_pid;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/* Owner-only increment of a slot field. */
#define BUMP(s, field, v) STORE((s)->field, LOAD((s)->field) + (v))
#define ABUMP(field, v) __atomic_fetch_add(&overflow_slot.field, (v), __ATOMIC_RELAXED)

/*
 * Static class of an instruction, computed at translation time and packed
 * into the callback's userdata pointer (no allocation, nothing to free when
 * QEMU drops a translation):
 *   bits 0-3  base weight (1..8)
 *   bit  4    FIXED: the weight is the base weight, not base * LMUL
 *   bits 5-6  kind: 0 other vector op, 1 vector load, 2 vector store
 * vset callbacks carry the new log2(LMUL) instead.
 */
#define W_MASK 0xfu
#define W_FIXED 0x10u
#define K_SHIFT 5
#define K_OP 0u
#define K_LOAD 1u
#define K_STORE 2u

static inline uint64_t weight_of(uintptr_t d, uint64_t lmul_shift)
{
    uint64_t base = d & W_MASK;
    return (d & W_FIXED) ? base : base << lmul_shift;
}

/* A run of scalar instructions; userdata is its length. */
static void cb_scalar(unsigned int vcpu, void *ud)
{
    uint64_t n = (uintptr_t)ud;
    if (__builtin_expect(vcpu < MAX_SLOTS, 1)) {
        BUMP(&slots[vcpu], total, n);
    } else {
        ABUMP(total, n);
    }
}

static void cb_vset_imm(unsigned int vcpu, void *ud)
{
    uint64_t shift = (uintptr_t)ud;
    struct slot *s = vcpu < MAX_SLOTS ? &slots[vcpu] : NULL;
    if (__builtin_expect(s != NULL, 1)) {
        BUMP(s, total, 1);
        BUMP(s, vector, 1);
        BUMP(s, vset, 1);
        STORE(s->lmul_shift, shift);
    } else {
        ABUMP(total, 1);
        ABUMP(vector, 1);
        ABUMP(vset, 1);
        STORE(overflow_slot.lmul_shift, shift);
    }
}

static void cb_vsetvl(unsigned int vcpu, void *ud)
{
    (void)ud;
    /* vtype comes from a register the 7.2 plugin API cannot read: LMUL is kept. */
    struct slot *s = vcpu < MAX_SLOTS ? &slots[vcpu] : NULL;
    if (__builtin_expect(s != NULL, 1)) {
        BUMP(s, total, 1);
        BUMP(s, vector, 1);
        BUMP(s, vset, 1);
        BUMP(s, vsetvl_unknown, 1);
    } else {
        ABUMP(total, 1);
        ABUMP(vector, 1);
        ABUMP(vset, 1);
        ABUMP(vsetvl_unknown, 1);
    }
}

static void cb_vector(unsigned int vcpu, void *ud)
{
    uintptr_t d = (uintptr_t)ud;
    unsigned kind = (unsigned)(d >> K_SHIFT) & 3u;
    struct slot *s = vcpu < MAX_SLOTS ? &slots[vcpu] : NULL;
    if (__builtin_expect(s != NULL, 1)) {
        BUMP(s, total, 1);
        BUMP(s, vector, 1);
        BUMP(s, lmul_weighted, weight_of(d, LOAD(s->lmul_shift)));
        if (kind == K_LOAD) {
            BUMP(s, vload, 1);
        } else if (kind == K_STORE) {
            BUMP(s, vstore, 1);
        }
    } else {
        ABUMP(total, 1);
        ABUMP(vector, 1);
        ABUMP(lmul_weighted, weight_of(d, LOAD(overflow_slot.lmul_shift)));
        if (kind == K_LOAD) {
            ABUMP(vload, 1);
        } else if (kind == K_STORE) {
            ABUMP(vstore, 1);
        }
    }
}

/* ---- Decoding ------------------------------------------------------------ */

/* C_SCALAR_TRAP: a scalar instruction that may raise an exception (memory
 * access, ecall/ebreak, CSR access, anything not known to be plain ALU or
 * control flow). */
enum insn_class { C_SCALAR, C_SCALAR_TRAP, C_VSET_IMM, C_VSETVL, C_VECTOR };

struct decoded {
    enum insn_class cls;
    uintptr_t data;
};

/* vtype.vlmul (3 bits) -> log2(LMUL), fractional and reserved -> 0 */
static uintptr_t lmul_shift_of_vlmul(uint32_t vlmul)
{
    switch (vlmul & 7u) {
    case 1: return 1;
    case 2: return 2;
    case 3: return 3;
    default: return 0; /* 0: m1; 5,6,7: mf8, mf4, mf2; 4: reserved */
    }
}

static struct decoded vec(unsigned kind, unsigned base, bool fixed)
{
    struct decoded d = {C_VECTOR, (uintptr_t)((kind << K_SHIFT) | (fixed ? W_FIXED : 0u) | (base & W_MASK))};
    return d;
}

/* OP-V (major opcode 0x57), funct3 != 7: arithmetic, permutation, mask ops. */
static struct decoded decode_opv_arith(uint32_t i)
{
    uint32_t funct3 = (i >> 12) & 7u;
    uint32_t funct6 = i >> 26;
    uint32_t vm = (i >> 25) & 1u;
    uint32_t vs2 = (i >> 20) & 31u;
    uint32_t vs1 = (i >> 15) & 31u; /* also rs1 / simm5 */

    /*
     * Instructions whose operands are one vector register (or a fixed number
     * of them) whatever LMUL is: weighed by that register count, as the
     * whole-register and mask loads/stores are.
     */
    switch (funct3) {
    case 2: /* OPMVV */
        if (funct6 >= 0x18u && funct6 <= 0x1fu) {
            return vec(K_OP, 1, true); /* vmand.mm ... vmxnor.mm */
        }
        if (funct6 == 0x10u && (vs1 == 0x00u || vs1 == 0x10u || vs1 == 0x11u)) {
            return vec(K_OP, 1, true); /* vmv.x.s, vcpop.m, vfirst.m */
        }
        if (funct6 == 0x14u && (vs1 == 0x01u || vs1 == 0x02u || vs1 == 0x03u)) {
            return vec(K_OP, 1, true); /* vmsbf.m, vmsof.m, vmsif.m */
        }
        break;
    case 6: /* OPMVX */
        if (funct6 == 0x10u && vs2 == 0u) {
            return vec(K_OP, 1, true); /* vmv.s.x */
        }
        break;
    case 1: /* OPFVV */
        if (funct6 == 0x10u && vs1 == 0u) {
            return vec(K_OP, 1, true); /* vfmv.f.s */
        }
        break;
    case 5: /* OPFVF */
        if (funct6 == 0x10u && vs2 == 0u) {
            return vec(K_OP, 1, true); /* vfmv.s.f */
        }
        break;
    case 3: /* OPIVI */
        if (funct6 == 0x27u && vm == 1u && (vs1 == 0u || vs1 == 1u || vs1 == 3u || vs1 == 7u)) {
            return vec(K_OP, vs1 + 1u, true); /* vmv<nr>r.v */
        }
        break;
    default:
        break;
    }
    return vec(K_OP, 1, false);
}

/* LOAD-FP (0x07) / STORE-FP (0x27) with a vector width. */
static struct decoded decode_vmem(uint32_t i, unsigned kind)
{
    uint32_t nf = i >> 29;
    uint32_t mop = (i >> 26) & 3u;
    uint32_t umop = (i >> 20) & 31u;
    if (mop == 0u) {
        if (umop == 0x08u) {
            return vec(kind, nf + 1u, true); /* vl<nf+1>re<eew>.v / vs<nf+1>r.v */
        }
        if (umop == 0x0bu) {
            return vec(kind, 1, true); /* vlm.v / vsm.v */
        }
    }
    /* unit-stride, fault-only-first, strided, indexed; segments weigh nf+1 groups */
    return vec(kind, nf + 1u, false);
}

/* Compressed (16-bit) instructions are all scalar; which of them cannot trap? */
static bool compressed_cannot_trap(uint32_t i)
{
    uint32_t quadrant = i & 3u;
    uint32_t funct3 = (i >> 13) & 7u;
    switch (quadrant) {
    case 0: /* c.addi4spn (non-zero) is ALU; the rest load or store */
        return funct3 == 0u && (i & 0xffffu) != 0u;
    case 1: /* c.addi, c.li, c.lui, c.addi16sp, c.srli, c.and, c.j, c.beqz, ... */
        return true;
    case 2: /* c.slli; c.jr, c.mv, c.jalr, c.add, but not c.ebreak; the rest are sp loads/stores */
        return funct3 == 0u || (funct3 == 4u && (i & 0xffffu) != 0x9002u);
    default:
        return false;
    }
}

/* 32-bit major opcodes that never trap in user mode once decoded. */
static bool opcode_cannot_trap(uint32_t opcode)
{
    switch (opcode) {
    case 0x13: /* OP-IMM */
    case 0x1b: /* OP-IMM-32 */
    case 0x33: /* OP */
    case 0x3b: /* OP-32 */
    case 0x37: /* LUI */
    case 0x17: /* AUIPC */
    case 0x63: /* BRANCH */
    case 0x6f: /* JAL */
    case 0x67: /* JALR */
    case 0x53: /* OP-FP */
    case 0x43: /* MADD */
    case 0x47: /* MSUB */
    case 0x4b: /* NMSUB */
    case 0x4f: /* NMADD */
        return true;
    default:
        return false;
    }
}

static struct decoded decode(uint32_t i, size_t size)
{
    struct decoded scalar = {C_SCALAR, 0};
    struct decoded scalar_trap = {C_SCALAR_TRAP, 0};
    if (size == 2) {
        return compressed_cannot_trap(i) ? scalar : scalar_trap;
    }
    if (size != 4 || (i & 3u) != 3u) {
        return scalar_trap;
    }
    uint32_t opcode = i & 0x7fu;
    uint32_t funct3 = (i >> 12) & 7u;
    if (opcode == 0x57u) {
        if (funct3 != 7u) {
            return decode_opv_arith(i);
        }
        if ((i >> 31) == 0u) { /* vsetvli: zimm[10:0] in bits 30:20 */
            struct decoded d = {C_VSET_IMM, lmul_shift_of_vlmul(i >> 20)};
            return d;
        }
        if ((i >> 30) == 3u) { /* vsetivli: zimm[9:0] in bits 29:20 */
            struct decoded d = {C_VSET_IMM, lmul_shift_of_vlmul(i >> 20)};
            return d;
        }
        struct decoded d = {C_VSETVL, 0}; /* vsetvl (bits 31:25 = 1000000) */
        return d;
    }
    if (opcode == 0x07u || opcode == 0x27u) {
        /* width 0, 5, 6, 7 are vector (EEW 8/16/32/64); 1-4 are scalar FP */
        if (funct3 == 0u || funct3 >= 5u) {
            return decode_vmem(i, opcode == 0x07u ? K_LOAD : K_STORE);
        }
    }
    return opcode_cannot_trap(opcode) ? scalar : scalar_trap;
}

/*
 * Vector instructions get one callback each: their weight depends on the LMUL
 * in effect, which the vset* callbacks track at run time. Scalar instructions
 * are counted in runs: one callback at the head of a run adds its length. A
 * run ends after any instruction that may trap, so an exception can only
 * happen at the last instruction of a run, and the counts are the same as
 * with one callback per instruction (a callback runs before its instruction,
 * so a trapping instruction is counted either way). In linux-user mode, QEMU
 * leaves a translation block early only through such an exception; signals
 * are taken between blocks. `mode=insn` registers one callback per scalar
 * instruction instead, to cross-check.
 */
static bool per_insn_mode;

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct qemu_plugin_insn *run_head = NULL;
    uintptr_t run_len = 0;
    for (size_t k = 0; k < n; k++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
        size_t size = qemu_plugin_insn_size(insn);
        const uint8_t *p = qemu_plugin_insn_data(insn);
        uint32_t word = 0;
        for (size_t b = 0; b < size && b < 4; b++) {
            word |= (uint32_t)p[b] << (8 * b);
        }
        struct decoded d = decode(word, size);
        if (d.cls == C_SCALAR || d.cls == C_SCALAR_TRAP) {
            if (run_head == NULL) {
                run_head = insn;
            }
            run_len++;
            if (d.cls == C_SCALAR_TRAP || per_insn_mode) {
                qemu_plugin_register_vcpu_insn_exec_cb(run_head, cb_scalar, QEMU_PLUGIN_CB_NO_REGS,
                                                       (void *)run_len);
                run_head = NULL;
                run_len = 0;
            }
            continue;
        }
        if (run_head != NULL) {
            qemu_plugin_register_vcpu_insn_exec_cb(run_head, cb_scalar, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)run_len);
            run_head = NULL;
            run_len = 0;
        }
        qemu_plugin_vcpu_udata_cb_t cb = d.cls == C_VSET_IMM ? cb_vset_imm
                                         : d.cls == C_VSETVL ? cb_vsetvl
                                                             : cb_vector;
        qemu_plugin_register_vcpu_insn_exec_cb(insn, cb, QEMU_PLUGIN_CB_NO_REGS, (void *)d.data);
    }
    if (run_head != NULL) {
        qemu_plugin_register_vcpu_insn_exec_cb(run_head, cb_scalar, QEMU_PLUGIN_CB_NO_REGS,
                                               (void *)run_len);
    }
}

/* ---- Report -------------------------------------------------------------- */

static void report_at_exit(qemu_plugin_id_t id, void *ud)
{
    (void)id;
    (void)ud;
    /* A guest fork() copies this plugin into the child: only the original process reports. */
    if (getpid() != install_pid) {
        return;
    }
    uint64_t t[7] = {0};
    for (size_t k = 0; k <= MAX_SLOTS; k++) {
        struct slot *s = k < MAX_SLOTS ? &slots[k] : &overflow_slot;
        t[0] += LOAD(s->total);
        t[1] += LOAD(s->vector);
        t[2] += LOAD(s->vset);
        t[3] += LOAD(s->vsetvl_unknown);
        t[4] += LOAD(s->vload);
        t[5] += LOAD(s->vstore);
        t[6] += LOAD(s->lmul_weighted);
    }
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"total\":%llu,\"scalar\":%llu,\"vector\":%llu,\"vset\":%llu,"
             "\"vsetvl_unknown\":%llu,\"vload\":%llu,\"vstore\":%llu,\"lmul_weighted\":%llu}\n",
             (unsigned long long)t[0], (unsigned long long)(t[0] - t[1]), (unsigned long long)t[1],
             (unsigned long long)t[2], (unsigned long long)t[3], (unsigned long long)t[4],
             (unsigned long long)t[5], (unsigned long long)t[6]);
    if (out_path == NULL) {
        qemu_plugin_outs(buf);
        return;
    }
    FILE *f = fopen(out_path, "w");
    if (f == NULL || fputs(buf, f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "peng-qemu-icount: cannot write %s\n", out_path);
        qemu_plugin_outs("peng-qemu-icount: cannot write the out= file\n");
    }
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                      char **argv)
{
    if (info == NULL || info->target_name == NULL || strncmp(info->target_name, "riscv", 5) != 0) {
        fprintf(stderr, "peng-qemu-icount: RISC-V guests only (target is %s)\n",
                info && info->target_name ? info->target_name : "unknown");
        return -1;
    }
    for (int k = 0; k < argc; k++) {
        if (strncmp(argv[k], "out=", 4) == 0 && argv[k][4] != '\0') {
            out_path = argv[k] + 4; /* argv lives as long as the plugin */
        } else if (strcmp(argv[k], "mode=insn") == 0) {
            per_insn_mode = true;
        } else if (strcmp(argv[k], "mode=run") == 0) {
            per_insn_mode = false;
        } else {
            fprintf(stderr, "peng-qemu-icount: unknown argument '%s' (expected out=PATH, mode=run|insn)\n",
                    argv[k]);
            return -1;
        }
    }
    install_pid = getpid();
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
