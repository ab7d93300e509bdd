// The opencl backend's factory, devices and buffers (see opencl_backend.h).
#include <algorithm>
#include <strings.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cl_util.h"
#include "opencl_backend.h"
#include "program_cache.h"

namespace peng::opencl {

namespace {

// Every device of every platform, found once per process: the ICD loader
// reads its vendor list (OCL_ICD_VENDORS, /etc/OpenCL/vendors) once anyway.
struct Inventory {
  struct Found {
    cl_platform_id platform;
    cl_device_id device;
  };
  std::vector<Found> devices;
  std::string why_none;  // when there are none: what the loader said
};

Inventory Discover() {
  Inventory inv;
  cl_uint platform_count = 0;
  cl_int err = clGetPlatformIDs(0, nullptr, &platform_count);
  if (err != CL_SUCCESS || platform_count == 0) {
    const char* vendors = std::getenv("OCL_ICD_VENDORS");
    inv.why_none = "the OpenCL ICD loader finds no platform (" +
                   (err != CL_SUCCESS ? ClErrorName(err) : std::string("0 platforms")) +
                   "; vendors from " +
                   (vendors ? "OCL_ICD_VENDORS=" + std::string(vendors)
                            : std::string("/etc/OpenCL/vendors")) +
                   ")";
    return inv;
  }
  std::vector<cl_platform_id> platforms(platform_count);
  if (clGetPlatformIDs(platform_count, platforms.data(), nullptr) != CL_SUCCESS) {
    inv.why_none = "clGetPlatformIDs failed";
    return inv;
  }
  for (cl_platform_id p : platforms) {
    cl_uint n = 0;
    // CL_DEVICE_NOT_FOUND: a platform without devices, not an error.
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
    std::vector<cl_device_id> ids(n);
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, ids.data(), nullptr) != CL_SUCCESS) continue;
    for (cl_device_id d : ids) inv.devices.push_back({p, d});
  }
  if (inv.devices.empty()) inv.why_none = "no OpenCL platform has a device";
  return inv;
}

const Inventory& GetInventory() {
  static const Inventory inventory = Discover();
  return inventory;
}

// ------------------------------------------------------------------ buffers

void BufferDestroy(peng_hal_buffer_t* b) {
  auto* buffer = reinterpret_cast<Buffer*>(b);
  clReleaseMemObject(buffer->mem);
  // The runtime destroys a buffer after its last operation completed, so no
  // command still uses the memory.
  if (buffer->svm) clSVMFree(buffer->device->context, buffer->svm);
  buffer->device->allocated.fetch_sub(buffer->size);
  delete buffer;
}

peng_status_t BufferMap(peng_hal_buffer_t* b, void** out) {
  *out = reinterpret_cast<Buffer*>(b)->svm;
  return PENG_OK;
}

const peng_hal_buffer_vtable_t kBufferVtable = {
    /*.destroy = */ BufferDestroy,
    /*.map = */ nullptr,  // (optional) device memory: the runtime copies instead
};
// Host-unified devices: the same buffers, whose SVM memory maps.
const peng_hal_buffer_vtable_t kMappedBufferVtable = {
    /*.destroy = */ BufferDestroy,
    /*.map = */ BufferMap,
};

// A buffer of `size` (> 0) bytes: on host-unified devices in fine-grained
// SVM, with a cl_mem over it (OpenCL 2.0: CL_MEM_USE_HOST_PTR of an SVM
// pointer uses that memory as the buffer's storage), so the queue's code is
// the same for both.
cl_mem CreateMem(Device* dev, uint64_t size, void** out_svm, cl_int* err) {
  *out_svm = nullptr;
  if (!dev->host_unified) {
    return clCreateBuffer(dev->context, CL_MEM_READ_WRITE, size, nullptr, err);
  }
  void* svm = clSVMAlloc(dev->context, CL_MEM_READ_WRITE | CL_MEM_SVM_FINE_GRAIN_BUFFER, size, 0);
  if (!svm) {
    *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    return nullptr;
  }
  cl_mem mem =
      clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, size, svm, err);
  if (*err != CL_SUCCESS) {
    clSVMFree(dev->context, svm);
    return nullptr;
  }
  *out_svm = svm;
  return mem;
}

