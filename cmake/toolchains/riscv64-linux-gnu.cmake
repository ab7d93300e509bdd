# Cross-compiles Peng for 64-bit RISC-V Linux with the vector extension (RVV 1.0): clang 19 and lld
# against a Debian trixie sysroot, and tests under qemu-riscv64.
#
#   scripts/riscv64-sysroot.sh                  # once: makes .cache/riscv64-sysroot
#   cmake --preset riscv64 && cmake --build --preset riscv64
#   ctest --preset riscv64                      # under QEMU, VLEN 256
#   PENG_QEMU_VLEN=128 ctest --preset riscv64   # the same build at another VLEN
#
# Variables (cache or environment):
#   PENG_RISCV64_SYSROOT  the sysroot (default: <repo>/.cache/riscv64-sysroot)
#   PENG_RISCV64_MARCH    the -march string (default: rv64gcv)
# At test time the emulator (qemu-riscv64.sh beside this file) reads PENG_QEMU_VLEN (default 256).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(PENG_RISCV64_TRIPLE riscv64-linux-gnu)

if(NOT PENG_RISCV64_SYSROOT)
  if(DEFINED ENV{PENG_RISCV64_SYSROOT} AND NOT "$ENV{PENG_RISCV64_SYSROOT}" STREQUAL "")
    set(PENG_RISCV64_SYSROOT "$ENV{PENG_RISCV64_SYSROOT}")
  else()
    get_filename_component(PENG_RISCV64_SYSROOT
      "${CMAKE_CURRENT_LIST_DIR}/../../.cache/riscv64-sysroot" ABSOLUTE)
  endif()
endif()
if(NOT PENG_RISCV64_MARCH)
  set(PENG_RISCV64_MARCH rv64gcv)
endif()
if(NOT EXISTS "${PENG_RISCV64_SYSROOT}/lib/ld-linux-riscv64-lp64d.so.1")
  message(FATAL_ERROR
    "No riscv64 sysroot at ${PENG_RISCV64_SYSROOT}: run scripts/riscv64-sysroot.sh "
    "(or set PENG_RISCV64_SYSROOT).")
endif()
# try_compile() projects read this file again; hand them the same values.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PENG_RISCV64_SYSROOT PENG_RISCV64_MARCH)

find_program(PENG_CLANG NAMES clang-19 REQUIRED)
find_program(PENG_CLANGXX NAMES clang++-19 REQUIRED)
find_program(PENG_LLD NAMES ld.lld-19 ld.lld REQUIRED)
set(CMAKE_C_COMPILER "${PENG_CLANG}")
set(CMAKE_CXX_COMPILER "${PENG_CLANGXX}")
set(CMAKE_ASM_COMPILER "${PENG_CLANG}")
set(CMAKE_C_COMPILER_TARGET ${PENG_RISCV64_TRIPLE})
set(CMAKE_CXX_COMPILER_TARGET ${PENG_RISCV64_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${PENG_RISCV64_TRIPLE})
set(CMAKE_LIBRARY_ARCHITECTURE ${PENG_RISCV64_TRIPLE})
set(CMAKE_SYSROOT "${PENG_RISCV64_SYSROOT}")

set(CMAKE_C_FLAGS_INIT "-march=${PENG_RISCV64_MARCH}")
set(CMAKE_CXX_FLAGS_INIT "-march=${PENG_RISCV64_MARCH}")
set(CMAKE_ASM_FLAGS_INIT "-march=${PENG_RISCV64_MARCH}")
# The sysroot's GCC 14 libstdc++ and crt files are found by clang itself; only the linker is ours.
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${PENG_LLD}")
endforeach()

# Libraries, headers and packages from the sysroot only; programs (code generators) from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${PENG_RISCV64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
  "${PENG_RISCV64_SYSROOT}/usr/lib/${PENG_RISCV64_TRIPLE}/pkgconfig:${PENG_RISCV64_SYSROOT}/usr/share/pkgconfig")

# Programs run under QEMU user mode, through a wrapper so that the VLEN is read at each run.
set(CMAKE_CROSSCOMPILING_EMULATOR
  "/bin/sh;${CMAKE_CURRENT_LIST_DIR}/qemu-riscv64.sh;-L;${PENG_RISCV64_SYSROOT}")

# Trixie ships GoogleTest as sources (its prebuilt libgtest.a does not link with lld 19); the
# top-level CMakeLists.txt builds them when no GTest package is found.
set(PENG_GTEST_SOURCE_DIR "${PENG_RISCV64_SYSROOT}/usr/src/googletest"
  CACHE PATH "GoogleTest sources to build when no GTest package is found")
