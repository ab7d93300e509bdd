// peng-info: lists the devices a runtime finds, with their kind, caps and
// memory, like clinfo. Honours the same options as any program: PENG_PLATFORM,
// PENG_PLUGIN_PATH, or the flags below.
//
//   peng-info [--platform FILE.toml] [--plugins PATH] [--null] [--json]
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "peng/peng.h"

int main(int argc, char** argv) {
  CLI::App app{"List the devices of the Peng runtime"};
  std::string platform, plugins;
  bool with_null = false, json = false;
  app.add_option("--platform", platform, "platform profile (TOML); default: env PENG_PLATFORM");
  app.add_option("--plugins", plugins, "plugin path; default: env PENG_PLUGIN_PATH");
  app.add_flag("--null", with_null, "also create the null skeleton device");
  app.add_flag("--json", json, "print JSON");
  CLI11_PARSE(app, argc, argv);

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
  }
  if (json) std::printf("%s\n", nlohmann::json{{"devices", devices}}.dump(2).c_str());
  peng_runtime_release(rt);
  return 0;
}
