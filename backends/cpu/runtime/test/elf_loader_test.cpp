// The kernel ELF loader: a real image loads and runs; every truncation and
// corruption of it is an error message, never a crash.
#include "elf_loader.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "peng/peng.h"

namespace {

std::vector<uint8_t> Image() {
  std::ifstream in(PENG_TEST_KERNEL_IMAGE, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int CallScale(void* fn, float* data, uint64_t bytes, uint32_t wg_id, uint32_t wg_count) {
  void* bindings[] = {data};
  uint64_t sizes[] = {bytes};
  peng_dispatch_state_t d{};
  d.abi_version = PENG_KERNEL_ABI_VERSION;
  d.workgroup_count[0] = wg_count;
  d.workgroup_count[1] = d.workgroup_count[2] = 1;
  d.binding_count = 1;
  d.bindings = bindings;
  d.binding_sizes = sizes;
  peng_workgroup_state_t wg{};
  wg.workgroup_id[0] = wg_id;
  return reinterpret_cast<peng_kernel_fn_t>(fn)(&d, &wg);
}

TEST(ElfLoader, LoadsAndRuns) {
  std::vector<uint8_t> image = Image();
  ASSERT_GT(image.size(), 64u);
  peng_elf_image_t* im = nullptr;
  char error[256] = "";
  ASSERT_EQ(peng_elf_load(image.data(), image.size(), &im, error, sizeof error), 0) << error;
  void* fn = peng_elf_symbol(im, "scale_rows");
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(peng_elf_symbol(im, "no_such_kernel"), nullptr);
  EXPECT_EQ(peng_elf_symbol(im, "kScale"), nullptr);  // local, not exported
  float x[10];
  for (int i = 0; i < 10; ++i) x[i] = float(i);
  for (uint32_t wg = 0; wg < 2; ++wg) ASSERT_EQ(CallScale(fn, x, sizeof x, wg, 2), 0);
  const float scale[4] = {1, 2, 3, 4};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(x[i], float(i) * scale[i % 4] + (i < 5 ? 0 : 1)) << i;
  void* fails = peng_elf_symbol(im, "always_fails");
  ASSERT_NE(fails, nullptr);
  EXPECT_EQ(CallScale(fails, x, sizeof x, 0, 1), 7);
  peng_elf_unload(im);
}

TEST(ElfLoader, EveryTruncationIsAnError) {
  std::vector<uint8_t> image = Image();
  for (size_t size = 0; size < image.size(); size += (size < 256 ? 1 : 61)) {
    std::vector<uint8_t> cut(image.begin(), image.begin() + size);
    peng_elf_image_t* im = nullptr;
    char error[256] = "";
    int rc = peng_elf_load(cut.data(), cut.size(), &im, error, sizeof error);
    if (rc == 0) {
      // Trailing section headers and names may go without harm; what is
      // loaded must still work.
      ASSERT_NE(peng_elf_symbol(im, "scale_rows"), nullptr) << "size " << size;
      peng_elf_unload(im);
    } else {
      EXPECT_EQ(im, nullptr);
      EXPECT_NE(std::strlen(error), 0u);
    }
  }
}

TEST(ElfLoader, RejectsForeignAndMalformedImages) {
  std::vector<uint8_t> image = Image();
  auto expect_error = [](std::vector<uint8_t> bytes, const char* what) {
    peng_elf_image_t* im = nullptr;
    char error[256] = "";
    EXPECT_NE(peng_elf_load(bytes.data(), bytes.size(), &im, error, sizeof error), 0) << what;
    EXPECT_EQ(im, nullptr);
    EXPECT_NE(std::strlen(error), 0u) << what;
  };
  auto with = [&](auto edit) {
    std::vector<uint8_t> b = image;
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(b.data());
    edit(eh);
    return b;
  };
  expect_error(with([](Elf64_Ehdr* e) { e->e_ident[EI_MAG1] = 'X'; }), "magic");
  expect_error(with([](Elf64_Ehdr* e) { e->e_ident[EI_CLASS] = ELFCLASS32; }), "class");
  expect_error(with([](Elf64_Ehdr* e) { e->e_type = ET_EXEC; }), "type");
  expect_error(with([](Elf64_Ehdr* e) {
                 e->e_machine = e->e_machine == EM_X86_64 ? EM_RISCV : EM_X86_64;
               }),
               "machine");
  expect_error(with([](Elf64_Ehdr* e) { e->e_phoff = ~0ull - 8; }), "phoff");
  expect_error(with([](Elf64_Ehdr* e) { e->e_phnum = 0xffff; }), "phnum");
  expect_error(with([](Elf64_Ehdr* e) { e->e_phentsize = 12; }), "phentsize");
  // Segments pointing outside the image.
  expect_error(with([](Elf64_Ehdr* e) {
                 auto* ph = reinterpret_cast<Elf64_Phdr*>(reinterpret_cast<uint8_t*>(e) + e->e_phoff);
                 for (int i = 0; i < e->e_phnum; ++i) {
                   if (ph[i].p_type == PT_LOAD) ph[i].p_filesz = ~0ull >> 4;
                 }
               }),
               "segment size");
  expect_error(with([](Elf64_Ehdr* e) {
                 auto* ph = reinterpret_cast<Elf64_Phdr*>(reinterpret_cast<uint8_t*>(e) + e->e_phoff);
                 for (int i = 0; i < e->e_phnum; ++i) {
                   if (ph[i].p_type == PT_DYNAMIC) ph[i].p_type = PT_NULL;
                 }
               }),
               "no dynamic");
  expect_error({}, "empty");
}

// Random byte flips anywhere in the image: the loader must never crash or
// hang, and each load keeps the contract: success gives an image, failure no
// image and a message. (Most flips hit code or padding and still load; that
// is fine.)
TEST(ElfLoader, SurvivesRandomCorruption) {
  std::vector<uint8_t> image = Image();
  ASSERT_GT(image.size(), 512u);
  uint32_t seed = 12345;
  int loaded = 0, rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> b = image;
    for (int k = 0; k < 4; ++k) {
      seed = seed * 1664525u + 1013904223u;
      // Concentrate on the headers and dynamic tables, where the checks are.
      size_t at = (seed >> 8) % std::min<size_t>(b.size(), round % 2 ? 512 : b.size());
      b[at] ^= uint8_t(1u << (seed & 7));
    }
    peng_elf_image_t* im = reinterpret_cast<peng_elf_image_t*>(&b);  // must be overwritten
    char error[256];
    std::memset(error, 'x', sizeof error);  // a message must be written, and terminated
    if (peng_elf_load(b.data(), b.size(), &im, error, sizeof error) == 0) {
      ASSERT_NE(im, nullptr) << "round " << round;
      ASSERT_NE(im, reinterpret_cast<peng_elf_image_t*>(&b)) << "round " << round;
      ++loaded;
      peng_elf_symbol(im, "scale_rows");  // looking up must not crash; the symbol may be gone
      peng_elf_unload(im);
    } else {
      ASSERT_EQ(im, nullptr) << "round " << round;
      size_t length = strnlen(error, sizeof error);
      ASSERT_LT(length, sizeof error) << "round " << round << ": message not terminated";
      EXPECT_EQ(std::string(error).rfind("kernel ELF: ", 0), 0u)
          << "round " << round << ": " << error;
      EXPECT_GT(length, std::strlen("kernel ELF: ")) << "round " << round;
      ++rejected;
    }
  }
  // Both outcomes occur: the flips reach the loader's checks, and its checks
  // do not refuse every image.
  EXPECT_GT(rejected, 100);
  EXPECT_GT(loaded, 100);
}

}  // namespace
