/* Kernels of the conformance suite: plain C through the kernel ABI. */
#include "cts_kernels.h"

#include <stdatomic.h>
#include <stdint.h>

uint32_t cts_workgroup_tag(uint32_t x, uint32_t y, uint32_t z) {
  return 0x80000000u | (z << 20) | (y << 10) | x;
}

int cts_write_workgroup_ids(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  if (d->abi_version != PENG_KERNEL_ABI_VERSION || d->binding_count < 2 || d->constant_count < 3) {
    return 1;
  }
  for (int i = 0; i < 3; ++i) {
    if ((int64_t)d->workgroup_count[i] != d->constants[i]) return 2;
    if (wg->workgroup_id[i] >= d->workgroup_count[i]) return 3;
  }
  uint64_t nx = d->workgroup_count[0], ny = d->workgroup_count[1];
  uint64_t flat = wg->workgroup_id[0] + nx * (wg->workgroup_id[1] + ny * wg->workgroup_id[2]);
  if ((flat + 1) * sizeof(uint32_t) > d->binding_sizes[0] ||
      (flat + 1) * sizeof(uint32_t) > d->binding_sizes[1]) {
    return 4;
  }
  uint32_t* ids = (uint32_t*)d->bindings[0];
  _Atomic uint32_t* counts = (_Atomic uint32_t*)d->bindings[1];
  ids[flat] = cts_workgroup_tag(wg->workgroup_id[0], wg->workgroup_id[1], wg->workgroup_id[2]);
  atomic_fetch_add_explicit(&counts[flat], 1u, memory_order_relaxed);
  return 0;
}

int cts_fail_on_workgroup(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  uint64_t nx = d->workgroup_count[0], ny = d->workgroup_count[1];
  uint64_t flat = wg->workgroup_id[0] + nx * (wg->workgroup_id[1] + ny * wg->workgroup_id[2]);
  if (d->constant_count > 0 && (int64_t)flat == d->constants[0]) return 7;
  if (d->binding_count > 0) {
    atomic_fetch_add_explicit((_Atomic uint32_t*)d->bindings[0], 1u, memory_order_relaxed);
  }
  return 0;
}

int cts_increment(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  (void)wg;
  if (d->binding_count < 1) return 1;
  atomic_fetch_add_explicit((_Atomic uint64_t*)d->bindings[0], 1u, memory_order_relaxed);
  return 0;
}

int cts_spin_until_flag(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  (void)wg;
  if (d->constant_count < 1) return 1;
  _Atomic int* flag = (_Atomic int*)(intptr_t)d->constants[0];
  while (!atomic_load_explicit(flag, memory_order_acquire)) {
  }
  return 0;
}

int cts_scale_bytes(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  if (d->binding_count < 1 || d->constant_count < 1 || d->constants[0] <= 0) return 1;
  uint8_t* bytes = (uint8_t*)d->bindings[0];
  int64_t n = d->shapes[0][0];
  int64_t tile = d->constants[0];
  int64_t begin = (int64_t)wg->workgroup_id[0] * tile;
  int64_t end = begin + tile < n ? begin + tile : n;
  for (int64_t i = begin; i < end; ++i) bytes[i] = (uint8_t)(bytes[i] * 3u + 1u);
  return 0;
}

int cts_mark(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  (void)wg;
  if (d->binding_count < 1 || d->constant_count < 1) return 1;
  *(int32_t*)d->bindings[0] = (int32_t)d->constants[0];
  return 0;
}

int cts_claim_thread_index(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  if (d->constant_count < 3) return 1;
  _Atomic uint32_t* slots = (_Atomic uint32_t*)(intptr_t)d->constants[0];
  uint32_t units = (uint32_t)d->constants[1];
  _Atomic uint32_t* violations = (_Atomic uint32_t*)(intptr_t)d->constants[2];
  uint32_t index = wg->thread_index;
  if (index >= units) {
    atomic_fetch_add_explicit(violations, 1u, memory_order_relaxed);
    return 0;
  }
  if (atomic_exchange_explicit(&slots[index], 1u, memory_order_acq_rel) != 0) {
    atomic_fetch_add_explicit(violations, 1u, memory_order_relaxed);
  }
  for (volatile int i = 0; i < 2000; ++i) {
  }
  atomic_store_explicit(&slots[index], 0u, memory_order_release);
  return 0;
}