// ------------------------------------------------------------------ device

void DeviceDestroy(peng_hal_device_t* d) {
  auto* dev = reinterpret_cast<Device*>(d);
  if (dev->context) clReleaseContext(dev->context);
  delete dev;
}

peng_status_t DeviceQueryInfo(peng_hal_device_t* d, peng_device_info_t* out) {
  auto* dev = reinterpret_cast<Device*>(d);
  std::memset(out, 0, sizeof(*out));
  std::snprintf(out->name, sizeof(out->name), "%s", dev->name.c_str());
  std::snprintf(out->backend, sizeof(out->backend), "opencl");
  std::snprintf(out->target, sizeof(out->target), "%s", dev->targets.c_str());
  out->kind = dev->kind;
  out->memory_space = dev->memory_space;
  out->memory_bytes = dev->memory_limit ? dev->memory_limit : dev->global_memory;
  out->compute_units = dev->compute_units;
  out->vector_bits = dev->vector_bits;
  // Work-group counts are 32-bit; the global size they make is a size_t.
  out->max_workgroups = UINT32_MAX;
  out->peak_gflops = dev->model_gflops;
  out->lost = dev->lost.load() ? 1 : 0;
  return PENG_OK;
}

peng_status_t DeviceSupports(peng_hal_device_t* d, const peng_hal_executable_spec_t* spec,
                             int* out) {
  auto* dev = reinterpret_cast<Device*>(d);
  std::string why;
  *out = CanRun(dev, spec, &why) ? 1 : 0;
  // The reason goes with a refusal; supports itself succeeded.
  if (!*out && !why.empty()) dev->Fail(PENG_ERROR_UNSUPPORTED, why);
  return PENG_OK;
}

peng_status_t DeviceAllocate(peng_hal_device_t* d, uint64_t size, peng_hal_buffer_t** out) {
  auto* dev = reinterpret_cast<Device*>(d);
  if (dev->lost) return dev->Fail(PENG_ERROR_DEVICE_LOST, dev->Describe() + " is lost");
  if (size > dev->max_allocation) {
    return dev->Fail(PENG_ERROR_OUT_OF_MEMORY,
                     std::to_string(size) + " bytes is more than one allocation may hold on " +
                         dev->Describe() + " (CL_DEVICE_MAX_MEM_ALLOC_SIZE " +
                         std::to_string(dev->max_allocation) + ")");
  }
  if (dev->memory_limit) {
    uint64_t used = dev->allocated.fetch_add(size) + size;
    if (used > dev->memory_limit) {
      dev->allocated.fetch_sub(size);
      return dev->Fail(PENG_ERROR_OUT_OF_MEMORY, dev->Describe() + " has " +
                                                     std::to_string(dev->memory_limit) +
                                                     " bytes (memory_mb), all in use");
    }
  } else {
    dev->allocated.fetch_add(size);
  }
  cl_int err = CL_SUCCESS;
  void* svm = nullptr;
  // OpenCL has no empty buffers.
  cl_mem mem = CreateMem(dev, size ? size : 1, &svm, &err);
  if (err != CL_SUCCESS) {
    dev->allocated.fetch_sub(size);
    return dev->FailCl(err, std::string(dev->host_unified ? "clSVMAlloc" : "clCreateBuffer") +
                                " of " + std::to_string(size) + " bytes");
  }
  const peng_hal_buffer_vtable_t* vtable = svm ? &kMappedBufferVtable : &kBufferVtable;
  *out = &(new Buffer{{vtable}, dev, mem, size, svm})->base;
  return PENG_OK;
}

