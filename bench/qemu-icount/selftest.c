/*
 * Self-test program for peng-qemu-icount (riscv64 + RVV, built by the host's
 * clang-19; see CMakeLists.txt). `selftest N` runs a hand-written loop N
 * times; selftest.py compares `selftest 1000` against `selftest 0`, so that
 * start-up and exit cancel, and checks the per-iteration counts below.
 *
 * One iteration executes exactly 24 instructions (the table in selftest.py
 * must match this asm):
 *
 *   #  instruction                          class          weight (LMUL in effect)
 *   1  vsetvli t1, zero, e32, m4, ta, ma    vset           -     (LMUL := 4)
 *   2  vle32.v v0, (a)                      vload          4
 *   3  vle32.v v4, (b)                      vload          4
 *   4  vfmacc.vv v8, v0, v4                 vector         4
 *   5  vse32.v v8, (c)                      vstore         4
 *   6  vl4re32.v v12, (a)                   vload          4 (whole register: nf+1)
 *   7  vmand.mm v0, v1, v2                  vector         1 (mask op: one register)
 *   8  vsetivli zero, 4, e32, m1, ta, ma    vset           -     (LMUL := 1)
 *   9  vlseg2e32.v v20, (a)                 vload          2 (2 fields x LMUL 1)
 *  10  vlse32.v v24, (b), t3                vload          1
 *  11  vsseg2e32.v v20, (c)                 vstore         2
 *  12  vsetvli t1, zero, e32, mf2, ta, ma   vset           -     (LMUL := 1/2, weighs 1)
 *  13  vadd.vv v16, v16, v17                vector         1
 *  14  vlm.v v1, (a)                        vload          1 (mask load)
 *  15  vsm.v v1, (c)                        vstore         1 (mask store)
 *  16  vsetvl t1, zero, t2   (t2 = e32,m2)  vset, vsetvl_unknown (LMUL kept: 1)
 *  17  vadd.vv v16, v16, v18                vector         1 (really LMUL 2: unknown to the plugin)
 *  18  vs2r.v v2, (c)                       vstore         2 (whole register)
 *  19  vmv2r.v v4, v2                       vector         2 (whole register move)
 *  20  flw ft0, 0(a)                        scalar (LOAD-FP width 2)
 *  21  fsw ft0, 0(c)                        scalar (STORE-FP width 2)
 *  22  fld ft1, 8(a)                        scalar (LOAD-FP width 3)
 *  23  addi n, n, -1                        scalar
 *  24  bnez n, 1b                           scalar
 *
 * Per iteration: total 24, vector 19, vset 4, vsetvl_unknown 1, vload 6,
 * vstore 4, lmul_weighted 34, scalar 5.
 */
#include <stdlib.h>

static float a[1024] __attribute__((aligned(64)));
static float b[1024] __attribute__((aligned(64)));
static float c[1024] __attribute__((aligned(64)));

static void kernel(long n, float *pa, float *pb, float *pc)
{
    __asm__ volatile(
        "  li t2, 0xd1\n" /* vtype e32, m2, ta, ma for the vsetvl */
        "  li t3, 4\n"    /* stride of the strided load, in bytes */
        "  beqz %[n], 2f\n"
        "1:\n"
        "  vsetvli t1, zero, e32, m4, ta, ma\n"
        "  vle32.v v0, (%[a])\n"
        "  vle32.v v4, (%[b])\n"
        "  vfmacc.vv v8, v0, v4\n"
        "  vse32.v v8, (%[c])\n"
        "  vl4re32.v v12, (%[a])\n"
        "  vmand.mm v0, v1, v2\n"
        "  vsetivli zero, 4, e32, m1, ta, ma\n"
        "  vlseg2e32.v v20, (%[a])\n"
        "  vlse32.v v24, (%[b]), t3\n"
        "  vsseg2e32.v v20, (%[c])\n"
        "  vsetvli t1, zero, e32, mf2, ta, ma\n"
        "  vadd.vv v16, v16, v17\n"
        "  vlm.v v1, (%[a])\n"
        "  vsm.v v1, (%[c])\n"
        "  vsetvl t1, zero, t2\n"
        "  vadd.vv v16, v16, v18\n"
        "  vs2r.v v2, (%[c])\n"
        "  vmv2r.v v4, v2\n"
        "  flw ft0, 0(%[a])\n"
        "  fsw ft0, 0(%[c])\n"
        "  fld ft1, 8(%[a])\n"
        "  addi %[n], %[n], -1\n"
        "  bnez %[n], 1b\n"
        "2:\n"
        : [n] "+r"(n)
        : [a] "r"(pa), [b] "r"(pb), [c] "r"(pc)
        : "t1", "t2", "t3", "ft0", "ft1", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7",
          "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20",
          "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    kernel(n, a, b, c);
    return 0;
}
