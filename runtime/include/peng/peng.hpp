// peng.hpp — the C++ API: header-only RAII wrappers over the C ABI in peng.h.
// Failures throw peng::Error (the exception is raised here, in the caller's
// code, never inside the runtime). Needs C++14 or later (std::exchange).
//
//   peng::Runtime rt;                                  // or rt(options)
//   peng::Buffer a = rt.buffer(n * sizeof(float));
//   a.write(host.data(), host.size() * sizeof(float));
//   peng::Module mod = rt.load_module_file("kernels.peng");  // made by pengc; or
//                      // rt.load_module(name, bytes, size), rt.native_module(name, defs)
//   peng::Kernel k = mod.kernel("scale");
//   for (const peng_arg_desc_t& arg : k.args()) ...    // dtype, access, rank, shape
//   peng::Graph g = rt.graph();
//   auto t = g.add(k, {a.tensor(PENG_DTYPE_F32, {n})});
//   g.submit().wait();                                 // throws on the first task error
//   a.read(host.data(), host.size() * sizeof(float));
#ifndef PENG_PENG_HPP_
#define PENG_PENG_HPP_

#if __cplusplus < 201402L
#error "peng.hpp needs C++14 or later (peng.h alone is C)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "peng/peng.h"

namespace peng {

class Error : public std::runtime_error {
 public:
  Error(peng_status_t status, const std::string& message)
      : std::runtime_error(std::string(peng_status_string(status)) + ": " + message),
        status_(status) {}
  peng_status_t status() const { return status_; }

 private:
  peng_status_t status_;
};

inline void Check(peng_status_t status) {
  if (status != PENG_OK) throw Error(status, peng_last_error_message());
}

namespace detail {
// Owns one C handle; Release is the C release function.
template <typename H, peng_status_t (*ReleaseFn)(H)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(H h) : h_(h) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (h_) ReleaseFn(std::exchange(h_, nullptr));
  }
  H get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  H h_ = nullptr;
};
}  // namespace detail

class Device {
 public:
  Device() = default;
  explicit Device(peng_device_t h) : h_(h) {}  // devices belong to the runtime
  peng_device_t get() const { return h_; }
  peng_device_info_t info() const {
    peng_device_info_t i;
    Check(peng_device_info(h_, &i));
    return i;
  }
  std::string name() const { return info().name; }
  // The backend's "Name: value" lines (peng_device_describe); "" without any.
  std::string describe() const {
    size_t length = 0;
    Check(peng_device_describe(h_, nullptr, 0, &length));
    std::string text(length + 1, '\0');
    Check(peng_device_describe(h_, &text[0], text.size(), &length));
    text.resize(length < text.size() ? length : text.size() - 1);
    return text;
  }

 private:
  peng_device_t h_ = nullptr;
};

class Event : public detail::Handle<peng_event_t, peng_event_release> {
 public:
  using Handle::Handle;
  void wait(uint64_t timeout_ns = PENG_WAIT_FOREVER) const { Check(peng_event_wait(get(), timeout_ns)); }
  // PENG_ERROR_TIMEOUT while pending.
  peng_status_t query() const { return peng_event_query(get()); }
  void signal(peng_status_t status = PENG_OK) const { Check(peng_event_signal(get(), status)); }
};

class Buffer : public detail::Handle<peng_buffer_t, peng_buffer_release> {
 public:
  using Handle::Handle;
  uint64_t size() const {
    uint64_t s;
    Check(peng_buffer_size(get(), &s));
    return s;
  }
  void write(const void* src, uint64_t size, uint64_t offset = 0) const {
    Check(peng_buffer_write(get(), offset, size, src));
  }
  void read(void* dst, uint64_t size, uint64_t offset = 0) const {
    Check(peng_buffer_read(get(), offset, size, dst));
  }
  template <typename T>
  std::vector<T> read_all() const {
    std::vector<T> out(size() / sizeof(T));
    read(out.data(), out.size() * sizeof(T));
    return out;
  }
  uint64_t valid_spaces() const {
    uint64_t m;
    Check(peng_buffer_valid_spaces(get(), &m));
    return m;
  }
  peng_tensor_arg_t tensor(peng_dtype_t dtype, std::initializer_list<int64_t> shape) const {
    peng_tensor_arg_t t{};
    t.buffer = get();
    t.dtype = dtype;
    t.rank = uint32_t(shape.size());
    if (t.rank > PENG_MAX_RANK) throw Error(PENG_ERROR_INVALID_ARGUMENT, "rank too large");
    std::copy(shape.begin(), shape.end(), t.shape);
    return t;
  }
};

class Kernel {
 public:
  Kernel() = default;
  explicit Kernel(peng_kernel_t h) : h_(h) {}  // valid while its module lives
  peng_kernel_t get() const { return h_; }
  std::string name() const {
    const char* n;
    Check(peng_kernel_name(h_, &n));
    return n;
  }
  bool supported_on(const Device& d) const {
    int s;
    Check(peng_kernel_supported_on(h_, d.get(), &s));
    return s != 0;
  }
  // Data-plane work (module.peng's "class"), which a DPU is meant for.
  bool data_plane() const {
    int d;
    Check(peng_kernel_is_data_plane(h_, &d));
    return d != 0;
  }
  // The signature: one descriptor per tensor argument, inputs and outputs in
  // the kernel's order, shape -1 where a dimension is dynamic.
  uint32_t arg_count() const {
    uint32_t n;
    Check(peng_kernel_arg_count(h_, &n));
    return n;
  }
  peng_arg_desc_t arg(uint32_t index) const {
    peng_arg_desc_t a;
    Check(peng_kernel_arg(h_, index, &a));
    return a;
  }
  std::vector<peng_arg_desc_t> args() const {
    std::vector<peng_arg_desc_t> out;
    for (uint32_t i = 0, n = arg_count(); i < n; ++i) out.push_back(arg(i));
    return out;
  }

