#include "runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <toml++/toml.h>

#include "hal/builtin.h"
#include "sched/perf_model.h"
#include "sched/scheduler.h"
#include "trace/trace.h"

namespace peng::rt {

namespace {

std::string EnvOr(const char* value, const char* env) {
  if (value) return value;
  const char* e = std::getenv(env);
  return e ? e : "";
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Status ReadPlatformFile(const std::string& path, std::string* text) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) {
    return Error(PENG_ERROR_IO, "cannot open platform profile '", path,
                 "': ", std::strerror(errno));
  }
  char chunk[4096];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) text->append(chunk, got);
  if (std::ferror(file.get())) {
    return Error(PENG_ERROR_IO, "cannot read platform profile '", path,
                 "': ", std::strerror(errno));
  }
  return OkStatus();
}

// Levenshtein distance, for "did you mean" on short keys.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

RuntimeOptions RuntimeOptions::FromC(const peng_runtime_options_t* c) {
  RuntimeOptions o;
  peng_runtime_options_t defaults;
  peng_runtime_options_init(&defaults);
  if (!c) c = &defaults;
  std::memcpy(&o.policy, &c->policy, sizeof o.policy);  // may be out of range: checked later
  o.platform_path = EnvOr(c->platform_path, "PENG_PLATFORM");
  o.plugin_path = EnvOr(c->plugin_path, "PENG_PLUGIN_PATH");
  o.perf_model_path = EnvOr(c->perf_model_path, "PENG_PERF_MODEL");
  o.cpu_threads = c->cpu_threads;
  o.enable_trace = c->enable_trace != 0;
  o.enable_null_device = c->enable_null_device != 0;
  if (c->struct_size >= offsetof(peng_runtime_options_t, watchdog_ms) + sizeof(c->watchdog_ms)) {
    o.watchdog_ms = c->watchdog_ms;
  }
  return o;
}

Result<Ref<Runtime>> Runtime::Create(const RuntimeOptions& options) {
  int policy = RawEnum(options.policy);
  if (policy < PENG_POLICY_EAGER || policy > PENG_POLICY_COST_MODEL) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "unknown scheduling policy ", policy);
  }
  Ref<Runtime> rt = Ref<Runtime>::Adopt(new Runtime());
  rt->options_ = options;
  for (const BuiltinBackend& b : BuiltinBackends()) rt->factories_.push_back(b.factory());
  PENG_RETURN_IF_ERROR(rt->LoadPlugins(options.plugin_path));
  PENG_RETURN_IF_ERROR(rt->CreateDevices());
  if (rt->devices_.empty()) return Error(PENG_ERROR_NOT_FOUND, "no devices were created");
  if (rt->devices_.size() > 64) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "at most 64 devices are supported, the platform has ",
                 rt->devices_.size());
  }
  rt->perf_models_ = std::make_unique<PerfModels>();
  if (!options.perf_model_path.empty()) {
    PENG_RETURN_IF_ERROR(rt->perf_models_->Load(options.perf_model_path, rt->SpaceNames()));
  }
  if (options.enable_trace) {
    std::vector<std::string> names;
    for (auto& d : rt->devices_) names.push_back(d->name());
    rt->tracer_ = std::make_unique<Tracer>(std::move(names));
  }
  rt->scheduler_ = std::make_unique<Scheduler>(rt.get(), options.policy);
  return rt;
}

thread_local int t_device_callback_depth = 0;

void Runtime::Release() const {
  if (!ReleaseRef()) return;
  if (t_device_callback_depth > 0) {
    std::thread([self = this] { delete self; }).detach();
    return;
  }
  delete this;
}

Runtime::~Runtime() {
  scheduler_.reset();  // waits for runs
  devices_.clear();    // before the plugins that implement them go away
  for (void* h : plugin_handles_) dlclose(h);
}

void Runtime::Shutdown() {
  if (scheduler_) scheduler_->WaitIdle(PENG_WAIT_FOREVER);
  if (!options_.perf_model_path.empty()) {
    Status st = SavePerfModels(options_.perf_model_path);
    if (!st.ok()) Report(st);
  }
}

std::vector<std::string> Runtime::SpaceNames() const {
  std::vector<std::string> names;
  for (Device* d : space_owners_) names.push_back(d ? d->name() : "host");
  return names;
}

Status Runtime::SavePerfModels(const std::string& path) const {
  return perf_models_->Save(path, SpaceNames());
}

Device* Runtime::FindDevice(const std::string& name) const {
  for (const auto& d : devices_) {
    if (name == d->name()) return d.get();
  }
  return nullptr;
}

