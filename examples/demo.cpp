// peng-demo: task graphs through the C++ API.
//
// With --module (what scripts/demo.sh runs): requests to a small quantized
// model, on every device of a platform profile at once. Each request is three
// tasks with pengc's kernels (examples/demo.mlir: dequantize, a dense layer
// with ReLU, softmax); the cost model places them (dequantize is a
// data-plane kernel, for a DPU). The demo checks every result against a
// plain C++ reference, prints the work each device did and writes a trace.
//
//   peng-demo --module build/demo/demo.peng --platform platforms/dev-emu.toml
//
// Without --module: each of 16 chunks of a vector goes through  x = i, y = 1;
// y += a*x;  then every chunk's sum is added into one total, with kernels
// written as plain C++ functions through the CPU kernel ABI. Dependencies
// follow from the buffers the tasks read and write.
//
//   peng-demo [--platform platforms/sim-hetero.toml] [--trace demo-trace.json]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peng/peng.hpp"

namespace {

constexpr uint32_t kTile = 4096;  // elements per workgroup

// x[i] = base + i  (constants: base)
int FillIota(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  auto* x = static_cast<float*>(d->bindings[0]);
  int64_t n = d->shapes[0][0];
  int64_t begin = int64_t(wg->workgroup_id[0]) * kTile;
  int64_t end = std::min<int64_t>(n, begin + kTile);
  for (int64_t i = begin; i < end; ++i) x[i] = float(d->constants[0] + i);
  return 0;
}

// y[i] = 1
int FillOnes(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  auto* y = static_cast<float*>(d->bindings[0]);
  int64_t n = d->shapes[0][0];
  int64_t begin = int64_t(wg->workgroup_id[0]) * kTile;
  int64_t end = std::min<int64_t>(n, begin + kTile);
  for (int64_t i = begin; i < end; ++i) y[i] = 1.0f;
  return 0;
}

// y += a * x  (constants: a)
int Saxpy(const peng_dispatch_state_t* d, const peng_workgroup_state_t* wg) {
  const auto* x = static_cast<const float*>(d->bindings[0]);
  auto* y = static_cast<float*>(d->bindings[1]);
  float a = float(d->constants[0]);
  int64_t n = d->shapes[0][0];
  int64_t begin = int64_t(wg->workgroup_id[0]) * kTile;
  int64_t end = std::min<int64_t>(n, begin + kTile);
  for (int64_t i = begin; i < end; ++i) y[i] += a * x[i];
  return 0;
}

// total[0] += sum(y)   (one workgroup: the accumulation is serial on purpose)
int Accumulate(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  const auto* y = static_cast<const float*>(d->bindings[0]);
  auto* total = static_cast<double*>(d->bindings[1]);
  double s = 0;
  for (int64_t i = 0; i < d->shapes[0][0]; ++i) s += y[i];
  total[0] += s;
  return 0;
}

void Flops(const peng_dispatch_state_t* d, double* flops, double* bytes) {
  *flops = 2.0 * double(d->shapes[0][0]);
  *bytes = 0;
  for (uint32_t i = 0; i < d->binding_count; ++i) *bytes += double(d->binding_sizes[i]);
}

// ------------------------------------------------------------ model demo

constexpr int64_t kRows = 64, kIn = 128, kOut = 64;

// The model in plain C++ (double), for checking: softmax(relu(deq(q)·W + b)).
std::vector<double> Reference(const std::vector<int8_t>& q, float scale, const std::vector<float>& w,
                              const std::vector<float>& b) {
  std::vector<double> p(kRows * kOut);
  for (int64_t i = 0; i < kRows; ++i) {
    double* row = &p[i * kOut];
    for (int64_t j = 0; j < kOut; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < kIn; ++k) acc += double(q[i * kIn + k]) * scale * w[k * kOut + j];
      row[j] = std::max(0.0, acc + b[j]);
    }
    double m = *std::max_element(row, row + kOut), sum = 0;
    for (int64_t j = 0; j < kOut; ++j) sum += (row[j] = std::exp(row[j] - m));
    for (int64_t j = 0; j < kOut; ++j) row[j] /= sum;
  }
  return p;
}

struct Work {
  int tasks = 0, recomputed = 0, transfers = 0;
  double busy_ms = 0, moved_mb = 0;
};

// Per device, from the runtime's Chrome trace: task and transfer tracks.
std::map<std::string, Work> WorkPerDevice(const std::string& trace) {
  std::ifstream in(trace);
  nlohmann::json doc = nlohmann::json::parse(in);
  std::map<int, std::string> tracks;
  for (const auto& e : doc["traceEvents"]) {
    if (e.value("ph", "") == "M" && e.value("name", "") == "thread_name") {
      tracks[e["tid"].get<int>()] = e["args"]["name"].get<std::string>();
    }
  }
  std::map<std::string, Work> work;
  for (const auto& e : doc["traceEvents"]) {
    if (e.value("ph", "") != "X") continue;
    int tid = e["tid"].get<int>();
    std::string device = tracks[tid - tid % 2];  // a device's transfers are on tid + 1
    Work& w = work[device];
    if (tid % 2 == 0) {
      ++w.tasks;
      w.busy_ms += e["dur"].get<double>() * 1e-3;
      if (e["args"].value("recompute", false)) ++w.recomputed;
    } else {
      ++w.transfers;
      w.moved_mb += e["args"].value("bytes", 0.0) / (1 << 20);
    }
  }
  return work;
}

