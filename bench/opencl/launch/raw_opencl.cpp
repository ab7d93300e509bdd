// Launch overhead through raw OpenCL on the same device, two ways: the
// cheapest (in-order queue, no events, clFinish) and the way the Peng backend
// drives the driver (an event per launch, completion callbacks).
#include <condition_variable>
#include <mutex>
#include <vector>

#include "driver/cl_env.h"
#include "driver/harness.h"
#include "launch/launch.h"

namespace peng_bench_ocl::launch {
namespace {

const size_t kOne = 1;  // global and local size: one work-item, as Peng's grid

// n marks on `queue`, then a blocking read: every launch must have run.
void Verify(cl_command_queue queue, uint32_t n, const char* who) {
  ClEnv& cl = Cl();
  cl_int err = CL_SUCCESS;
  std::vector<int32_t> out(n, 0);
  cl_mem buffer = clCreateBuffer(cl.context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                 n * sizeof(int32_t), out.data(), &err);
  ClCheck(err, "clCreateBuffer");
  cl_long size = n;
  err = clSetKernelArg(cl.mark, 0, sizeof buffer, &buffer);
  if (err == CL_SUCCESS) err = clSetKernelArg(cl.mark, 2, sizeof size, &size);
  // An out-of-order queue would let marks run in any order: they write
  // different elements, so any order is right.
  for (uint32_t i = 0; i < n && err == CL_SUCCESS; ++i) {
    cl_long index = i;
    err = clSetKernelArg(cl.mark, 1, sizeof index, &index);
    if (err == CL_SUCCESS) {
      err = clEnqueueNDRangeKernel(queue, cl.mark, 1, nullptr, &kOne, &kOne, 0, nullptr, nullptr);
    }
  }
  if (err == CL_SUCCESS) err = clFinish(queue);
  if (err == CL_SUCCESS) {
    err = clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, n * sizeof(int32_t), out.data(), 0,
                              nullptr, nullptr);
  }
  clReleaseMemObject(buffer);
  ClCheck(err, "the verification launches");
  CheckMarks(out, n, who);
}

// Counts completion callbacks, as the Peng backend's event callbacks do.
struct Completions {
  std::mutex mutex;
  std::condition_variable done;
  uint32_t left = 0;
  cl_int failed = CL_SUCCESS;
};

void CL_CALLBACK OnComplete(cl_event event, cl_int status, void* user) {
  auto* c = static_cast<Completions*>(user);
  clReleaseEvent(event);
  std::lock_guard<std::mutex> lock(c->mutex);
  if (status < 0) c->failed = status;
  if (--c->left == 0) c->done.notify_all();
}

// n launches of the empty kernel, each with its event and callback, then a
// wait for n callbacks.
void LaunchWithEvents(ClEnv& cl, uint32_t n, Completions& c) {
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.left = n;
  }
  for (uint32_t i = 0; i < n; ++i) {
    cl_event event = nullptr;
    ClCheck(clEnqueueNDRangeKernel(cl.peng_like_queue, cl.empty, 1, nullptr, &kOne, &kOne, 0,
                                   nullptr, &event),
            "clEnqueueNDRangeKernel");
    ClCheck(clSetEventCallback(event, CL_COMPLETE, OnComplete, &c), "clSetEventCallback");
    clFlush(cl.peng_like_queue);
  }
  std::unique_lock<std::mutex> lock(c.mutex);
  c.done.wait(lock, [&] { return c.left == 0; });
  ClCheck(c.failed, "a launch");
}

}  // namespace

void RawOpenCl(benchmark::State& state, uint32_t n) {
  RunGuarded(state, [&] {
    ClEnv& cl = Cl();
    Verify(cl.queue, n, "raw_opencl");
    LaunchTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      for (uint32_t i = 0; i < n; ++i) {
        ClCheck(clEnqueueNDRangeKernel(cl.queue, cl.empty, 1, nullptr, &kOne, &kOne, 0, nullptr,
                                       nullptr),
                "clEnqueueNDRangeKernel");
      }
      ClCheck(clFinish(cl.queue), "clFinish");
      timer.Stop();
    }
  });
}

void RawOpenClEvents(benchmark::State& state, uint32_t n) {
  RunGuarded(state, [&] {
    ClEnv& cl = Cl();
    Verify(cl.peng_like_queue, n, "raw_opencl_events");
    Completions c;
    LaunchWithEvents(cl, n, c);  // warm
    LaunchTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      LaunchWithEvents(cl, n, c);
      timer.Stop();
    }
  });
}

}  // namespace peng_bench_ocl::launch
