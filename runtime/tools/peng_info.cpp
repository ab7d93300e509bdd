// peng-info: lists the devices a runtime finds, with their kind, caps and
// memory, like clinfo. Honours the same options as any program: PENG_PLATFORM,
// PENG_PLUGIN_PATH, or the flags below. With --module, prints what a
// module.peng holds instead: its kernels and its executables (target, CPU,
// ISA features, VLEN range, and each entry's launch metadata).
//
//   peng-info [--platform FILE.toml] [--plugins PATH] [--null] [--json]
//   peng-info --module kernels.peng
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "artifact/module_file.h"
#include "peng/peng.h"

namespace {

int PrintModule(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "peng-info: cannot open '%s'\n", path.c_str());
    return 1;
  }
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::string error;
  auto m = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  if (!m) {
    std::fprintf(stderr, "peng-info: %s: %s\n", path.c_str(), error.c_str());
    return 1;
  }
  std::printf("module %s: format %u, from %s\n", path.c_str(), peng::artifact::kFormatVersion,
              m->producer.c_str());
  for (const auto& k : m->kernels) {
    std::printf("kernel %s (", k.name.c_str());
    for (size_t i = 0; i < k.args.size(); ++i) {
      const auto& a = k.args[i];
      std::printf("%s%s %s[", i ? ", " : "",
                  a.access == PENG_ACCESS_READ ? "in" : a.access == PENG_ACCESS_WRITE ? "out" : "inout",
                  peng::artifact::DtypeName(a.dtype));
      for (size_t d = 0; d < a.shape.size(); ++d) {
        std::printf("%s%lld", d ? "x" : "", static_cast<long long>(a.shape[d]));
      }
      std::printf("]");
    }
    std::printf("): %.0f flops, %.0f bytes%s\n", k.flops, k.bytes,
                k.data_plane ? ", data plane" : "");
  }
  for (const auto& x : m->executables) {
    std::printf("executable %s %s %s", x.target.c_str(), x.format.c_str(),
                x.cpu.empty() ? "-" : x.cpu.c_str());
    if (!x.arch.empty()) std::printf(" arch=%s", x.arch.c_str());
    if (x.min_vlen || x.max_vlen) std::printf(" vlen=%u-%u", x.min_vlen, x.max_vlen);
    std::string features;
    for (const auto& f : x.features) features += (features.empty() ? "" : ",") + f;
    if (!features.empty()) std::printf(" features=%s", features.c_str());
    std::printf(" (%zu bytes)\n", x.code.size());
    for (const auto& e : x.entries) {
      std::printf("  entry %s: symbol %s, grid", m->kernels[e.kernel].name.c_str(),
                  e.symbol.c_str());
      bool any = false;
      for (const auto& g : e.launch.grid) {
        if (g.tile == 0) continue;
        std::printf(" %u:%u/%u", g.arg, g.dim, g.tile);
        any = true;
      }
      if (!any) std::printf(" 1");
      std::printf(", workgroup %ux%ux%u, workspace %llu\n", e.launch.workgroup_size[0],
                  e.launch.workgroup_size[1], e.launch.workgroup_size[2],
                  static_cast<unsigned long long>(e.launch.workspace));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"List the devices of the Peng runtime"};
  std::string platform, plugins;
  bool with_null = false, json = false;
  app.add_option("--platform", platform, "platform profile (TOML); default: env PENG_PLATFORM");
  app.add_option("--plugins", plugins, "plugin path; default: env PENG_PLUGIN_PATH");
  app.add_flag("--null", with_null, "also create the null skeleton device");
  app.add_flag("--json", json, "print JSON");
  std::string module;
  app.add_option("--module", module, "print what a module.peng holds instead of the devices");
  CLI11_PARSE(app, argc, argv);
  if (!module.empty()) return PrintModule(module);

  peng_runtime_options_t options;
  peng_runtime_options_init(&options);
  if (!platform.empty()) options.platform_path = platform.c_str();
  if (!plugins.empty()) options.plugin_path = plugins.c_str();
  options.enable_null_device = with_null ? 1 : 0;
  peng_runtime_t rt;
  if (peng_status_t st = peng_runtime_create(&options, &rt); st != PENG_OK) {
    std::fprintf(stderr, "peng-info: %s: %s\n", peng_status_string(st), peng_last_error_message());
    return 1;
  }
  uint32_t count = 0;
  peng_runtime_device_count(rt, &count);
  nlohmann::json devices = nlohmann::json::array();
  if (!json) std::printf("Peng runtime (API %d): %u device(s)\n", PENG_API_VERSION, count);
  for (uint32_t i = 0; i < count; ++i) {
    peng_device_t d;
    peng_device_info_t info;
    if (peng_runtime_device(rt, i, &d) != PENG_OK || peng_device_info(d, &info) != PENG_OK) {
      std::fprintf(stderr, "peng-info: %s\n", peng_last_error_message());
      return 1;
    }
    const char* kind = peng_device_kind_name(info.kind);
    if (json) {
      devices.push_back({{"name", info.name},
                         {"kind", kind},
                         {"backend", info.backend},
                         {"target", info.target},
                         {"compute_units", info.compute_units},
                         {"vector_bits", info.vector_bits},
                         {"memory_space", info.memory_space},
                         {"memory_bytes", info.memory_bytes},
                         {"peak_gflops", info.peak_gflops},
                         {"lost", info.lost != 0}});
      continue;
    }
    std::printf("\nDevice %u: %s\n", i, info.name);
    std::printf("  Kind                %s\n", kind);
    std::printf("  Backend             %s\n", info.backend);
    std::printf("  Kernel targets      %s\n", info.target);
    std::printf("  Compute units       %u\n", info.compute_units);
    std::printf("  Vector width        %u bits\n", info.vector_bits);
    std::printf("  Memory space        %u%s\n", info.memory_space,
                info.memory_space == 0 ? " (host memory)" : " (own memory)");
    if (info.memory_bytes) {
      std::printf("  Memory              %.1f MiB\n", double(info.memory_bytes) / (1 << 20));
    } else {
      std::printf("  Memory              %s\n", info.memory_space == 0 ? "host RAM" : "unknown");
    }
    if (info.peak_gflops > 0) std::printf("  Modelled peak       %.1f GFLOP/s\n", info.peak_gflops);
    std::printf("  State               %s\n", info.lost ? "LOST" : "ok");
    // The backend's own figures (an OpenCL device's limits, as clinfo has them).
    size_t length = 0;
    if (peng_device_describe(d, nullptr, 0, &length) == PENG_OK && length > 0) {
      std::string text(length + 1, '\0');
      peng_device_describe(d, &text[0], text.size(), &length);
      text.resize(length);
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        size_t colon = line.find(": ");
        if (colon != std::string::npos) {
          std::printf("  %-19s %s\n", line.substr(0, colon).c_str(), line.substr(colon + 2).c_str());
        } else if (!line.empty()) {
          std::printf("  %s\n", line.c_str());
        }
        start = end + 1;
      }
    }
  }
  // Devices of the profile that could not come up: the runtime runs without them.
  uint32_t absent_count = 0;
  peng_runtime_absent_device_count(rt, &absent_count);
  nlohmann::json absent = nlohmann::json::array();
  for (uint32_t i = 0; i < absent_count; ++i) {
    const char* name = nullptr;
    const char* reason = nullptr;
    if (peng_runtime_absent_device(rt, i, &name, &reason) != PENG_OK) continue;
    if (json) {
      absent.push_back({{"name", name}, {"reason", reason}});
    } else {
      std::printf("\nAbsent device: %s\n  Reason              %s\n", name, reason);
    }
  }
  if (json) {
    std::printf("%s\n", nlohmann::json{{"devices", devices}, {"absent", absent}}.dump(2).c_str());
  }
  peng_runtime_release(rt);
  return 0;
}
