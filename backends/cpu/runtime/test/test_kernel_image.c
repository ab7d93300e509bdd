/* A kernel image built the way the tests need one without pengc: a shared
 * object with no libc, using the kernel ABI. The table behind a pointer makes
 * the linker emit RELATIVE relocations that the loader must apply. */
#include "peng/peng.h"

static const float kScale[4] = {1.0f, 2.0f, 3.0f, 4.0f};
static const float* const volatile kScalePtr = kScale;
static int calls;

/* x[i] = x[i] * scale[i % 4] + workgroup id, over the workgroup's quarter. */
int scale_rows(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  if (d->abi_version != PENG_KERNEL_ABI_VERSION || d->binding_count != 1) return 1;
  float* x = (float*)d->bindings[0];
  uint64_t n = d->binding_sizes[0] / sizeof(float);
  uint64_t per = (n + d->workgroup_count[0] - 1) / d->workgroup_count[0];
  uint64_t begin = per * wg->workgroup_id[0];
  for (uint64_t i = begin; i < begin + per && i < n; ++i) {
    x[i] = x[i] * kScalePtr[i % 4] + (float)wg->workgroup_id[0];
  }
  ++calls;
  return 0;
}

int always_fails(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  (void)d;
  (void)wg;
  return 7;
}
