// The opencl backend's executables: OpenCL C source built with
// clBuildProgram, one cl_kernel per entry (see opencl_backend.h).
#include <algorithm>
#include <cstring>

#include "cl_util.h"
#include "opencl_backend.h"
#include "program_cache.h"

namespace peng::opencl {

namespace {

// A build log can be long (every warning of a big program); the user needs its start.
constexpr size_t kMaxLogBytes = 16 * 1024;

bool ListHas(const std::string& list, const char* item) {
  size_t start = 0, n = std::strlen(item);
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end - start == n && list.compare(start, n, item) == 0) return true;
    start = end + 1;
  }
  return false;
}

// The comma-separated features (OpenCL extension names) the device lacks.
std::string MissingExtensions(const Device* dev, const char* features) {
  std::string missing, list = features ? features : "";
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string f = list.substr(start, end - start);
    std::string word = ' ' + f;  // whole words of the space-padded list
    word.push_back(' ');
    if (!f.empty() && dev->extensions.find(word) == std::string::npos) {
      missing += (missing.empty() ? "" : ", ") + f;
    }
    start = end + 1;
  }
  return missing;
}

std::string BuildLog(cl_program program, cl_device_id device) {
  size_t size = 0;
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size) !=
          CL_SUCCESS ||
      size == 0) {
    return "(the driver gave no build log)";
  }
  std::string log(size, '\0');
  clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
  log.resize(std::strlen(log.c_str()));
  if (log.size() > kMaxLogBytes) log = log.substr(0, kMaxLogBytes) + "\n... (log truncated)";
  return log;
}

void ExecutableDestroy(peng_hal_executable_t* e) {
  auto* exe = reinterpret_cast<Executable*>(e);
  exe->entries.clear();  // the kernels hold the program
  if (exe->program) clReleaseProgram(exe->program);
  delete exe;
}

const peng_hal_executable_vtable_t kExecutableVtable = {
    /*.destroy = */ ExecutableDestroy,
};

// Opens entry i's kernel and checks its work-group size against the device
// and the kernel's own limit, so a bad size fails at load, by name.
peng_status_t OpenEntry(Device* dev, Executable* exe, const peng_hal_entry_spec_t& spec) {
  auto entry = std::make_unique<Entry>();
  entry->name = spec.name ? spec.name : "";
  const char* symbol = spec.symbol && *spec.symbol ? spec.symbol : spec.name;
  if (!symbol || !*symbol) {
    return dev->Fail(PENG_ERROR_INVALID_ARGUMENT, "an opencl entry needs a symbol or a name");
  }
  cl_int err = CL_SUCCESS;
  entry->kernel = clCreateKernel(exe->program, symbol, &err);
  if (err != CL_SUCCESS) {
    entry->kernel = nullptr;
    return dev->FailCl(err, "entry '" + entry->name + "': clCreateKernel('" + symbol + "')");
  }
  clGetKernelInfo(entry->kernel, CL_KERNEL_NUM_ARGS, sizeof entry->arg_count, &entry->arg_count,
                  nullptr);
  std::memcpy(entry->workgroup_size, spec.workgroup_size, sizeof entry->workgroup_size);
  size_t required[3] = {0, 0, 0};
  if (clGetKernelWorkGroupInfo(entry->kernel, dev->id, CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
                               sizeof required, required, nullptr) == CL_SUCCESS) {
    entry->fixed_local_size = required[0] || required[1] || required[2];
  }
  // A kernel that declares its work-group size (reqd_work_group_size: pengc's
  // matmul, whose tiles the build sized for this device) runs with it; the
  // entry's own size must then be that or 0x0x0 (the kernel's).
  if (entry->fixed_local_size) {
    bool any = spec.workgroup_size[0] || spec.workgroup_size[1] || spec.workgroup_size[2];
    for (int i = 0; i < 3; ++i) {
      if (any && spec.workgroup_size[i] != required[i]) {
        return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                         "entry '" + entry->name + "': work-group size " +
                             std::to_string(spec.workgroup_size[0]) + "x" +
                             std::to_string(spec.workgroup_size[1]) + "x" +
                             std::to_string(spec.workgroup_size[2]) +
                             " differs from the kernel's reqd_work_group_size " +
                             std::to_string(required[0]) + "x" + std::to_string(required[1]) +
                             "x" + std::to_string(required[2]));
      }
      entry->workgroup_size[i] = uint32_t(required[i]);
    }
  }
  const uint32_t* wg = entry->workgroup_size;
  uint64_t items = uint64_t(wg[0]) * wg[1] * wg[2];
  size_t kernel_limit = 0;
  clGetKernelWorkGroupInfo(entry->kernel, dev->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_limit,
                           &kernel_limit, nullptr);
  std::string size = std::to_string(wg[0]) + "x" + std::to_string(wg[1]) + "x" +
                     std::to_string(wg[2]);
  for (int i = 0; i < 3 && items; ++i) {
    if (wg[i] > dev->max_item_sizes[i]) {
      return dev->Fail(PENG_ERROR_UNSUPPORTED,
                       "entry '" + entry->name + "': work-group " + size + " exceeds " +
                           dev->Describe() + "'s CL_DEVICE_MAX_WORK_ITEM_SIZES[" +
                           std::to_string(i) + "] = " + std::to_string(dev->max_item_sizes[i]));
    }
  }
  size_t limit = kernel_limit ? std::min(kernel_limit, dev->max_workgroup_size)
                              : dev->max_workgroup_size;
  if (items > limit) {
    return dev->Fail(PENG_ERROR_UNSUPPORTED,
                     "entry '" + entry->name + "': work-group " + size + " (" +
                         std::to_string(items) + " work-items) exceeds the limit of " +
                         std::to_string(limit) + " for this kernel on " + dev->Describe());
  }
  exe->entries.push_back(std::move(entry));
  return PENG_OK;
}