peng_status_t DeviceLoadExecutable(peng_hal_device_t* d, const peng_hal_executable_spec_t* spec,
                                   peng_hal_executable_t** out) {
  return LoadExecutable(reinterpret_cast<Device*>(d), spec, out);
}

peng_status_t DeviceCreateQueue(peng_hal_device_t* d, peng_hal_queue_t** out) {
  return CreateQueue(reinterpret_cast<Device*>(d), out);
}

peng_status_t DeviceCheckHealth(peng_hal_device_t* d) {
  auto* dev = reinterpret_cast<Device*>(d);
  if (!dev->lost && !ClDeviceValue<cl_bool>(dev->id, CL_DEVICE_AVAILABLE, CL_TRUE)) {
    dev->lost = true;
  }
  return dev->lost ? PENG_ERROR_DEVICE_LOST : PENG_OK;
}

// What clinfo shows and a user checks, one "Name: value" per line.
peng_status_t DeviceDescribe(peng_hal_device_t* d, char* out, size_t size, size_t* out_length) {
  auto* dev = reinterpret_cast<Device*>(d);
  cl_device_id id = dev->id;
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  auto has = [&](const char* ext) { return dev->extensions.find(ext) != std::string::npos; };
  cl_device_type type = ClDeviceValue<cl_device_type>(id, CL_DEVICE_TYPE, 0);
  std::string kind = (type & CL_DEVICE_TYPE_GPU)           ? "GPU"
                     : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "ACCELERATOR"
                     : (type & CL_DEVICE_TYPE_CUSTOM)      ? "CUSTOM"
                     : (type & CL_DEVICE_TYPE_CPU)         ? "CPU"
                                                           : "other";
  auto local_type = ClDeviceValue<cl_device_local_mem_type>(id, CL_DEVICE_LOCAL_MEM_TYPE, CL_LOCAL);
  auto mib = [](uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; };
  auto width = [&](cl_device_info q) { return std::to_string(ClDeviceValue<cl_uint>(id, q, 0)); };
  std::string text =
      "OpenCL platform: " + ClPlatformString(dev->platform, CL_PLATFORM_NAME) + ", " +
      ClPlatformString(dev->platform, CL_PLATFORM_VERSION) +
      "\nOpenCL device: " + ClDeviceString(id, CL_DEVICE_NAME) + " (" +
      ClDeviceString(id, CL_DEVICE_VENDOR) + "), type " + kind +
      "\nDevice version: " + ClDeviceString(id, CL_DEVICE_VERSION) + ", " +
      ClDeviceString(id, CL_DEVICE_PROFILE) +
      "\nDriver version: " + ClDeviceString(id, CL_DRIVER_VERSION) +
      "\nOpenCL C version: " + ClDeviceString(id, CL_DEVICE_OPENCL_C_VERSION) +
      "\nMax compute units: " + std::to_string(dev->compute_units) +
      "\nMax clock frequency: " +
      std::to_string(ClDeviceValue<cl_uint>(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, 0)) + " MHz" +
      "\nMax work-group size: " + std::to_string(dev->max_workgroup_size) +
      "\nMax work-item sizes: " + std::to_string(dev->max_item_sizes[0]) + "x" +
      std::to_string(dev->max_item_sizes[1]) + "x" + std::to_string(dev->max_item_sizes[2]) +
      "\nLocal memory: " +
      std::to_string(ClDeviceValue<cl_ulong>(id, CL_DEVICE_LOCAL_MEM_SIZE, 0) >> 10) + " KiB (" +
      (local_type == CL_LOCAL ? "dedicated" : "in global memory") + ")" +
      "\nGlobal memory: " + mib(dev->global_memory) + ", max allocation " +
      mib(dev->max_allocation) +
      "\nGlobal memory cache: " +
      std::to_string(ClDeviceValue<cl_ulong>(id, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, 0) >> 10) +
      " KiB" +
      "\nPreferred vector widths: char " + width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR) +
      ", short " + width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT) + ", int " +
      width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT) + ", long " +
      width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG) + ", half " +
      width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF) + ", float " +
      width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT) + ", double " +
      width(CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE) +
      "\nfp64 (cl_khr_fp64): " + yes(has(" cl_khr_fp64 ")) +
      "\nfp16 (cl_khr_fp16): " + yes(has(" cl_khr_fp16 ")) +
      "\nHost-unified memory: " +
      yes(ClDeviceValue<cl_bool>(id, CL_DEVICE_HOST_UNIFIED_MEMORY, CL_FALSE)) +
      (dev->host_unified ? " (buffers mapped without copies)" : "") +
      "\nOut-of-order queue: " + yes(dev->out_of_order) +
      "\nProgram cache: " + (dev->cache_dir.empty() ? std::string("off") : dev->cache_dir) +
      "\nBuild options: " + dev->build_options + "\n";
  return peng_hal_write_text(text.data(), text.size(), out, size, out_length);
}

