#!/bin/sh
# The CMAKE_CROSSCOMPILING_EMULATOR of riscv64-linux-gnu.cmake: runs a riscv64 program under
# qemu-riscv64 with RVV 1.0 at the VLEN in PENG_QEMU_VLEN (default 256). The variable is read at
# every run, so one build is tested at several VLENs without reconfiguring:
#
#   PENG_QEMU_VLEN=128 ctest --preset riscv64
#   cmake/toolchains/qemu-riscv64.sh -L .cache/riscv64-sysroot build/riscv64/examples/peng-demo
#
# PENG_QEMU (default qemu-riscv64) picks another QEMU binary. Without v=true RVV code dies with
# SIGILL; without vext_spec=v1.0, QEMU 7.2 warns on stderr.
vlen="${PENG_QEMU_VLEN:-256}"
case "$vlen" in
  128 | 256 | 512 | 1024) ;;
  *) echo "qemu-riscv64.sh: PENG_QEMU_VLEN=$vlen must be 128, 256, 512 or 1024" >&2; exit 2 ;;
esac
exec "${PENG_QEMU:-qemu-riscv64}" -cpu "rv64,v=true,vlen=${vlen},elen=64,vext_spec=v1.0" "$@"