// The program built from the cache's binary for `key`, or null when there is
// none or the driver refuses it (then the caller builds from source and the
// entry is overwritten).
cl_program ProgramFromCache(Device* dev, const std::string& key, const std::string& options) {
  std::vector<unsigned char> binary;
  std::string why;
  if (!ReadCachedBinary(dev->cache_dir, key, &binary, &why)) {
    if (!why.empty()) Counters().rejected.fetch_add(1);  // damaged: rebuilt below
    return nullptr;
  }
  const unsigned char* data = binary.data();
  size_t size = binary.size();
  cl_int binary_status = CL_SUCCESS, err = CL_SUCCESS;
  cl_program program =
      clCreateProgramWithBinary(dev->context, 1, &dev->id, &size, &data, &binary_status, &err);
  if (err == CL_SUCCESS && binary_status == CL_SUCCESS) {
    err = clBuildProgram(program, 1, &dev->id, options.c_str(), nullptr, nullptr);
  }
  if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
    // Stale (another driver build) or damaged in a way the checksum missed.
    if (program) clReleaseProgram(program);
    Counters().rejected.fetch_add(1);
    return nullptr;
  }
  Counters().hits.fetch_add(1);
  return program;
}

peng_status_t BuildFromSource(Device* dev, const char* source, size_t length,
                              const std::string& options, cl_program* out) {
  cl_int err = CL_SUCCESS;
  cl_program program = clCreateProgramWithSource(dev->context, 1, &source, &length, &err);
  if (err != CL_SUCCESS) return dev->FailCl(err, "clCreateProgramWithSource");
  *out = program;  // the caller's to release, built or not
  err = clBuildProgram(program, 1, &dev->id, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    if (IsDeviceLoss(err)) return dev->FailCl(err, "clBuildProgram");
    return dev->Fail(err == CL_BUILD_PROGRAM_FAILURE ? PENG_ERROR_INVALID_ARGUMENT : StatusOf(err),
                     "the OpenCL program does not build on " + dev->Describe() + " (" +
                         ClErrorName(err) + "); build log:\n" + BuildLog(program, dev->id));
  }
  return PENG_OK;
}

// Keeps the built program's binary for the next load; a driver that gives
// none, or a folder that cannot be written, just means no cache.
void StoreBinary(Device* dev, cl_program program, const std::string& key) {
  size_t size = 0;
  if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) !=
          CL_SUCCESS ||
      size == 0) {
    return;
  }
  std::vector<unsigned char> binary(size);
  unsigned char* data = binary.data();
  if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof data, &data, nullptr) != CL_SUCCESS) {
    return;
  }
  WriteCachedBinary(dev->cache_dir, key, binary);
}

}  // namespace

bool CanRun(const Device* dev, const peng_hal_executable_spec_t* spec, std::string* why) {
  if (!spec || !spec->target || !spec->format || !ListHas(dev->targets, spec->target)) {
    return false;
  }
  if (std::strcmp(spec->format, "opencl-c") != 0) {
    *why = std::string("format '") + spec->format + "' is not one the opencl backend runs";
    return false;
  }
  if (!spec->code || spec->code_size == 0) {
    *why = "an opencl-c executable without source";
    return false;
  }
  std::string missing = MissingExtensions(dev, spec->features);
  if (!missing.empty()) {
    *why = "needs " + missing + ", which " + dev->Describe() + " lacks";
    return false;
  }
  return true;
}

peng_status_t LoadExecutable(Device* dev, const peng_hal_executable_spec_t* spec,
                             peng_hal_executable_t** out) {
  std::string why;
  if (!CanRun(dev, spec, &why)) {
    return dev->Fail(PENG_ERROR_UNSUPPORTED, why.empty() ? "not a target of this device" : why);
  }
  auto exe = std::unique_ptr<Executable, void (*)(Executable*)>(
      new Executable(), [](Executable* e) { ExecutableDestroy(&e->base); });
  exe->base.resource.vtable = &kExecutableVtable;
  const char* source = static_cast<const char*>(spec->code);
  size_t length = size_t(spec->code_size);
  const std::string& options = dev->build_options;  // part of the cache key
  std::string key;
  if (!dev->cache_dir.empty()) {
    key = ProgramCacheKey(dev->platform, dev->id, options, source, length);
    exe->program = ProgramFromCache(dev, key, options);
  }
  if (!exe->program) {
    peng_status_t st = BuildFromSource(dev, source, length, options, &exe->program);
    if (st != PENG_OK) return st;
    if (!key.empty()) StoreBinary(dev, exe->program, key);
  }
  for (uint32_t i = 0; i < spec->entry_count; ++i) {
    peng_status_t st = OpenEntry(dev, exe.get(), spec->entries[i]);
    if (st != PENG_OK) return st;
  }
  *out = &exe.release()->base;
  return PENG_OK;
}

}  // namespace peng::opencl