const peng_hal_device_vtable_t kDeviceVtable = {
    /*.destroy = */ DeviceDestroy,
    /*.query_info = */ DeviceQueryInfo,
    /*.supports = */ DeviceSupports,
    /*.allocate = */ DeviceAllocate,
    /*.load_executable = */ DeviceLoadExecutable,
    /*.create_queue = */ DeviceCreateQueue,
    /*.check_health = */ DeviceCheckHealth,
    /*.describe = */ DeviceDescribe,
};

peng_status_t KeepStatus(peng_status_t code, const char*) { return code; }

bool IsOff(const char* value) {
  return !std::strcmp(value, "0") || !strcasecmp(value, "false") || !strcasecmp(value, "off");
}

// The profile's keys beyond the runtime's own: `cache = false`, `cache_dir`
// (the folder itself, no "opencl/" added), `build_options` (added to every
// clBuildProgram after the device's own), `zero_copy = false` (treat a
// host-unified device as one with memory of its own: plain buffers, copies;
// applied in CreateDevice, after the device's figures are read), and the
// test-only `force_out_of_resources = N` and `force_device_lost = N`.
peng_status_t ApplySettings(Device* dev, const peng_hal_device_params_t* params) {
  dev->cache_dir = ProgramCacheDir();
  if (const char* dir = peng_hal_setting(params, "cache_dir")) dev->cache_dir = dir;
  if (const char* cache = peng_hal_setting(params, "cache"); cache && IsOff(cache)) {
    dev->cache_dir.clear();
  }
  if (const char* options = peng_hal_setting(params, "build_options")) {
    dev->build_options = options;
  }
  if (const char* n = peng_hal_setting(params, "force_device_lost")) {
    char* end = nullptr;
    long long count = std::strtoll(n, &end, 10);
    if (!*n || *end || count < 0) {
      std::string msg =
          "OpenCL device '" + dev->name + "': force_device_lost = '" + n + "' is not a count";
      return dev->Fail(PENG_ERROR_INVALID_ARGUMENT, msg);
    }
    dev->force_device_lost = count;
  }
  if (const char* n = peng_hal_setting(params, "force_out_of_resources")) {
    char* end = nullptr;
    unsigned long long count = std::strtoull(n, &end, 10);
    if (!*n || *end) {
      return dev->Fail(
          PENG_ERROR_INVALID_ARGUMENT,
          "OpenCL device '" + dev->name + "': force_out_of_resources = '" + n + "' is not a count");
    }
    dev->force_out_of_resources = count;
  }
  return PENG_OK;
}

