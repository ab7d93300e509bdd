/* A loader for pengc's self-contained kernel ELF images. See elf_loader.h. */
#define _GNU_SOURCE
#include "elf_loader.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif
#ifndef R_RISCV_64
#define R_RISCV_64 2
#define R_RISCV_RELATIVE 3
#define R_RISCV_JUMP_SLOT 5
#endif

/* A kernel image is code plus constants; anything this large is corrupt. */
#define PENG_ELF_MAX_SPAN (1u << 30)

struct peng_elf_image {
  uint8_t* map;   /* the mapping, page aligned */
  size_t map_size;
  uintptr_t bias; /* load address - link address */
  uint64_t span_lo, span_hi; /* link addresses covered by the mapping */
  const Elf64_Sym* symtab;
  uint32_t symbol_count;
  const char* strtab;
  uint64_t strtab_size;
};

uint16_t peng_elf_host_machine(void) {
#if defined(__x86_64__)
  return EM_X86_64;
#elif defined(__riscv) && __riscv_xlen == 64
  return EM_RISCV;
#else
  return EM_NONE;
#endif
}

const char* peng_elf_host_arch(void) {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

static int Fail(char* error, size_t error_size, const char* fmt, ...) {
  if (error && error_size) {
    int n = snprintf(error, error_size, "kernel ELF: ");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < error_size) vsnprintf(error + n, error_size - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* [off, off+len) lies inside [0, size). */
static int InRange(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

/* [addr, addr+len) lies inside the loaded image. */
static int InImage(const peng_elf_image_t* im, uint64_t addr, uint64_t len) {
  return addr >= im->span_lo && InRange(addr - im->span_lo, len, im->span_hi - im->span_lo);
}

static int Protection(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
         ((flags & PF_X) ? PROT_EXEC : 0);
}

static int ApplyRelocations(peng_elf_image_t* im, uint16_t machine, uint64_t rela, uint64_t size,
                            uint64_t entsize, char* error, size_t error_size) {
  if (size == 0) return 0;
  if (entsize != sizeof(Elf64_Rela)) return Fail(error, error_size, "bad relocation entry size");
  if (!InImage(im, rela, size) || size % sizeof(Elf64_Rela)) {
    return Fail(error, error_size, "relocation table out of the image");
  }
  for (uint64_t i = 0; i < size / sizeof(Elf64_Rela); ++i) {
    Elf64_Rela r;
    memcpy(&r, (const void*)(im->bias + rela + i * sizeof r), sizeof r);
    uint32_t type = (uint32_t)ELF64_R_TYPE(r.r_info);
    uint32_t sym = (uint32_t)ELF64_R_SYM(r.r_info);
    if (type == 0) continue; /* R_*_NONE */
    if (!InImage(im, r.r_offset, 8)) return Fail(error, error_size, "relocation out of the image");
    int relative = (machine == EM_X86_64 && type == R_X86_64_RELATIVE) ||
                   (machine == EM_RISCV && type == R_RISCV_RELATIVE);
    int absolute = (machine == EM_X86_64 && (type == R_X86_64_64 || type == R_X86_64_GLOB_DAT ||
                                             type == R_X86_64_JUMP_SLOT)) ||
                   (machine == EM_RISCV && (type == R_RISCV_64 || type == R_RISCV_JUMP_SLOT));
    uint64_t value;
    if (relative) {
      value = im->bias + (uint64_t)r.r_addend;
    } else if (absolute) {
      /* Only symbols the image defines itself: kernels import nothing. */
      if (sym >= im->symbol_count || im->symtab[sym].st_shndx == SHN_UNDEF) {
        return Fail(error, error_size, "relocation %u refers to an undefined symbol", type);
      }
      value = im->bias + im->symtab[sym].st_value;
      if (type == R_X86_64_64 || (machine == EM_RISCV && type == R_RISCV_64)) value += (uint64_t)r.r_addend;
    } else {
      return Fail(error, error_size, "unsupported relocation type %u", type);
    }
    memcpy((void*)(im->bias + r.r_offset), &value, sizeof value);
  }
  return 0;
}

int peng_elf_load(const void* data, size_t size, peng_elf_image_t** out_image, char* error,
                  size_t error_size) {
  if (!out_image) return Fail(error, error_size, "no output");
  *out_image = NULL;
  const uint8_t* bytes = (const uint8_t*)data;
  if (!bytes || size < sizeof(Elf64_Ehdr)) return Fail(error, error_size, "truncated header");
  Elf64_Ehdr eh;
  memcpy(&eh, bytes, sizeof eh);
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return Fail(error, error_size, "not an ELF image");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Fail(error, error_size, "not a little-endian ELF64 image");
  }
  if (eh.e_type != ET_DYN) return Fail(error, error_size, "not a shared image (ET_DYN)");
  if (eh.e_machine != peng_elf_host_machine()) {
    return Fail(error, error_size, "built for machine %u, this is %s", eh.e_machine,
                peng_elf_host_arch());
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      !InRange(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size)) {
    return Fail(error, error_size, "program headers out of the image");
  }
  Elf64_Phdr* ph = (Elf64_Phdr*)malloc(eh.e_phnum * sizeof(Elf64_Phdr));
  if (!ph) return Fail(error, error_size, "out of memory");
  memcpy(ph, bytes + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));

  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t lo = UINT64_MAX, hi = 0;
  const Elf64_Phdr* dynamic = NULL;
  const Elf64_Phdr* relro = NULL;
  for (int i = 0; i < eh.e_phnum; ++i) {
    const Elf64_Phdr* p = &ph[i];
    if (p->p_type == PT_DYNAMIC) dynamic = p;
    if (p->p_type == PT_GNU_RELRO) relro = p;
    if (p->p_type != PT_LOAD) continue;
    if (p->p_filesz > p->p_memsz || !InRange(p->p_offset, p->p_filesz, size) ||
        p->p_memsz > PENG_ELF_MAX_SPAN || p->p_vaddr > PENG_ELF_MAX_SPAN) {
      free(ph);
      return Fail(error, error_size, "segment %d out of the image", i);
    }
    if (p->p_vaddr < lo) lo = p->p_vaddr;
    if (p->p_vaddr + p->p_memsz > hi) hi = p->p_vaddr + p->p_memsz;
  }
  if (hi <= lo) {
    free(ph);
    return Fail(error, error_size, "no loadable segment");
  }
  lo &= ~(page - 1);
  hi = (hi + page - 1) & ~(page - 1);
  if (hi - lo > PENG_ELF_MAX_SPAN) {
    free(ph);
    return Fail(error, error_size, "image too large");
  }

  peng_elf_image_t* im = (peng_elf_image_t*)calloc(1, sizeof *im);
  if (!im) {
    free(ph);
    return Fail(error, error_size, "out of memory");
  }
  im->map_size = hi - lo;
  void* map = mmap(NULL, im->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    free(ph);
    free(im);
    return Fail(error, error_size, "cannot map %zu bytes", (size_t)(hi - lo));
  }
  im->map = (uint8_t*)map;
  im->bias = (uintptr_t)map - lo;
  im->span_lo = lo;
  im->span_hi = hi;
  for (int i = 0; i < eh.e_phnum; ++i) {
    if (ph[i].p_type == PT_LOAD && ph[i].p_filesz) {
      memcpy((void*)(im->bias + ph[i].p_vaddr), bytes + ph[i].p_offset, ph[i].p_filesz);
    }
  }

  /* The dynamic table: no imports, a sysv hash table for the symbol count. */
  uint64_t rela = 0, relasz = 0, relaent = sizeof(Elf64_Rela), jmprel = 0, pltrelsz = 0;
  uint64_t symtab = 0, strtab = 0, strsz = 0, hash = 0, syment = sizeof(Elf64_Sym);
  int pltrel_is_rela = 1;
  int rc = 0;
  if (!dynamic || !InImage(im, dynamic->p_vaddr, dynamic->p_memsz)) {
    rc = Fail(error, error_size, "no dynamic section");
    goto done;
  }
  for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dynamic->p_memsz; off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d;
    memcpy(&d, (const void*)(im->bias + dynamic->p_vaddr + off), sizeof d);
    if (d.d_tag == DT_NULL) break;
    switch (d.d_tag) {
      case DT_NEEDED: rc = Fail(error, error_size, "image imports a shared library"); goto done;
      case DT_REL: case DT_RELR: rc = Fail(error, error_size, "unsupported REL/RELR relocations"); goto done;
      case DT_RELA: rela = d.d_un.d_ptr; break;
      case DT_RELASZ: relasz = d.d_un.d_val; break;
      case DT_RELAENT: relaent = d.d_un.d_val; break;
      case DT_JMPREL: jmprel = d.d_un.d_ptr; break;
      case DT_PLTRELSZ: pltrelsz = d.d_un.d_val; break;
      case DT_PLTREL: pltrel_is_rela = d.d_un.d_val == DT_RELA; break;
      case DT_SYMTAB: symtab = d.d_un.d_ptr; break;
      case DT_STRTAB: strtab = d.d_un.d_ptr; break;
      case DT_STRSZ: strsz = d.d_un.d_val; break;
      case DT_SYMENT: syment = d.d_un.d_val; break;
      case DT_HASH: hash = d.d_un.d_ptr; break;
      default: break;
    }
  }
  if (!hash || !InImage(im, hash, 8)) {
    rc = Fail(error, error_size, "no sysv hash table (link with --hash-style=sysv)");
    goto done;
  }
  uint32_t nchain;
  memcpy(&nchain, (const void*)(im->bias + hash + 4), 4);
  if (syment != sizeof(Elf64_Sym) || !symtab ||
      !InImage(im, symtab, (uint64_t)nchain * sizeof(Elf64_Sym)) || !strtab || !strsz ||
      !InImage(im, strtab, strsz) || ((const char*)(im->bias + strtab))[strsz - 1] != 0) {
    rc = Fail(error, error_size, "symbol or string table out of the image");
    goto done;
  }
  im->symtab = (const Elf64_Sym*)(im->bias + symtab);
  im->symbol_count = nchain;
  im->strtab = (const char*)(im->bias + strtab);
  im->strtab_size = strsz;
  if (!pltrel_is_rela && pltrelsz) {
    rc = Fail(error, error_size, "unsupported PLT relocations");
    goto done;
  }
  if ((rc = ApplyRelocations(im, eh.e_machine, rela, relasz, relaent, error, error_size)) != 0 ||
      (rc = ApplyRelocations(im, eh.e_machine, jmprel, pltrelsz, sizeof(Elf64_Rela), error,
                             error_size)) != 0) {
    goto done;
  }

  /* Final protections. Pages that two segments share get the union. */
  for (int i = 0; i < eh.e_phnum; ++i) {
    if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0) continue;
    uint64_t a = ph[i].p_vaddr & ~(page - 1);
    uint64_t b = (ph[i].p_vaddr + ph[i].p_memsz + page - 1) & ~(page - 1);
    int prot = Protection(ph[i].p_flags);
    for (int j = 0; j < eh.e_phnum; ++j) {
      if (j == i || ph[j].p_type != PT_LOAD || ph[j].p_memsz == 0) continue;
      uint64_t ja = ph[j].p_vaddr & ~(page - 1);
      uint64_t jb = (ph[j].p_vaddr + ph[j].p_memsz + page - 1) & ~(page - 1);
      if (ja < b && a < jb) prot |= Protection(ph[j].p_flags);
    }
    if (mprotect((void*)(im->bias + a), b - a, prot) != 0) {
      rc = Fail(error, error_size, "mprotect failed");
      goto done;
    }
    if (prot & PROT_EXEC) {
      __builtin___clear_cache((char*)(im->bias + a), (char*)(im->bias + b));
    }
  }
  if (relro && relro->p_memsz) {
    uint64_t a = relro->p_vaddr & ~(page - 1);
    uint64_t b = (relro->p_vaddr + relro->p_memsz) & ~(page - 1); /* whole pages only */
    if (b > a && InImage(im, a, b - a)) mprotect((void*)(im->bias + a), b - a, PROT_READ);
  }

done:
  free(ph);
  if (rc != 0) {
    munmap(im->map, im->map_size);
    free(im);
    return rc;
  }
  *out_image = im;
  return 0;
}

void* peng_elf_symbol(const peng_elf_image_t* im, const char* name) {
  if (!im || !name) return NULL;
  for (uint32_t i = 1; i < im->symbol_count; ++i) {
    const Elf64_Sym* s = &im->symtab[i];
    if (s->st_shndx == SHN_UNDEF || s->st_name >= im->strtab_size) continue;
    int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
    if ((type != STT_FUNC && type != STT_OBJECT) || (bind != STB_GLOBAL && bind != STB_WEAK)) continue;
    if (strcmp(im->strtab + s->st_name, name) != 0) continue;
    if (!InImage(im, s->st_value, 1)) return NULL;
    return (void*)(im->bias + s->st_value);
  }
  return NULL;
}

void peng_elf_unload(peng_elf_image_t* im) {
  if (!im) return;
  munmap(im->map, im->map_size);
  free(im);
}
