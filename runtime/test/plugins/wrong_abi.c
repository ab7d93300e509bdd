/* A plugin built against a future HAL ABI: the runtime must refuse it. */
#include "peng/hal.h"

static peng_status_t enumerate(uint32_t* n) {
  *n = 1;
  return PENG_OK;
}
static peng_status_t create(uint32_t i, const peng_hal_device_params_t* p, peng_hal_device_t** d) {
  (void)i, (void)p, (void)d;
  return PENG_ERROR_UNIMPLEMENTED;
}
static const peng_hal_factory_t factory = {PENG_HAL_ABI_VERSION + 1, "future", enumerate, create};

PENG_HAL_EXPORT const peng_hal_factory_t* peng_hal_plugin_register(void) { return &factory; }