 private:
  peng_kernel_t h_ = nullptr;
};

class Module : public detail::Handle<peng_module_t, peng_module_release> {
 public:
  using Handle::Handle;
  Kernel kernel(const std::string& name) const {
    peng_kernel_t k;
    Check(peng_module_find_kernel(get(), name.c_str(), &k));
    return Kernel(k);
  }
  uint32_t kernel_count() const {
    uint32_t n;
    Check(peng_module_kernel_count(get(), &n));
    return n;
  }
  Kernel kernel(uint32_t index) const {
    peng_kernel_t k;
    Check(peng_module_kernel(get(), index, &k));
    return Kernel(k);
  }
  std::vector<Kernel> kernels() const {
    std::vector<Kernel> out;
    for (uint32_t i = 0, n = kernel_count(); i < n; ++i) out.push_back(kernel(i));
    return out;
  }
};

struct TaskOptions {
  int32_t priority = 0;
  Device device;  // empty: the policy chooses
};

class Graph : public detail::Handle<peng_graph_t, peng_graph_release> {
 public:
  using Handle::Handle;
  peng_task_t add(const Kernel& k, const std::vector<peng_tensor_arg_t>& args,
                  const std::vector<int64_t>& constants = {}, const TaskOptions& opts = {}) const {
    peng_task_options_t o{opts.priority, opts.device.get()};
    peng_task_t t;
    Check(peng_graph_add_task(get(), k.get(), args.data(), uint32_t(args.size()),
                              constants.data(), uint32_t(constants.size()), &o, &t));
    return t;
  }
  void edge(peng_task_t before, peng_task_t after) const {
    Check(peng_graph_add_edge(get(), before, after));
  }
  uint32_t size() const {
    uint32_t n;
    Check(peng_graph_task_count(get(), &n));
    return n;
  }
  Event submit(const std::vector<peng_event_t>& wait = {}) const {
    peng_event_t e;
    Check(peng_graph_submit(get(), wait.data(), uint32_t(wait.size()), &e));
    return Event(e);
  }
};

class Runtime : public detail::Handle<peng_runtime_t, peng_runtime_release> {
 public:
  static peng_runtime_options_t default_options() {
    peng_runtime_options_t o;
    peng_runtime_options_init(&o);
    return o;
  }
  Runtime() : Runtime(default_options()) {}
  explicit Runtime(const peng_runtime_options_t& options) {
    peng_runtime_t h;
    Check(peng_runtime_create(&options, &h));
    *this = Runtime(h);
  }
  explicit Runtime(peng_runtime_t h) : Handle(h) {}

  std::vector<Device> devices() const {
    uint32_t n;
    Check(peng_runtime_device_count(get(), &n));
    std::vector<Device> out;
    for (uint32_t i = 0; i < n; ++i) {
      peng_device_t d;
      Check(peng_runtime_device(get(), i, &d));
      out.emplace_back(d);
    }
    return out;
  }
  Device device(const std::string& name) const {
    peng_device_t d;
    Check(peng_runtime_find_device(get(), name.c_str(), &d));
    return Device(d);
  }
  Buffer buffer(uint64_t size) const {
    peng_buffer_t b;
    Check(peng_buffer_create(get(), size, &b));
    return Buffer(b);
  }
  Module native_module(const std::string& name,
                       const std::vector<peng_native_kernel_def_t>& defs) const {
    peng_module_t m;
    Check(peng_module_create_native(get(), name.c_str(), defs.data(), uint32_t(defs.size()), &m));
    return Module(m);
  }
  // A module.peng made by pengc; corrupt or incompatible files throw.
  Module load_module_file(const std::string& path) const {
    peng_module_t m;
    Check(peng_module_load_file(get(), path.c_str(), &m));
    return Module(m);
  }
  // The same from memory; the runtime copies what it needs, so `data` may be
  // freed once this returns.
  Module load_module(const std::string& name, const void* data, uint64_t size) const {
    peng_module_t m;
    Check(peng_module_load(get(), name.c_str(), data, size, &m));
    return Module(m);
  }
  Graph graph() const {
    peng_graph_t g;
    Check(peng_graph_create(get(), &g));
    return Graph(g);
  }
  Event event() const {
    peng_event_t e;
    Check(peng_event_create(get(), &e));
    return Event(e);
  }
  void set_policy(peng_policy_t p) const { Check(peng_runtime_set_policy(get(), p)); }
  void wait_idle(uint64_t timeout_ns = PENG_WAIT_FOREVER) const {
    Check(peng_runtime_wait_idle(get(), timeout_ns));
  }
  void write_trace(const std::string& path) const {
    Check(peng_runtime_write_trace(get(), path.c_str()));
  }
  void save_perf_models(const std::string& path) const {
    Check(peng_runtime_save_perf_models(get(), path.c_str()));
  }
};

}  // namespace peng

#endif  // PENG_PENG_HPP_
