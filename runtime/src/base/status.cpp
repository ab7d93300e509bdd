#include "base/status.h"

#include "artifact/module_file.h"

namespace peng::rt {
namespace {
thread_local std::string g_last_error;
}  // namespace

peng_status_t Report(const Status& status) {
  if (!status.ok()) g_last_error = status.message();
  return status.code();
}

peng_status_t Report(peng_status_t code, const std::string& message) {
  if (code != PENG_OK) g_last_error = message;
  return code;
}

const char* LastErrorMessage() { return g_last_error.c_str(); }

}  // namespace peng::rt

extern "C" {

const char* peng_last_error_message(void) { return peng::rt::LastErrorMessage(); }

const char* peng_status_string(peng_status_t status) {
  int v = peng::rt::RawEnum(status);
  if (v < PENG_OK || v > PENG_ERROR_INTERNAL) return "PENG_ERROR_UNKNOWN";
  switch (status) {
    case PENG_OK: return "PENG_OK";
    case PENG_ERROR_INVALID_ARGUMENT: return "PENG_ERROR_INVALID_ARGUMENT";
    case PENG_ERROR_INVALID_HANDLE: return "PENG_ERROR_INVALID_HANDLE";
    case PENG_ERROR_OUT_OF_MEMORY: return "PENG_ERROR_OUT_OF_MEMORY";
    case PENG_ERROR_UNIMPLEMENTED: return "PENG_ERROR_UNIMPLEMENTED";
    case PENG_ERROR_UNSUPPORTED: return "PENG_ERROR_UNSUPPORTED";
    case PENG_ERROR_NOT_FOUND: return "PENG_ERROR_NOT_FOUND";
    case PENG_ERROR_DEVICE_LOST: return "PENG_ERROR_DEVICE_LOST";
    case PENG_ERROR_CANCELLED: return "PENG_ERROR_CANCELLED";
    case PENG_ERROR_TIMEOUT: return "PENG_ERROR_TIMEOUT";
    case PENG_ERROR_PLUGIN_LOAD: return "PENG_ERROR_PLUGIN_LOAD";
    case PENG_ERROR_CORRUPT_DATA: return "PENG_ERROR_CORRUPT_DATA";
    case PENG_ERROR_KERNEL_FAILED: return "PENG_ERROR_KERNEL_FAILED";
    case PENG_ERROR_IO: return "PENG_ERROR_IO";
    case PENG_ERROR_INTERNAL: return "PENG_ERROR_INTERNAL";
  }
  return "PENG_ERROR_UNKNOWN";
}

// One table of dtype names and sizes: module.peng's (artifact/module_file.h).
size_t peng_dtype_size(peng_dtype_t dtype) {
  int v = peng::rt::RawEnum(dtype);
  if (v <= PENG_DTYPE_INVALID || v >= PENG_DTYPE_COUNT_) return 0;
  return peng::artifact::DtypeSize(dtype);
}

const char* peng_dtype_name(peng_dtype_t dtype) {
  int v = peng::rt::RawEnum(dtype);
  if (v <= PENG_DTYPE_INVALID || v >= PENG_DTYPE_COUNT_) return "invalid";
  return peng::artifact::DtypeName(dtype);
}

const char* peng_device_kind_name(peng_device_kind_t kind) {
  int v = peng::rt::RawEnum(kind);
  if (v < PENG_DEVICE_CPU || v > PENG_DEVICE_DPU) return "unknown";
  switch (kind) {
    case PENG_DEVICE_CPU: return "cpu";
    case PENG_DEVICE_GPU: return "gpu";
    case PENG_DEVICE_NPU: return "npu";
    case PENG_DEVICE_DPU: return "dpu";
  }
  return "unknown";
}

}  // extern "C"