// The device's figures, read once: queries are not free on every driver.
void ReadLimits(Device* dev) {
  cl_device_id id = dev->id;
  dev->description = ClDeviceString(id, CL_DEVICE_NAME) + " (" +
                     ClPlatformString(dev->platform, CL_PLATFORM_NAME) + ")";
  // Built in place: GCC 12 warns falsely (-Wrestrict) on " " + string + " ".
  dev->extensions = ClDeviceString(id, CL_DEVICE_EXTENSIONS);
  dev->extensions.insert(dev->extensions.begin(), ' ');
  dev->extensions.push_back(' ');
  for (char& c : dev->extensions) {
    if (c == '\t' || c == '\n') c = ' ';
  }
  dev->compute_units = ClDeviceValue<cl_uint>(id, CL_DEVICE_MAX_COMPUTE_UNITS, 1);
  dev->vector_bits = 32 * ClDeviceValue<cl_uint>(id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, 1);
  dev->global_memory = ClDeviceValue<cl_ulong>(id, CL_DEVICE_GLOBAL_MEM_SIZE);
  dev->max_allocation = ClDeviceValue<cl_ulong>(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  dev->max_workgroup_size = ClDeviceValue<size_t>(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, 1);
  size_t items[3] = {1, 1, 1};
  clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof items, items, nullptr);
  std::memcpy(dev->max_item_sizes, items, sizeof items);
  auto queue_props = ClDeviceValue<cl_command_queue_properties>(id, CL_DEVICE_QUEUE_PROPERTIES);
  dev->out_of_order = (queue_props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0;
  // Pre-2.0 devices have no SVM query: the fallback 0 keeps them copying.
  auto svm = ClDeviceValue<cl_device_svm_capabilities>(id, CL_DEVICE_SVM_CAPABILITIES, 0);
  dev->host_unified = ClDeviceValue<cl_bool>(id, CL_DEVICE_HOST_UNIFIED_MEMORY, CL_FALSE) &&
                      (svm & CL_DEVICE_SVM_FINE_GRAIN_BUFFER) != 0;
}

// The device's limits as build options: pengc's kernels choose their tile
// shapes from them when the program is built (backends/opencl/compiler,
// Gemm.cpp), so one module fits a CPU device and a GPU alike.
std::string DeviceDefines(const Device* dev) {
  cl_device_id id = dev->id;
  auto local_type = ClDeviceValue<cl_device_local_mem_type>(id, CL_DEVICE_LOCAL_MEM_TYPE, CL_LOCAL);
  // The kernels' work-groups are squares (x by x): the limit they see
  // keeps x within each of the first two dimensions' limits.
  size_t group = std::min({dev->max_workgroup_size, dev->max_item_sizes[0] * dev->max_item_sizes[0],
                           dev->max_item_sizes[1] * dev->max_item_sizes[1]});
  std::string out = "-DPENG_DEVICE_LOCAL_MEM_DEDICATED=" +
                    std::to_string(local_type == CL_LOCAL ? 1 : 0) +
                    " -DPENG_DEVICE_LOCAL_MEM_SIZE=" +
                    std::to_string(ClDeviceValue<cl_ulong>(id, CL_DEVICE_LOCAL_MEM_SIZE, 0)) +
                    " -DPENG_DEVICE_MAX_WORK_GROUP_SIZE=" + std::to_string(group);
  const std::pair<const char*, cl_device_info> widths[] = {
      {"CHAR", CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR},
      {"SHORT", CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT},
      {"INT", CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT},
      {"LONG", CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG},
      {"HALF", CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF},
      {"FLOAT", CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT},
      {"DOUBLE", CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE}};
  for (const auto& [type, query] : widths) {
    out += std::string(" -DPENG_DEVICE_VECTOR_WIDTH_") + type + "=" +
           std::to_string(ClDeviceValue<cl_uint>(id, query, 1));
  }
  return out;
}

}  // namespace

std::string Device::Describe() const { return "device '" + name + "' (" + description + ")"; }

peng_status_t Device::FailCl(cl_int err, const std::string& what) {
  if (IsDeviceLoss(err)) lost = true;
  return Fail(StatusOf(err), what + " failed on " + Describe() + ": " + ClErrorName(err));
}

uint32_t DeviceCount() { return uint32_t(GetInventory().devices.size()); }

