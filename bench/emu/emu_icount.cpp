// peng-emu-icount: runs one kernel of a module.peng on an emulated device
// (backends/emu, through its HAL backend alone), `--dispatches N` times, with
// extra QEMU options for the device server (a counting plugin). With N = 0 it
// does everything but the dispatch: the difference of two runs is what the
// kernel costs on the device, harness included, which bench/rvv-matmul's
// efficiency.py compares with the same code run in board mode.
//
//   peng-emu-icount mm.peng matmul_256 --dispatches 1 --vlen 256 \
//       --qemu-args "-plugin peng-qemu-icount.so,out=counts.json -d plugin"
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "artifact/module_file.h"
#include "peng/hal.h"

extern "C" const peng_hal_factory_t* peng_backend_emu_factory(void);

namespace {

thread_local std::string t_error;
peng_status_t SetError(peng_status_t code, const char* message) {
  t_error = message ? message : "";
  return code;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "peng-emu-icount: %s%s%s\n", what.c_str(), t_error.empty() ? "" : ": ",
               t_error.c_str());
  return 1;
}

// Waits for one completion; the device's own watchdog ends a hung one.
struct Done {
  std::atomic<int> status{-1};
  peng_hal_completion_t completion() {
    return {[](void* self, peng_status_t st) { static_cast<Done*>(self)->status = st; }, this};
  }
  int Wait() {
    while (status < 0) usleep(200);
    return status;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: peng-emu-icount MODULE.peng KERNEL [--dispatches N] [--vlen V] "
                 "[--qemu-args \"...\"]\n");
    return 2;
  }
  int dispatches = 1;
  std::string vlen = "256", qemu_args;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dispatches") == 0) dispatches = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--vlen") == 0) vlen = argv[i + 1];
    else if (std::strcmp(argv[i], "--qemu-args") == 0) qemu_args = argv[i + 1];
    else return Fail(std::string("unknown option ") + argv[i]);
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::string error;
  auto module = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
  if (!module) return Fail(error);
  uint32_t kernel_index = 0;
  while (kernel_index < module->kernels.size() && module->kernels[kernel_index].name != argv[2]) {
    ++kernel_index;
  }
  if (kernel_index == module->kernels.size()) return Fail(std::string("no kernel ") + argv[2]);
  const peng::artifact::KernelInfo& kernel = module->kernels[kernel_index];
  // The VLEN-agnostic rvv code: what board mode's peng-run-kernel runs.
  const peng::artifact::Executable* x = nullptr;
  uint32_t entry = 0;
  for (const auto& e : module->executables) {
    if (e.target != "rvv" || e.min_vlen || e.max_vlen) continue;
    for (uint32_t i = 0; i < e.entries.size(); ++i) {
      if (e.entries[i].kernel == kernel_index) x = &e, entry = i;
    }
  }
  if (!x) return Fail("no VLEN-agnostic rvv code for the kernel");

  // One emu device, one hart (board mode's runner is one thread too).
  std::vector<peng_hal_setting_t> settings = {
      {"vlen", vlen.c_str()}, {"harts", "1"}, {"qemu_args", qemu_args.c_str()}};
  peng_hal_device_params_t p{};
  p.name = "emu:icount";
  p.kind = PENG_DEVICE_NPU;
  p.memory_space = 1;
  p.memory_bytes = 256ull << 20;
  p.set_error = SetError;
  p.settings = settings.data();
  p.setting_count = uint32_t(settings.size());
  peng_hal_device_t* device = nullptr;
  if (peng_backend_emu_factory()->create_device(0, &p, &device) != PENG_OK) {
    return Fail("cannot create the device");
  }
  auto* dvt = PENG_HAL_VTABLE(device, peng_hal_device_vtable_t);
  int rc = 0;
  peng_hal_queue_t* queue = nullptr;
  peng_hal_executable_t* exe = nullptr;
  std::vector<peng_hal_buffer_t*> buffers;
  do {
    if (dvt->check_health(device) != PENG_OK) { rc = Fail("the device server did not start"); break; }
    if (dvt->create_queue(device, &queue) != PENG_OK) { rc = Fail("no queue"); break; }
    auto* qvt = PENG_HAL_VTABLE(queue, peng_hal_queue_vtable_t);
    std::vector<std::string> names, symbols;
    std::vector<peng_hal_entry_spec_t> specs(x->entries.size());
    for (size_t i = 0; i < x->entries.size(); ++i) {
      names.push_back(module->kernels[x->entries[i].kernel].name);
      symbols.push_back(x->entries[i].symbol);
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      specs[i].name = names[i].c_str();
      specs[i].symbol = symbols[i].c_str();
      specs[i].workspace_size = x->entries[i].launch.workspace;
    }
    std::string features;
    for (const std::string& f : x->features) features += (features.empty() ? "" : ",") + f;
    peng_hal_executable_spec_t spec{};
    spec.target = "rvv";
    spec.format = "elf";
    spec.code = x->code.data();
    spec.code_size = x->code.size();
    spec.arch = x->arch.c_str();
    spec.features = features.c_str();
    spec.entry_count = uint32_t(specs.size());
    spec.entries = specs.data();
    if (dvt->load_executable(device, &spec, &exe) != PENG_OK) { rc = Fail("load"); break; }

    // Arguments as board mode's runner makes them (the counts do not depend on them).
    std::vector<uint64_t> sizes;
    std::vector<const int64_t*> shapes;
    std::vector<uint32_t> ranks;
    for (const auto& a : kernel.args) {
      uint64_t n = peng::artifact::DtypeSize(a.dtype);
      for (int64_t d : a.shape) n *= uint64_t(d);
      std::vector<uint8_t> data(n);
      for (uint64_t i = 0; i < n; ++i) data[i] = uint8_t(i % 7 == 0 ? 0 : 0x3c);
      peng_hal_buffer_t* b = nullptr;
      if (dvt->allocate(device, n, &b) != PENG_OK) { rc = Fail("allocate"); break; }
      buffers.push_back(b);
      peng_hal_copy_t c{};
      c.src_host = data.data();
      c.dst_buffer = b;
      c.size = n;
      Done done;
      if (qvt->enqueue_copy(queue, &c, done.completion()) != PENG_OK || done.Wait() != PENG_OK) {
        rc = Fail("copy");
        break;
      }
      sizes.push_back(n);
      shapes.push_back(a.shape.data());
      ranks.push_back(uint32_t(a.shape.size()));
    }
    if (rc) break;
    const peng::artifact::Entry& e = x->entries[entry];
    std::vector<void*> slots(buffers.size());
    peng_hal_dispatch_t d{};
    d.executable = exe;
    d.entry = entry;
    d.state.abi_version = PENG_KERNEL_ABI_VERSION;
    for (int g = 0; g < 3; ++g) {
      const peng_grid_dim_t& gd = e.launch.grid[g];
      d.state.workgroup_count[g] =
          gd.tile ? uint32_t((kernel.args[gd.arg].shape[gd.dim] + gd.tile - 1) / gd.tile) : 1;
    }
    d.state.binding_count = uint32_t(buffers.size());
    d.state.bindings = slots.data();
    d.state.binding_sizes = sizes.data();
    d.state.shapes = shapes.data();
    d.state.ranks = ranks.data();
    d.state.workspace_size = e.launch.workspace;
    d.buffers = buffers.data();
    d.binding_slots = slots.data();
    for (int i = 0; i < dispatches; ++i) {
      Done done;
      if (qvt->enqueue_dispatch(queue, &d, done.completion()) != PENG_OK || done.Wait() != PENG_OK) {
        rc = Fail("dispatch");
        break;
      }
    }
    std::printf("%s: %d dispatch(es) of %u workgroup(s) at VLEN %s\n", kernel.name.c_str(),
                dispatches,
                d.state.workgroup_count[0] * d.state.workgroup_count[1] * d.state.workgroup_count[2],
                vlen.c_str());
  } while (false);
  for (peng_hal_buffer_t* b : buffers) PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t)->destroy(b);
  if (exe) PENG_HAL_VTABLE(exe, peng_hal_executable_vtable_t)->destroy(exe);
  if (queue) PENG_HAL_VTABLE(queue, peng_hal_queue_vtable_t)->destroy(queue);
  dvt->destroy(device);  // SHUTDOWN: the server exits and the plugin writes its counts
  return rc;
}
