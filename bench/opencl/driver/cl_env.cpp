#include "driver/cl_env.h"

#include <memory>
#include <vector>

#include "driver/harness.h"

namespace peng_bench_ocl {
namespace {

ClEnv* g_env = nullptr;

std::vector<cl_platform_id> Platforms() {
  cl_uint count = 0;
  if (clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0) return {};
  std::vector<cl_platform_id> ids(count);
  if (clGetPlatformIDs(count, ids.data(), nullptr) != CL_SUCCESS) return {};
  return ids;
}

std::vector<cl_device_id> Devices(cl_platform_id p) {
  cl_uint count = 0;
  if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS) return {};
  std::vector<cl_device_id> ids(count);
  if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr) != CL_SUCCESS) return {};
  return ids;
}

std::string InfoString(cl_int (*get)(void*, cl_uint, size_t, void*, size_t*), void* object,
                       cl_uint what) {
  size_t size = 0;
  if (get(object, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return "?";
  std::string s(size, '\0');
  get(object, what, size, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string PlatformInfo(cl_platform_id p, cl_platform_info what) {
  return InfoString(
      reinterpret_cast<cl_int (*)(void*, cl_uint, size_t, void*, size_t*)>(clGetPlatformInfo), p,
      what);
}

std::string DeviceInfo(cl_device_id d, cl_device_info what) {
  return InfoString(
      reinterpret_cast<cl_int (*)(void*, cl_uint, size_t, void*, size_t*)>(clGetDeviceInfo), d,
      what);
}

ClEnv* Create() {
  auto env = std::make_unique<ClEnv>();
  for (cl_platform_id p : Platforms()) {
    std::vector<cl_device_id> devices = Devices(p);
    if (!devices.empty()) {
      env->platform = p;
      env->device = devices[0];
      break;
    }
  }
  if (!env->device) throw BenchError("no OpenCL device");
  env->platform_name = PlatformInfo(env->platform, CL_PLATFORM_NAME) + " " +
                       PlatformInfo(env->platform, CL_PLATFORM_VERSION);
  env->device_name = DeviceInfo(env->device, CL_DEVICE_NAME);
  env->driver_version = DeviceInfo(env->device, CL_DRIVER_VERSION);
  cl_int err = CL_SUCCESS;
  env->context = clCreateContext(nullptr, 1, &env->device, nullptr, nullptr, &err);
  ClCheck(err, "clCreateContext");
  env->queue = clCreateCommandQueue(env->context, env->device, 0, &err);
  ClCheck(err, "clCreateCommandQueue (in-order)");
  cl_command_queue_properties supported = 0;
  clGetDeviceInfo(env->device, CL_DEVICE_QUEUE_PROPERTIES, sizeof supported, &supported, nullptr);
  env->peng_like_queue = clCreateCommandQueue(
      env->context, env->device,
      CL_QUEUE_PROFILING_ENABLE | (supported & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE), &err);
  ClCheck(err, "clCreateCommandQueue (profiling)");
  const char* source = kKernelSource;
  env->program = clCreateProgramWithSource(env->context, 1, &source, nullptr, &err);
  ClCheck(err, "clCreateProgramWithSource");
  err = clBuildProgram(env->program, 1, &env->device, "", nullptr, nullptr);
  if (err != CL_SUCCESS) {
    size_t size = 0;
    clGetProgramBuildInfo(env->program, env->device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
    std::string log(size, '\0');
    clGetProgramBuildInfo(env->program, env->device, CL_PROGRAM_BUILD_LOG, size, log.data(),
                          nullptr);
    throw BenchError("clBuildProgram failed: " + log);
  }
  env->empty = clCreateKernel(env->program, "empty", &err);
  ClCheck(err, "clCreateKernel(empty)");
  env->mark = clCreateKernel(env->program, "mark", &err);
  ClCheck(err, "clCreateKernel(mark)");
  env->x = clCreateBuffer(env->context, CL_MEM_READ_WRITE, sizeof(float), nullptr, &err);
  ClCheck(err, "clCreateBuffer");
  // empty's arguments never change: set once, as a user launching the same
  // kernel again would.
  cl_long one = 1;
  ClCheck(clSetKernelArg(env->empty, 0, sizeof env->x, &env->x), "clSetKernelArg");
  ClCheck(clSetKernelArg(env->empty, 1, sizeof one, &one), "clSetKernelArg");
  return env.release();
}

}  // namespace

void ClCheck(cl_int err, const char* what) {
  if (err != CL_SUCCESS)
    throw BenchError(std::string("OpenCL: ") + what + " failed: " + std::to_string(err));
}

uint32_t ClDeviceCount() {
  uint32_t n = 0;
  for (cl_platform_id p : Platforms()) n += uint32_t(Devices(p).size());
  return n;
}

ClEnv& Cl() {
  if (!g_env) g_env = Create();
  return *g_env;
}

void ShutdownCl() {
  if (!g_env) return;
  ClEnv* e = g_env;
  g_env = nullptr;
  clFinish(e->queue);
  clFinish(e->peng_like_queue);
  clReleaseMemObject(e->x);
  clReleaseKernel(e->mark);
  clReleaseKernel(e->empty);
  clReleaseProgram(e->program);
  clReleaseCommandQueue(e->peng_like_queue);
  clReleaseCommandQueue(e->queue);
  clReleaseContext(e->context);
  delete e;
}

}  // namespace peng_bench_ocl