bool IsOwnBuffer(const peng_hal_buffer_t* buffer) {
  const void* vt = buffer->resource.vtable;
  return vt == &kBufferVtable || vt == &kMappedBufferVtable;
}

peng_status_t CreateDevice(uint32_t index, const peng_hal_device_params_t* params,
                           peng_hal_device_t** out) {
  SetErrorFn set_error = params && params->set_error ? params->set_error : KeepStatus;
  const Inventory& inv = GetInventory();
  if (index >= inv.devices.size()) {
    std::string msg = "there is no OpenCL device " + std::to_string(index) + ": this machine has " +
                      std::to_string(inv.devices.size()) +
                      (inv.why_none.empty() ? "" : " (" + inv.why_none + ")");
    return set_error(PENG_ERROR_NOT_FOUND, msg.c_str());
  }
  std::string name = params && params->name ? params->name : "opencl:" + std::to_string(index);
  auto dev = std::make_unique<Device>();
  dev->base.resource.vtable = &kDeviceVtable;
  dev->name = name;
  dev->memory_space = params ? params->memory_space : 1;
  dev->targets = params && params->targets ? params->targets : "opencl";
  dev->memory_limit = params ? params->memory_bytes : 0;
  dev->model_gflops = params ? params->model_gflops : 0;
  dev->set_error = set_error;
  dev->platform = inv.devices[index].platform;
  dev->id = inv.devices[index].device;
  if (peng_status_t st = ApplySettings(dev.get(), params); st != PENG_OK) return st;
  // The device's own kind; a profile's `kind` relabels it in the runtime.
  cl_device_type type = ClDeviceValue<cl_device_type>(dev->id, CL_DEVICE_TYPE, 0);
  dev->kind = (type & CL_DEVICE_TYPE_GPU)                                 ? PENG_DEVICE_GPU
              : (type & (CL_DEVICE_TYPE_ACCELERATOR | CL_DEVICE_TYPE_CUSTOM)) ? PENG_DEVICE_NPU
                                                                             : PENG_DEVICE_CPU;
  ReadLimits(dev.get());
  std::string user_options = dev->build_options;  // the setting, after the device's own
  dev->build_options = DeviceDefines(dev.get());
  if (!user_options.empty()) dev->build_options += " " + user_options;
  const char* zero_copy = peng_hal_setting(params, "zero_copy");
  if (zero_copy && IsOff(zero_copy)) dev->host_unified = false;
  if (dev->memory_space == 0 && !dev->host_unified) {
    return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                     "OpenCL " + dev->Describe() +
                         " has memory of its own (no host-unified memory with fine-grained "
                         "SVM): give it memory = \"discrete\" in the platform profile");
  }

  const cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                         cl_context_properties(dev->platform), 0};
  cl_int err = CL_SUCCESS;
  dev->context = clCreateContext(props, 1, &dev->id, nullptr, nullptr, &err);
  if (err != CL_SUCCESS) {
    dev->context = nullptr;
    return dev->FailCl(err, "clCreateContext");
  }
  dev->has_clock_offset =
      MeasureClockOffset(dev->platform, dev->id, dev->context, &dev->clock_offset_ns);
  *out = &dev.release()->base;
  return PENG_OK;
}

namespace {

peng_status_t FactoryEnumerate(uint32_t* out_count) {
  // No platform is zero devices, not an error: the runtime must still start.
  *out_count = DeviceCount();
  return PENG_OK;
}

const peng_hal_factory_t kFactory = {
    /*.abi_version = */ PENG_HAL_ABI_VERSION,
    /*.name = */ "opencl",
    /*.enumerate = */ FactoryEnumerate,
    /*.create_device = */ CreateDevice,
};

}  // namespace

}  // namespace peng::opencl

extern "C" const peng_hal_factory_t* peng_backend_opencl_factory(void) {
  return &peng::opencl::kFactory;
}
