/* elf_loader.h — loads the self-contained kernel ELF images that pengc's CPU
 * targets produce, without dlopen. The same loader serves the host runtime,
 * the runtime cross-built for a riscv64 board, and the emulated device servers
 * (static programs, which cannot dlopen).
 *
 * What it accepts: an ELF64 little-endian ET_DYN image for the running
 * machine (x86-64 or riscv64), with no DT_NEEDED entries and only RELATIVE
 * (and, against its own symbols, 64-bit absolute) relocations: what
 * `ld.lld -shared -nostdlib --no-undefined` makes of position-independent
 * code. Every offset and size is checked against the image, so a corrupt or
 * truncated image gives an error string, never a crash.
 *
 *   peng_elf_image_t* image;
 *   char error[256];
 *   if (peng_elf_load(bytes, size, &image, error, sizeof error) != 0) { ... }
 *   void* fn = peng_elf_symbol(image, "matmul");
 *   ...
 *   peng_elf_unload(image);
 */
#ifndef PENG_BACKENDS_CPU_ELF_LOADER_H_
#define PENG_BACKENDS_CPU_ELF_LOADER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct peng_elf_image peng_elf_image_t;

/* The ELF e_machine of the code this process can run (EM_X86_64, EM_RISCV). */
uint16_t peng_elf_host_machine(void);
/* "x86_64", "riscv64": the name pengc records in module.peng. */
const char* peng_elf_host_arch(void);

/* Returns 0 and *out_image on success; else non-zero and a message in error. */
int peng_elf_load(const void* data, size_t size, peng_elf_image_t** out_image, char* error,
                  size_t error_size);
/* The address of a defined global function or object, or NULL. */
void* peng_elf_symbol(const peng_elf_image_t* image, const char* name);
void peng_elf_unload(peng_elf_image_t* image);

#ifdef __cplusplus
}
#endif

#endif /* PENG_BACKENDS_CPU_ELF_LOADER_H_ */