void Runtime::OnDeviceLost(uint32_t device) {
  if (device < devices_.size()) devices_[device]->MarkLost();
}

const peng_hal_factory_t* Runtime::FindFactory(const std::string& name) const {
  for (const auto* f : factories_) {
    if (name == f->name) return f;
  }
  return nullptr;
}

Status Runtime::LoadPlugins(const std::string& path) {
  namespace fs = std::filesystem;
  for (const std::string& entry : Split(path, ':')) {
    std::vector<std::string> files;
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      for (const auto& f : fs::directory_iterator(entry, ec)) {
        if (f.path().extension() == ".so") files.push_back(f.path().string());
      }
      std::sort(files.begin(), files.end());
    } else if (fs::exists(entry, ec)) {
      files.push_back(entry);
    } else {
      return Error(PENG_ERROR_PLUGIN_LOAD, "plugin path entry '", entry, "' does not exist");
    }
    for (const std::string& file : files) {
      void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* why = dlerror();
        return Error(PENG_ERROR_PLUGIN_LOAD, "cannot load plugin '", file, "': ",
                     why ? why : "unknown error");
      }
      plugin_handles_.push_back(handle);
      auto reg = reinterpret_cast<peng_hal_plugin_register_fn_t>(
          dlsym(handle, PENG_HAL_PLUGIN_SYMBOL));
      if (!reg) {
        return Error(PENG_ERROR_PLUGIN_LOAD, "plugin '", file, "' does not export ",
                     PENG_HAL_PLUGIN_SYMBOL);
      }
      const peng_hal_factory_t* factory = reg();
      if (!factory) return Error(PENG_ERROR_PLUGIN_LOAD, "plugin '", file, "' returned no factory");
      if (factory->abi_version != PENG_HAL_ABI_VERSION) {
        return Error(PENG_ERROR_PLUGIN_LOAD, "plugin '", file, "' was built for HAL ABI ",
                     factory->abi_version, ", this runtime has ", PENG_HAL_ABI_VERSION);
      }
      if (!factory->name || !*factory->name || !factory->enumerate || !factory->create_device) {
        return Error(PENG_ERROR_PLUGIN_LOAD, "plugin '", file,
                     "' has an incomplete factory (name, enumerate and create_device are required)");
      }
      if (FindFactory(factory->name)) {
        return Error(PENG_ERROR_PLUGIN_LOAD, "plugin '", file, "' registers backend '",
                     factory->name, "', which already exists");
      }
      factories_.push_back(factory);
    }
  }
  return OkStatus();
}

Status Runtime::AddDevice(const peng_hal_factory_t* factory, uint32_t index,
                          peng_hal_device_params_t params, uint32_t queue_depth,
                          bool kind_given, bool optional, Device::KernelClasses classes) {
  if (FindDevice(params.name)) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "two devices are named '", params.name, "'");
  }
  if (params.memory_space == UINT32_MAX) params.memory_space = uint32_t(space_owners_.size());
  params.set_error = HalSetError;
  TakeHalError();
  peng_hal_device_t* hal = nullptr;
  peng_status_t st = factory->create_device(index, &params, &hal);
  std::string backend_message = TakeHalError();
  if (st != PENG_OK && (st == PENG_ERROR_DEVICE_LOST || optional)) {
    absent_.push_back({params.name, std::string(peng_status_string(st)) + ": " +
                                        (backend_message.empty() ? "(no reason given)"
                                                                 : backend_message)});
    return OkStatus();
  }
  if (st != PENG_OK || !hal) {
    return Error(st == PENG_OK ? PENG_ERROR_INTERNAL : st, "backend '", factory->name,
                 "' could not create device '", params.name, "': ",
                 backend_message.empty() ? peng_status_string(st) : backend_message.c_str());
  }
  auto device = Device::Create(this, uint32_t(devices_.size()), factory->name, hal, params);
  if (!device.ok()) return device.status();
  // A profile's `kind` relabels the device (PoCL as a development NPU);
  // without one, the backend's own word stands (an OpenCL GPU is a gpu).
  if (kind_given) (*device)->set_kind(params.kind);
  (*device)->set_kernel_classes(classes);
  // A device can be lost from the start: then it is absent (optional), or
  // stays listed, with its reason, and gets no work.
  if (Status health = (*device)->CheckHealth(); !health.ok() && optional) {
    absent_.push_back({params.name, health.message()});
    return OkStatus();
  }
  if (params.memory_space == space_owners_.size()) space_owners_.push_back(device->get());
  devices_.push_back(std::move(*device));
  queue_depths_.push_back(queue_depth);
  return OkStatus();
}

