// What the opencl tests ask of OpenCL directly, not of the backend under test.
#ifndef PENG_OPENCL_TEST_DEVICE_QUERY_H_
#define PENG_OPENCL_TEST_DEVICE_QUERY_H_

#include <CL/cl.h>

// Whether OpenCL device 0 keeps its buffers in host memory that kernels use
// in place (host-unified memory with fine-grained buffer SVM), as PoCL's CPU
// device does: then it may work in host memory.
inline bool DeviceIsHostUnified() {
  cl_platform_id platform;
  cl_device_id first;
  cl_bool unified = CL_FALSE;
  cl_device_svm_capabilities svm = 0;
  if (clGetPlatformIDs(1, &platform, nullptr) != CL_SUCCESS ||
      clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &first, nullptr) != CL_SUCCESS ||
      clGetDeviceInfo(first, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, nullptr) !=
          CL_SUCCESS ||
      clGetDeviceInfo(first, CL_DEVICE_SVM_CAPABILITIES, sizeof svm, &svm, nullptr) != CL_SUCCESS) {
    return false;
  }
  return unified && (svm & CL_DEVICE_SVM_FINE_GRAIN_BUFFER);
}

#endif  // PENG_OPENCL_TEST_DEVICE_QUERY_H_
