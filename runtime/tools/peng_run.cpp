// peng-run: runs one kernel of a module.peng on a chosen device, with NumPy
// .npy files in and out.
//
//   peng-run add.peng --kernel=add --input=a.npy --input=b.npy --output=y.npy
//   peng-run mm.peng --kernel=matmul -i a.npy -i b.npy -o c.npy --device=cpu0
//   peng-run sm.peng --kernel=softmax_13x67 --random-inputs   # no files: prints a summary
//
// Inputs bind to the kernel's read arguments in order, outputs to its written
// ones; each file's dtype and shape must match the kernel's signature.
// --device takes a device name (cpu0), a backend (cpu: its first device), or
// backend:index (cpu:0).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "npy.h"
#include "peng/peng.h"

namespace {

int Fail(const std::string& what, peng_status_t st) {
  std::fprintf(stderr, "peng-run: %s: %s: %s\n", what.c_str(), peng_status_string(st),
               peng_last_error_message());
  return 1;
}

bool FindDevice(peng_runtime_t rt, const std::string& spec, peng_device_t* out) {
  if (peng_runtime_find_device(rt, spec.c_str(), out) == PENG_OK) return true;
  std::string backend = spec;
  long index = 0;
  if (size_t colon = spec.find(':'); colon != std::string::npos) {
    backend = spec.substr(0, colon);
    char* end = nullptr;
    index = std::strtol(spec.c_str() + colon + 1, &end, 10);
    if (*end || index < 0) return false;
  }
  uint32_t count = 0;
  peng_runtime_device_count(rt, &count);
  for (uint32_t i = 0; i < count; ++i) {
    peng_device_t d;
    peng_device_info_t info;
    if (peng_runtime_device(rt, i, &d) != PENG_OK || peng_device_info(d, &info) != PENG_OK) continue;
    if (backend == info.backend && index-- == 0) {
      *out = d;
      return true;
    }
  }
  return false;
}

std::string ShapeText(const int64_t* shape, size_t rank) {
  std::string s = "[";
  for (size_t i = 0; i < rank; ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run one kernel of a module.peng with .npy inputs and outputs"};
  std::string module_path, kernel_name, device_spec, platform;
  std::vector<std::string> inputs, outputs;
  app.add_option("module", module_path, "module.peng from pengc")->required();
  app.add_option("-k,--kernel", kernel_name, "kernel to run")->required();
  app.add_option("-i,--input", inputs, ".npy file per read argument, in order");
  app.add_option("-o,--output", outputs, ".npy file per written argument, in order");
  app.add_option("-d,--device", device_spec, "device: name (cpu0), backend (cpu) or backend:index");
  app.add_option("--platform", platform, "platform profile (TOML); default: env PENG_PLATFORM");
  bool random_inputs = false;
  unsigned seed = 1;
  app.add_flag("--random-inputs", random_inputs,
               "f32 inputs uniform in [-1, 1) instead of -i files; outputs optional");
  app.add_option("--seed", seed, "seed for --random-inputs");
  CLI11_PARSE(app, argc, argv);

  peng_runtime_options_t options;
  peng_runtime_options_init(&options);
  if (!platform.empty()) options.platform_path = platform.c_str();
  peng_runtime_t rt;
  if (peng_status_t st = peng_runtime_create(&options, &rt); st != PENG_OK) {
    return Fail("creating the runtime", st);
  }
  peng_module_t module;
  if (peng_status_t st = peng_module_load_file(rt, module_path.c_str(), &module); st != PENG_OK) {
    return Fail("loading " + module_path, st);
  }
  peng_kernel_t kernel;
  if (peng_status_t st = peng_module_find_kernel(module, kernel_name.c_str(), &kernel);
      st != PENG_OK) {
    return Fail("kernel " + kernel_name, st);
  }
  peng_task_options_t task_options{};
  if (!device_spec.empty()) {
    if (!FindDevice(rt, device_spec, &task_options.device)) {
      std::fprintf(stderr, "peng-run: no device '%s' (see peng-info)\n", device_spec.c_str());
      return 1;
    }
    peng_runtime_set_policy(rt, PENG_POLICY_EXPLICIT);
  }

  uint32_t arg_count = 0;
  peng_kernel_arg_count(kernel, &arg_count);
  std::vector<peng_arg_desc_t> descs(arg_count);
  size_t reads = 0, writes = 0;
  for (uint32_t i = 0; i < arg_count; ++i) {
    peng_kernel_arg(kernel, i, &descs[i]);
    (descs[i].access == PENG_ACCESS_READ ? reads : writes)++;
  }
  if (random_inputs && inputs.empty()) inputs.assign(reads, "");
  if (random_inputs && outputs.empty()) outputs.assign(writes, "");
  if (inputs.size() != reads || outputs.size() != writes) {
    std::fprintf(stderr, "peng-run: kernel '%s' takes %zu input(s) and %zu output(s); got %zu and %zu\n",
                 kernel_name.c_str(), reads, writes, inputs.size(), outputs.size());
    return 2;
  }

  std::vector<peng_tensor_arg_t> args(arg_count);
  std::vector<peng::npy::Array> arrays(arg_count);
  size_t next_in = 0, next_out = 0;
  for (uint32_t i = 0; i < arg_count; ++i) {
    const peng_arg_desc_t& d = descs[i];
    peng::npy::Array& a = arrays[i];
    uint64_t elements = 1;
    for (uint32_t k = 0; k < d.rank; ++k) elements *= uint64_t(d.shape[k] < 0 ? 0 : d.shape[k]);
    size_t elem = peng_dtype_size(d.dtype);
    if ((d.access & PENG_ACCESS_READ) && inputs[next_in].empty()) {
      ++next_in;
      if (d.dtype != PENG_DTYPE_F32) {
        std::fprintf(stderr, "peng-run: --random-inputs makes f32 only; argument %u is not\n", i);
        return 1;
      }
      std::mt19937 rng(seed + i);
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      std::vector<float> values(elements);
      for (float& v : values) v = dist(rng);
      a.dtype = d.dtype;
      a.shape.assign(d.shape, d.shape + d.rank);
      a.data.resize(elements * 4);
      std::memcpy(a.data.data(), values.data(), a.data.size());
    } else if (d.access & PENG_ACCESS_READ) {
      std::string error;
      const std::string& path = inputs[next_in++];
      if (!peng::npy::Read(path, &a, &error)) {
        std::fprintf(stderr, "peng-run: %s\n", error.c_str());
        return 1;
      }
      bool same = a.dtype == d.dtype && a.shape.size() == d.rank;
      for (uint32_t k = 0; same && k < d.rank; ++k) same = a.shape[k] == d.shape[k] || d.shape[k] < 0;
      if (!same) {
        std::fprintf(stderr, "peng-run: %s has shape %s; kernel argument %u wants %s of dtype %d\n",
                     path.c_str(), ShapeText(a.shape.data(), a.shape.size()).c_str(), i,
                     ShapeText(d.shape, d.rank).c_str(), int(d.dtype));
        return 1;
      }
    } else {
      a.dtype = d.dtype;
      a.shape.assign(d.shape, d.shape + d.rank);
      a.data.assign(elements * elem, 0);
    }
    peng_tensor_arg_t& t = args[i];
    t.dtype = d.dtype;
    t.rank = d.rank;
    for (uint32_t k = 0; k < d.rank; ++k) t.shape[k] = a.shape[k];
    if (peng_status_t st = peng_buffer_create(rt, a.data.size(), &t.buffer); st != PENG_OK) {
      return Fail("allocating argument " + std::to_string(i), st);
    }
    if (d.access & PENG_ACCESS_READ) {
      if (peng_status_t st = peng_buffer_write(t.buffer, 0, a.data.size(), a.data.data());
          st != PENG_OK) {
        return Fail("writing argument " + std::to_string(i), st);
      }
    }
  }

  peng_graph_t graph;
  peng_graph_create(rt, &graph);
  if (peng_status_t st = peng_graph_add_task(graph, kernel, args.data(), arg_count, nullptr, 0,
                                             &task_options, nullptr);
      st != PENG_OK) {
    return Fail("adding the task", st);
  }
  peng_event_t done;
  if (peng_status_t st = peng_graph_submit(graph, nullptr, 0, &done); st != PENG_OK) {
    return Fail("submitting", st);
  }
  if (peng_status_t st = peng_event_wait(done, UINT64_MAX); st != PENG_OK) {
    return Fail("running " + kernel_name, st);
  }
  for (uint32_t i = 0; i < arg_count; ++i) {
    if (!(descs[i].access & PENG_ACCESS_WRITE)) continue;
    peng::npy::Array& a = arrays[i];
    if (peng_status_t st = peng_buffer_read(args[i].buffer, 0, a.data.size(), a.data.data());
        st != PENG_OK) {
      return Fail("reading argument " + std::to_string(i), st);
    }
    if (a.dtype == PENG_DTYPE_F32) {
      const float* v = reinterpret_cast<const float*>(a.data.data());
      size_t n = a.data.size() / 4;
      double sum = 0, lo = n ? v[0] : 0, hi = n ? v[0] : 0;
      for (size_t e = 0; e < n; ++e) {
        sum += v[e];
        lo = std::min<double>(lo, v[e]);
        hi = std::max<double>(hi, v[e]);
      }
      std::printf("%s output %u: shape %s, min %.6g, max %.6g, sum %.6g\n", kernel_name.c_str(),
                  i, ShapeText(a.shape.data(), a.shape.size()).c_str(), lo, hi, sum);
    }
    const std::string& path = outputs[next_out++];
    std::string error;
    if (!path.empty() && !peng::npy::Write(path, a, &error)) {
      std::fprintf(stderr, "peng-run: %s\n", error.c_str());
      return 1;
    }
  }
  peng_event_release(done);
  peng_graph_release(graph);
  for (auto& t : args) peng_buffer_release(t.buffer);
  peng_module_release(module);
  peng_runtime_release(rt);
  return 0;
}
