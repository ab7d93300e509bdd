// peng-run-kernel: runs one kernel of a module.peng once, on this thread,
// every workgroup in turn, straight through the kernel ABI: no runtime, no
// worker threads, so that an instruction count of this program is the
// kernel's count plus a fixed set-up. `--skip` does all the set-up and no
// kernel call; the difference of the two runs is the kernel alone.
//
//   icount.py --vlen 128,256,512 --baseline "mm.peng matmul --skip" \
//       --ideal-fma 256,256,256 -- peng-run-kernel mm.peng matmul
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "artifact/module_file.h"
#include "elf_loader.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: peng-run-kernel MODULE.peng KERNEL [--skip] [--target=T]\n");
    return 2;
  }
  bool skip = false;
  std::string target = std::strcmp(peng_elf_host_arch(), "riscv64") == 0 ? "rvv" : "host";
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--skip") == 0) skip = true;
    else if (std::strncmp(argv[i], "--target=", 9) == 0) target = argv[i] + 9;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::string error;
  auto module = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  if (!module) {
    std::fprintf(stderr, "peng-run-kernel: %s\n", error.c_str());
    return 1;
  }
  const peng::artifact::KernelInfo* kernel = nullptr;
  uint32_t kernel_index = 0;
  for (const auto& k : module->kernels) {
    if (k.name == argv[2]) {
      kernel = &k;
      break;
    }
    ++kernel_index;
  }
  if (!kernel) {
    std::fprintf(stderr, "peng-run-kernel: no kernel '%s'\n", argv[2]);
    return 1;
  }
  const peng::artifact::Executable* executable = nullptr;
  const peng::artifact::Entry* entry = nullptr;
  for (const auto& x : module->executables) {
    if (x.target != target || x.min_vlen || x.max_vlen) continue;
    for (const auto& e : x.entries) {
      if (e.kernel == kernel_index) {
        executable = &x;
        entry = &e;
      }
    }
  }
  if (!entry) {
    std::fprintf(stderr, "peng-run-kernel: no VLEN-agnostic '%s' code\n", target.c_str());
    return 1;
  }
  peng_elf_image_t* image;
  char elf_error[256];
  if (peng_elf_load(executable->code.data(), executable->code.size(), &image, elf_error,
                    sizeof elf_error) != 0) {
    std::fprintf(stderr, "peng-run-kernel: %s\n", elf_error);
    return 1;
  }
  auto fn = reinterpret_cast<peng_kernel_fn_t>(peng_elf_symbol(image, entry->symbol.c_str()));
  if (!fn) {
    std::fprintf(stderr, "peng-run-kernel: no symbol %s\n", entry->symbol.c_str());
    return 1;
  }

  // Arguments: small deterministic values (the counts do not depend on them).
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<void*> bindings;
  std::vector<uint64_t> sizes;
  for (const auto& a : kernel->args) {
    uint64_t n = peng::artifact::DtypeSize(a.dtype);
    for (int64_t d : a.shape) n *= uint64_t(d);
    buffers.emplace_back(n);
    for (uint64_t i = 0; i < n; ++i) buffers.back()[i] = uint8_t(i % 7 == 0 ? 0 : 0x3c);
    bindings.push_back(buffers.back().data());
    sizes.push_back(n);
  }
  peng_dispatch_state_t state{};
  state.abi_version = PENG_KERNEL_ABI_VERSION;
  for (int g = 0; g < 3; ++g) {
    const peng_grid_dim_t& gd = entry->launch.grid[g];
    state.workgroup_count[g] =
        gd.tile ? uint32_t((kernel->args[gd.arg].shape[gd.dim] + gd.tile - 1) / gd.tile) : 1;
  }
  state.binding_count = uint32_t(bindings.size());
  state.bindings = bindings.data();
  state.binding_sizes = sizes.data();
  // One workgroup at a time: one workspace serves them all.
  std::vector<uint8_t> workspace(entry->launch.workspace + 64);
  state.workspace_size = entry->launch.workspace;
  int failed = 0;
  peng_workgroup_state_t wg{};
  wg.workspace = reinterpret_cast<void*>((uintptr_t(workspace.data()) + 63) & ~uintptr_t(63));
  for (uint32_t z = 0; z < state.workgroup_count[2]; ++z) {
    for (uint32_t y = 0; y < state.workgroup_count[1]; ++y) {
      for (uint32_t x = 0; x < state.workgroup_count[0]; ++x) {
        wg.workgroup_id[0] = x;
        wg.workgroup_id[1] = y;
        wg.workgroup_id[2] = z;
        if (!skip) failed |= fn(&state, &wg);
      }
    }
  }
  peng_elf_unload(image);
  std::printf("%s: %u workgroup(s)%s\n", kernel->name.c_str(),
              state.workgroup_count[0] * state.workgroup_count[1] * state.workgroup_count[2],
              skip ? " (skipped)" : "");
  return failed ? 1 : 0;
}