int ModelDemo(const std::string& module_path, const std::string& platform,
              const std::string& trace, int requests) {
  peng_runtime_options_t opts = peng::Runtime::default_options();
  opts.enable_trace = 1;
  opts.policy = PENG_POLICY_COST_MODEL;
  if (!platform.empty()) opts.platform_path = platform.c_str();
  peng::Runtime rt(opts);
  peng::Module module = rt.load_module_file(module_path);
  peng::Kernel deq = module.kernel("dequantize_64x128");
  peng::Kernel dense = module.kernel("dense_relu_64x128x64");
  peng::Kernel softmax = module.kernel("softmax_64x64");

  // The model's weights, shared by every request: small values, so that the
  // softmax is not one-hot.
  const float scale = 1.0f / 64;
  std::vector<float> w(kIn * kOut), b(kOut);
  for (int64_t i = 0; i < kIn * kOut; ++i) w[i] = float((i * 37) % 61 - 30) / 256.0f;
  for (int64_t j = 0; j < kOut; ++j) b[j] = float(j % 7) / 8.0f - 0.25f;
  peng::Buffer wb = rt.buffer(w.size() * 4), bb = rt.buffer(b.size() * 4), sb = rt.buffer(4);
  wb.write(w.data(), w.size() * 4);
  bb.write(b.data(), b.size() * 4);
  sb.write(&scale, 4);

  peng::Graph g = rt.graph();
  std::vector<std::vector<int8_t>> inputs;
  std::vector<peng::Buffer> qs, xs, hs, ps;
  for (int r = 0; r < requests; ++r) {
    std::vector<int8_t> q(kRows * kIn);
    for (int64_t i = 0; i < kRows * kIn; ++i) q[i] = int8_t((i * 7 + r * 13) % 255 - 127);
    qs.push_back(rt.buffer(q.size()));
    qs.back().write(q.data(), q.size());
    inputs.push_back(std::move(q));
    xs.push_back(rt.buffer(kRows * kIn * 4));
    hs.push_back(rt.buffer(kRows * kOut * 4));
    ps.push_back(rt.buffer(kRows * kOut * 4));
    auto x = xs.back().tensor(PENG_DTYPE_F32, {kRows, kIn});
    auto h = hs.back().tensor(PENG_DTYPE_F32, {kRows, kOut});
    g.add(deq, {qs.back().tensor(PENG_DTYPE_I8, {kRows, kIn}), sb.tensor(PENG_DTYPE_F32, {1}), x});
    g.add(dense, {x, wb.tensor(PENG_DTYPE_F32, {kIn, kOut}), bb.tensor(PENG_DTYPE_F32, {kOut}), h});
    g.add(softmax, {h, ps.back().tensor(PENG_DTYPE_F32, {kRows, kOut})});
  }
  g.submit().wait();

  // Tolerance: f32 sums of 128 products against double, and pengc's
  // polynomial exp: 1e-5 absolute on probabilities.
  double worst = 0;
  std::vector<float> p(kRows * kOut);
  for (int r = 0; r < requests; ++r) {
    ps[r].read(p.data(), p.size() * 4);
    std::vector<double> ref = Reference(inputs[r], scale, w, b);
    for (size_t i = 0; i < p.size(); ++i) worst = std::max(worst, std::fabs(p[i] - ref[i]));
  }
  bool ok = worst <= 1e-5;

  rt.write_trace(trace);
  std::map<std::string, Work> work = WorkPerDevice(trace);
  std::printf("peng-demo: %d requests to a quantized dense+softmax model, %u tasks, policy "
              "cost-model\n",
              requests, g.size());
  std::printf("  %-10s %-4s %-8s %6s %9s %10s %9s\n", "device", "kind", "backend", "tasks",
              "busy ms", "transfers", "moved MB");
  for (const auto& d : rt.devices()) {
    auto info = d.info();
    const Work& wk = work[info.name];
    std::printf("  %-10s %-4s %-8s %6d %9.2f %10d %9.2f%s\n", info.name,
                peng_device_kind_name(info.kind), info.backend, wk.tasks, wk.busy_ms,
                wk.transfers, wk.moved_mb, info.lost ? "  (lost)" : "");
  }
  uint32_t absent = 0;
  peng_runtime_absent_device_count(rt.get(), &absent);
  for (uint32_t i = 0; i < absent; ++i) {
    const char* name = nullptr;
    const char* reason = nullptr;
    if (peng_runtime_absent_device(rt.get(), i, &name, &reason) == PENG_OK) {
      std::printf("  %-10s absent: %s\n", name, reason);
    }
  }
  std::printf("results: %d x [%lld,%lld] probabilities against the C++ reference, max abs error "
              "%.2e (tolerance 1e-5): %s\n",
              requests, (long long)kRows, (long long)kOut, worst, ok ? "OK" : "MISMATCH");
  std::printf("trace written to %s (open in ui.perfetto.dev)\n", trace.c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string platform, trace = "demo-trace.json", module;
  int requests = 32;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--platform") && i + 1 < argc) platform = argv[++i];
    else if (!std::strcmp(argv[i], "--trace") && i + 1 < argc) trace = argv[++i];
    else if (!std::strcmp(argv[i], "--module") && i + 1 < argc) module = argv[++i];
    else if (!std::strcmp(argv[i], "--requests") && i + 1 < argc) requests = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--module demo.peng [--requests N]] [--platform FILE.toml] "
                   "[--trace FILE.json]\n",
                   argv[0]);
      return 2;
    }
  }
  if (!module.empty()) {
    try {
      return ModelDemo(module, platform, trace, std::max(1, requests));
    } catch (const peng::Error& e) {
      std::fprintf(stderr, "peng-demo: %s\n", e.what());
      return 1;
    }
  }
  try {
    peng_runtime_options_t opts = peng::Runtime::default_options();
    opts.enable_trace = 1;
    opts.policy = platform.empty() ? PENG_POLICY_EAGER : PENG_POLICY_COST_MODEL;
    if (!platform.empty()) opts.platform_path = platform.c_str();
    peng::Runtime rt(opts);

    const peng_arg_desc_t vec_w{PENG_DTYPE_F32, PENG_ACCESS_WRITE, 1, {-1}};
    const peng_arg_desc_t vec_r{PENG_DTYPE_F32, PENG_ACCESS_READ, 1, {-1}};
    const peng_arg_desc_t vec_rw{PENG_DTYPE_F32, PENG_ACCESS_READWRITE, 1, {-1}};
    const peng_arg_desc_t acc_rw{PENG_DTYPE_F64, PENG_ACCESS_READWRITE, 1, {1}};
    const peng_arg_desc_t iota_args[] = {vec_w}, ones_args[] = {vec_w};
    const peng_arg_desc_t saxpy_args[] = {vec_r, vec_rw}, acc_args[] = {vec_r, acc_rw};
    const peng_grid_dim_t tiles{0, 0, kTile};
    std::vector<peng_native_kernel_def_t> defs = {
        {"iota", "host", FillIota, 1, iota_args, 1, {tiles}, nullptr},
        {"ones", "host", FillOnes, 1, ones_args, 0, {tiles}, nullptr},
        {"saxpy", "host", Saxpy, 2, saxpy_args, 1, {tiles}, Flops},
        {"accumulate", "host", Accumulate, 2, acc_args, 0, {}, nullptr},
    };
    peng::Module mod = rt.native_module("demo", defs);

    const int64_t chunks = 16, n = 1 << 16;
    const int64_t a = 3;  // constants are integers in this demo's kernels
    peng::Buffer total = rt.buffer(sizeof(double));
    std::vector<peng::Buffer> xs, ys;
    peng::Graph g = rt.graph();
    for (int64_t c = 0; c < chunks; ++c) {
      xs.push_back(rt.buffer(n * sizeof(float)));
      ys.push_back(rt.buffer(n * sizeof(float)));
      auto x = xs.back().tensor(PENG_DTYPE_F32, {n});
      auto y = ys.back().tensor(PENG_DTYPE_F32, {n});
      g.add(mod.kernel("iota"), {x}, {c * n});
      g.add(mod.kernel("ones"), {y});
      g.add(mod.kernel("saxpy"), {x, y}, {a}, {/*priority=*/1, {}});
      g.add(mod.kernel("accumulate"), {y, total.tensor(PENG_DTYPE_F64, {1})});
    }
    g.submit().wait();

    double got = 0;
    total.read(&got, sizeof(got));
    // sum over i < N of (1 + a*i); every term is exact in float (< 2^24).
    double N = double(chunks * n);
    double expected = N + double(a) * (N - 1) * N / 2;
    bool ok = std::fabs(got - expected) <= 1e-9 * std::fabs(expected);
    std::printf("peng-demo: %u tasks over %zu device(s)\n", g.size(), rt.devices().size());
    for (const auto& d : rt.devices()) {
      auto info = d.info();
      std::printf("  %-8s kind=%s backend=%s threads=%u memory_space=%u\n", info.name,
                  peng_device_kind_name(info.kind), info.backend, info.compute_units,
                  info.memory_space);
    }
    std::printf("sum of y = %.1f (expected %.1f): %s\n", got, expected, ok ? "OK" : "MISMATCH");
    rt.write_trace(trace);
    std::printf("trace written to %s (open in ui.perfetto.dev)\n", trace.c_str());
    return ok ? 0 : 1;
  } catch (const peng::Error& e) {
    std::fprintf(stderr, "peng-demo: %s\n", e.what());
    return 1;
  }
}
