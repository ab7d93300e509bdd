// The ISA features module.peng may name for CPU code, spelled as LLVM and
// GCC's __builtin_cpu_supports spell them. pengc records the ones its target
// machine enables; the CPU device refuses code that needs one the CPU lacks,
// or one it does not know. Shared by both halves of backends/cpu.
#pragma once

namespace peng::cpu_isa {

// x86-64-v2 adds sse4.2 and popcnt; v3 adds avx, avx2, fma, bmi and bmi2
// (and f16c, lzcnt, movbe, which every CPU with avx2 has); v4 adds the five
// AVX-512 subsets.
// X(name) per feature: the runtime half expands it into
// __builtin_cpu_supports(name) tests, which take literals only.
#define PENG_X86_FEATURES(X)                                                     \
  X("sse4.2") X("popcnt") X("avx") X("avx2") X("fma") X("bmi") X("bmi2")         \
  X("avx512f") X("avx512cd") X("avx512bw") X("avx512dq") X("avx512vl")
#define PENG_ISA_LIST_ITEM(name) name,
inline constexpr const char* kX86Features[] = {PENG_X86_FEATURES(PENG_ISA_LIST_ITEM)};
#undef PENG_ISA_LIST_ITEM

// RISC-V: the vector extension (every rvv variant needs it) and half-precision
// vector arithmetic.
inline constexpr const char* kRiscvFeatures[] = {"v", "zvfh"};

}  // namespace peng::cpu_isa
