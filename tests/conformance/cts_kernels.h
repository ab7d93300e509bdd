/* Kernels of the conformance suite, written in C against the CPU kernel ABI
 * (peng_kernel_fn_t), the way a vendor's or a user's C code would be. */
#ifndef PENG_TESTS_CONFORMANCE_CTS_KERNELS_H_
#define PENG_TESTS_CONFORMANCE_CTS_KERNELS_H_

#include "peng/peng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The id a workgroup writes: never 0, so an unwritten slot shows. */
uint32_t cts_workgroup_tag(uint32_t x, uint32_t y, uint32_t z);

/* bindings[0] ids (uint32, one per workgroup), bindings[1] counts (uint32, one
 * per workgroup). constants: the expected workgroup_count[0..2]. Each
 * workgroup writes its tag into ids[flat] and adds 1 to counts[flat]; it
 * returns non-zero if the dispatch state disagrees with the constants or the
 * id is out of range. */
int cts_write_workgroup_ids(const peng_dispatch_state_t* dispatch,
                            const peng_workgroup_state_t* workgroup);

/* Fails (returns 7) in the workgroup whose flat id is constants[0]; the
 * others add 1 to the uint32 at bindings[0][0] if there is a binding. */
int cts_fail_on_workgroup(const peng_dispatch_state_t* dispatch,
                          const peng_workgroup_state_t* workgroup);

/* Adds 1 to the uint64 at bindings[0] (atomically). */
int cts_increment(const peng_dispatch_state_t* dispatch, const peng_workgroup_state_t* workgroup);

/* Spins until the int at address constants[0] is non-zero. */
int cts_spin_until_flag(const peng_dispatch_state_t* dispatch,
                        const peng_workgroup_state_t* workgroup);

/* bytes[i] = bytes[i] * 3 + 1 over a uint8 tensor, tiled by constants[0]
 * elements per workgroup along dim 0. */
int cts_scale_bytes(const peng_dispatch_state_t* dispatch, const peng_workgroup_state_t* workgroup);

/* Sets the int32 at bindings[0][0] to constants[0] (a marker that it ran). */
int cts_mark(const peng_dispatch_state_t* dispatch, const peng_workgroup_state_t* workgroup);

/* Checks the promise on thread indices: constants[0] is the address of a
 * uint32 array of constants[1] (compute units) slots, constants[2] the
 * address of a uint32 counter of violations. A workgroup whose thread_index
 * is out of range, or held by another workgroup running at the same time,
 * adds 1 to the counter. Holds its slot a few microseconds so that overlaps
 * show. */
int cts_claim_thread_index(const peng_dispatch_state_t* dispatch,
                           const peng_workgroup_state_t* workgroup);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PENG_TESTS_CONFORMANCE_CTS_KERNELS_H_ */
