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
//
// Data moves in bulk: a .npy file is read with one fread into its array, which
// goes to the device buffer with one peng_buffer_write (and back the same
// way); only --random-inputs and the output summary touch each element.
#include <cmath>
#include <cstdio>
#include <cstring>
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

// "f64 (float64)": the runtime's name, as in the kernel's MLIR, and NumPy's,
// as in the user's script.
std::string DtypeText(peng_dtype_t dtype) {
  std::string text = peng_dtype_name(dtype);
  if (const char* numpy = peng::npy::NumpyName(dtype)) text += std::string(" (") + numpy + ")";
  return text;
}

// IEEE binary16 and bfloat16 from and to float, rounding to nearest even.
float HalfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0) {
    float v = std::ldexp(float(man), -24);  // zero or subnormal
    return sign ? -v : v;
  }
  uint32_t bits =
      exp == 31 ? sign | 0x7f800000 | (man << 13) : sign | ((exp + 112) << 23) | (man << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = uint16_t((x >> 16) & 0x8000);
  uint32_t abs = x & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00;   // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00;  // rounds past 65504: infinity
  if (abs < 0x38800000) {                       // below 2^-14: subnormal or zero
    if (abs < 0x33000000) return sign;          // below 2^-25: rounds to zero
    uint32_t e = abs >> 23, m = (abs & 0x7fffff) | 0x800000, shift = 126 - e;
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return sign | uint16_t(h);
  }
  uint32_t h = (abs - 0x38000000) >> 13, rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // a carry moves into the exponent
  return sign | uint16_t(h);
}

float Bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  return uint16_t((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

// SplitMix64: a few instructions per value, the same values on every host.
struct Random {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float Float() { return float(Next() >> 40) * 0x1p-23f - 1.0f; }   // [-1, 1)
  double Double() { return double(Next() >> 11) * 0x1p-52 - 1.0; }  // [-1, 1)
  int Small() { return int(Next() >> 60) - 8; }                     // [-8, 8)
};

// Generates straight into the array's bytes: no staging copy.
template <typename T, typename Make>
bool Fill(std::vector<uint8_t>& data, Make make) {
  size_t n = data.size() / sizeof(T);
  uint8_t* out = data.data();
  for (size_t i = 0; i < n; ++i) {
    T v = make();
    std::memcpy(out + i * sizeof(T), &v, sizeof(T));
  }
  return true;
}

// Floats uniform in [-1, 1); integers in [-8, 8) ([0, 16) unsigned), small
// enough that sums of products in integer kernels do not overflow; bools 0/1.
bool FillRandom(peng_dtype_t dtype, uint64_t seed, std::vector<uint8_t>& data) {
  Random r{seed};
  switch (dtype) {
    case PENG_DTYPE_F32:
      return Fill<float>(data, [&] { return r.Float(); });
    case PENG_DTYPE_F64:
      return Fill<double>(data, [&] { return r.Double(); });
    case PENG_DTYPE_F16:
      return Fill<uint16_t>(data, [&] { return FloatToHalf(r.Float()); });
    case PENG_DTYPE_BF16:
      return Fill<uint16_t>(data, [&] { return FloatToBf16(r.Float()); });
    case PENG_DTYPE_I8:
      return Fill<int8_t>(data, [&] { return int8_t(r.Small()); });
    case PENG_DTYPE_U8:
      return Fill<uint8_t>(data, [&] { return uint8_t(r.Small() + 8); });
    case PENG_DTYPE_I16:
      return Fill<int16_t>(data, [&] { return int16_t(r.Small()); });
    case PENG_DTYPE_I32:
      return Fill<int32_t>(data, [&] { return int32_t(r.Small()); });
    case PENG_DTYPE_I64:
      return Fill<int64_t>(data, [&] { return int64_t(r.Small()); });
    case PENG_DTYPE_BOOL:
      return Fill<uint8_t>(data, [&] { return uint8_t(r.Next() >> 63); });
    default:
      return false;
  }
}

struct Summary {
  double min = 0, max = 0, sum = 0;
};

template <typename T, typename ToDouble>
bool Summarise(const std::vector<uint8_t>& data, ToDouble to_double, Summary* out) {
  size_t n = data.size() / sizeof(T);
  const uint8_t* in = data.data();
  // NaNs fail both comparisons: they reach the sum only.
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (size_t i = 0; i < n; ++i) {
    T raw;
    std::memcpy(&raw, in + i * sizeof(T), sizeof(T));
    double v = to_double(raw);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += v;
  }
  if (lo > hi) lo = hi = n ? NAN : 0;  // every value NaN, or none
  *out = {lo, hi, sum};
  return true;
}

bool SummariseAny(peng_dtype_t dtype, const std::vector<uint8_t>& data, Summary* out) {
  auto same = [](auto v) { return double(v); };
  switch (dtype) {
    case PENG_DTYPE_F32:
      return Summarise<float>(data, same, out);
    case PENG_DTYPE_F64:
      return Summarise<double>(data, same, out);
    case PENG_DTYPE_F16:
      return Summarise<uint16_t>(data, HalfToFloat, out);
    case PENG_DTYPE_BF16:
      return Summarise<uint16_t>(data, Bf16ToFloat, out);
    case PENG_DTYPE_I8:
      return Summarise<int8_t>(data, same, out);
    case PENG_DTYPE_U8:
      return Summarise<uint8_t>(data, same, out);
    case PENG_DTYPE_I16:
      return Summarise<int16_t>(data, same, out);
    case PENG_DTYPE_I32:
      return Summarise<int32_t>(data, same, out);
    case PENG_DTYPE_I64:
      return Summarise<int64_t>(data, same, out);
    case PENG_DTYPE_BOOL:
      return Summarise<uint8_t>(data, same, out);
    default:
      return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run one kernel of a module.peng with .npy inputs and outputs"};
  std::string module_path, kernel_name, device_spec, platform;
  std::vector<std::string> inputs, outputs;
  app.add_option("module", module_path, "module.peng from pengc")->required();
  app.add_option("-k,--kernel", kernel_name, "kernel to run")->required();
  app.add_option("-i,--input", inputs, ".npy file per read argument, in order");
  app.add_option("-o,--output", outputs,
                 ".npy file per written argument, in order (optional with --random-inputs); "
                 "each output's summary is printed either way");
  app.add_option("-d,--device", device_spec,
                 "device: name (cpu0), backend (cpu) or backend:index; default: the first device "
                 "with code for the kernel (cpu0 without a platform profile)");
  app.add_option("--platform", platform,
                 "platform profile (TOML); default: env PENG_PLATFORM, else one cpu0 device");
  bool random_inputs = false;
  uint64_t seed = 1;
  app.add_flag("--random-inputs", random_inputs,
               "generate the inputs instead of -i files: floats uniform in [-1, 1), integers in "
               "[-8, 8) ([0, 16) unsigned), bools 0/1; outputs optional");
  app.add_option("--seed", seed, "seed for --random-inputs")->capture_default_str();
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
    // A read-write argument is both an input and an output.
    reads += (descs[i].access & PENG_ACCESS_READ) != 0;
    writes += (descs[i].access & PENG_ACCESS_WRITE) != 0;
  }
  if (random_inputs && inputs.empty()) inputs.assign(reads, "");
  if (random_inputs && outputs.empty()) outputs.assign(writes, "");
  if (inputs.size() != reads || outputs.size() != writes) {
    std::fprintf(stderr,
                 "peng-run: kernel '%s' takes %zu input(s) and %zu output(s); got %zu and %zu\n",
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
    if ((d.access & PENG_ACCESS_READ) && !inputs[next_in].empty()) {
      std::string error;
      const std::string& path = inputs[next_in++];
      if (!peng::npy::Read(path, &a, &error)) {
        std::fprintf(stderr, "peng-run: %s\n", error.c_str());
        return 1;
      }
      bool same = a.dtype == d.dtype && a.shape.size() == d.rank;
      for (uint32_t k = 0; same && k < d.rank; ++k)
        same = a.shape[k] == d.shape[k] || d.shape[k] < 0;
      if (!same) {
        std::fprintf(stderr, "peng-run: %s holds %s %s; kernel argument %u wants %s %s\n",
                     path.c_str(), DtypeText(a.dtype).c_str(),
                     ShapeText(a.shape.data(), a.shape.size()).c_str(), i,
                     DtypeText(d.dtype).c_str(), ShapeText(d.shape, d.rank).c_str());
        return 1;
      }
    } else {
      a.dtype = d.dtype;
      a.shape.assign(d.shape, d.shape + d.rank);
      a.data.resize(elements * peng_dtype_size(d.dtype));
      if (d.access & PENG_ACCESS_READ) {
        ++next_in;
        if (!FillRandom(d.dtype, seed + i, a.data)) {
          std::fprintf(stderr, "peng-run: --random-inputs cannot make %s (argument %u)\n",
                       DtypeText(d.dtype).c_str(), i);
          return 1;
        }
      }
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
    std::string shape = ShapeText(a.shape.data(), a.shape.size());
    Summary s;
    if (SummariseAny(a.dtype, a.data, &s)) {
      std::printf("%s output %u: %s %s, min %.6g, max %.6g, sum %.6g\n", kernel_name.c_str(), i,
                  peng_dtype_name(a.dtype), shape.c_str(), s.min, s.max, s.sum);
    } else {
      std::printf("%s output %u: %s %s\n", kernel_name.c_str(), i, peng_dtype_name(a.dtype),
                  shape.c_str());
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