static Result<peng_device_kind_t> ParseKind(const std::string& kind) {
  if (kind == "cpu") return PENG_DEVICE_CPU;
  if (kind == "gpu") return PENG_DEVICE_GPU;
  if (kind == "npu") return PENG_DEVICE_NPU;
  if (kind == "dpu") return PENG_DEVICE_DPU;
  return Error(PENG_ERROR_CORRUPT_DATA, "unknown device kind '", kind, "'");
}

Status Runtime::CreateDevices() {
  if (options_.platform_path.empty()) {
    for (const BuiltinBackend& b : BuiltinBackends()) {
      const peng_hal_factory_t* factory = b.factory();
      uint32_t count = 0;
      switch (b.defaults) {
        case DefaultDevices::kFirst: count = 1; break;
        case DefaultDevices::kOnRequest: count = options_.enable_null_device ? 1 : 0; break;
        case DefaultDevices::kEvery:
          if (factory->enumerate(&count) != PENG_OK) count = 0;  // none on this machine
          break;
        case DefaultDevices::kProfileOnly: break;
      }
      for (uint32_t i = 0; i < count; ++i) {
        std::string name = std::string(factory->name) + std::to_string(i);
        peng_hal_device_params_t p{};
        p.name = name.c_str();
        p.kind = b.kind;
        p.memory_space = b.own_memory ? UINT32_MAX : 0;
        if (b.kind == PENG_DEVICE_CPU) p.threads = options_.cpu_threads;
        PENG_RETURN_IF_ERROR(AddDevice(factory, i, p, 0));
      }
    }
    // Every device each plugin reports.
    for (size_t f = BuiltinBackends().size(); f < factories_.size(); ++f) {
      uint32_t count = 0;
      peng_status_t st = factories_[f]->enumerate(&count);
      if (st != PENG_OK) {
        return Error(PENG_ERROR_PLUGIN_LOAD, "plugin backend '", factories_[f]->name,
                     "': enumerate failed: ", peng_status_string(st));
      }
      for (uint32_t i = 0; i < count; ++i) {
        std::string name = std::string(factories_[f]->name) + std::to_string(i);
        peng_hal_device_params_t p{};
        p.name = name.c_str();
        p.kind = PENG_DEVICE_NPU;
        p.memory_space = UINT32_MAX;
        PENG_RETURN_IF_ERROR(AddDevice(factories_[f], i, p, 0));
      }
    }
    return OkStatus();
  }

  const std::string& path = options_.platform_path;
  // Read the file here rather than through toml::parse_file, which reports a
  // missing file as a parse error: that is an I/O error, with errno's reason.
  std::string text;
  if (Status read = ReadPlatformFile(path, &text); !read.ok()) return read;
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Error(PENG_ERROR_CORRUPT_DATA, path, ":", e.source().begin.line, ":",
                 e.source().begin.column, ": ", e.description());
  }
  const toml::array* list = doc["device"].as_array();
  if (!list || list->empty()) {
    return Error(PENG_ERROR_CORRUPT_DATA, path, ": a platform profile needs [[device]] entries");
  }
  static const std::set<std::string> kKeys = {"name",    "backend",     "kind",  "threads",
                                              "memory",  "memory_mb",   "targets", "timing",
                                              "link",    "queue_depth", "index",
                                              "optional", "kernels"};
  // Every other key is the backend's: passed on as text (hal.h).
  std::function<void(const std::string&, const toml::node&, std::vector<std::string>*)> flatten =
      [&](const std::string& key, const toml::node& value, std::vector<std::string>* out) {
        if (const toml::table* sub = value.as_table()) {
          for (const auto& [k, v] : *sub) flatten(key + "." + std::string(k.str()), v, out);
          return;
        }
        std::string text;
        auto scalar = [](const toml::node& n) {
          if (auto s = n.value<std::string>()) return *s;
          if (n.is_boolean()) return std::string(*n.value<bool>() ? "true" : "false");
          if (n.is_integer()) return std::to_string(*n.value<int64_t>());
          if (n.is_floating_point()) {
            std::ostringstream os;
            os << *n.value<double>();
            return os.str();
          }
          return std::string();
        };
        if (const toml::array* list = value.as_array()) {
          for (const toml::node& item : *list) text += (text.empty() ? "" : ",") + scalar(item);
        } else {
          text = scalar(value);
        }
        out->push_back(key);
        out->push_back(text);
      };
  for (const toml::node& node : *list) {
    const toml::table* t = node.as_table();
    if (!t) return Error(PENG_ERROR_CORRUPT_DATA, path, ": [[device]] must be a table");
    auto where = [&](const std::string& what) {
      auto line = t->source().begin.line;
      return Error(PENG_ERROR_CORRUPT_DATA, path, ":", line, ": ", what);
    };
    std::vector<std::string> setting_text;  // key, value, key, value, ...
    for (const auto& [key, value] : *t) {
      std::string k(key.str());
      if (kKeys.count(k)) continue;
      // A near miss of the runtime's own keys is a typo, not a setting.
      for (const std::string& known : kKeys) {
        if (EditDistance(k, known) <= 1 && k.size() > 3) {
          return where("unknown device key '" + k + "' (did you mean '" + known +
                       "'? keys the runtime does not know go to the backend)");
        }
      }
      flatten(k, value, &setting_text);
    }
    // The runtime's default watchdog, for a device whose profile sets none.
    if (options_.watchdog_ms && !t->contains("watchdog_ms")) {
      setting_text.push_back("watchdog_ms");
      setting_text.push_back(std::to_string(options_.watchdog_ms));
    }
    std::vector<peng_hal_setting_t> settings;
    for (size_t i = 0; i + 1 < setting_text.size(); i += 2) {
      settings.push_back({setting_text[i].c_str(), setting_text[i + 1].c_str()});
    }
    auto name = (*t)["name"].value<std::string>();
    auto backend = (*t)["backend"].value<std::string>();
    if (!name || name->empty() || name->size() >= PENG_MAX_NAME) return where("device needs a name");
    if (!backend) return where("device '" + *name + "' needs a backend");
    const peng_hal_factory_t* factory = FindFactory(*backend);
    if (!factory) return where("device '" + *name + "': unknown backend '" + *backend + "'");
    auto kind_text = (*t)["kind"].value<std::string>();
    auto kind = ParseKind(kind_text.value_or(std::string("cpu")));
    if (!kind.ok()) return where(kind.status().message());
    std::string memory = (*t)["memory"].value_or(std::string("host"));
    if (memory != "host" && memory != "discrete") {
      return where("memory must be \"host\" or \"discrete\"");
    }
    int64_t threads = (*t)["threads"].value_or(int64_t(0));
    int64_t memory_mb = (*t)["memory_mb"].value_or(int64_t(0));
    int64_t depth = (*t)["queue_depth"].value_or(int64_t(0));
    int64_t index = (*t)["index"].value_or(int64_t(0));
    if (threads < 0 || threads > 1024 || memory_mb < 0 || depth < 0 || depth > 4096 || index < 0) {
      return where("device '" + *name + "': threads, memory_mb, queue_depth or index out of range");
    }
    std::string targets = (*t)["targets"].value_or(std::string());
    peng_hal_device_params_t p{};
    p.name = name->c_str();
    p.kind = *kind;
    p.memory_space = memory == "host" ? 0 : UINT32_MAX;
    p.threads = uint32_t(threads);
    p.memory_bytes = uint64_t(memory_mb) << 20;
    p.targets = targets.empty() ? nullptr : targets.c_str();
    p.settings = settings.empty() ? nullptr : settings.data();
    p.setting_count = uint32_t(settings.size());
    p.model_gflops = (*t)["timing"]["gflops"].value_or(0.0);
    p.model_mem_gbps = (*t)["timing"]["mem_gbps"].value_or(0.0);
    p.model_launch_us = (*t)["timing"]["launch_us"].value_or(0.0);
    p.link_gbps = (*t)["link"]["gbps"].value_or(0.0);
    p.link_latency_us = (*t)["link"]["latency_us"].value_or(0.0);
    if (p.model_gflops < 0 || p.model_mem_gbps < 0 || p.model_launch_us < 0 || p.link_gbps < 0 ||
        p.link_latency_us < 0) {
      return where("device '" + *name + "': timing and link figures must not be negative");
    }
    bool optional = (*t)["optional"].value_or(false);
    std::string classes_text = (*t)["kernels"].value_or(std::string("all"));
    Device::KernelClasses classes = Device::KernelClasses::kAll;
    if (classes_text == "data_plane") {
      classes = Device::KernelClasses::kDataPlane;
    } else if (classes_text == "compute") {
      classes = Device::KernelClasses::kCompute;
    } else if (classes_text != "all") {
      return where("device '" + *name + "': kernels = \"" + classes_text +
                   "\": expected \"all\", \"data_plane\" or \"compute\"");
    }
    PENG_RETURN_IF_ERROR(AddDevice(factory, uint32_t(index), p, uint32_t(depth),
                                   kind_text.has_value(), optional, classes));
  }
  return OkStatus();
}

}  // namespace peng::rt
