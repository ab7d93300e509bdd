// The backends built into the runtime. Each lives in backends/<name>/runtime
// and exports one factory, exactly as a plugin would.
#pragma once

#include "peng/hal.h"

extern "C" {
const peng_hal_factory_t* peng_backend_cpu_factory(void);
const peng_hal_factory_t* peng_backend_null_factory(void);
}
