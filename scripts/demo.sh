#!/usr/bin/env bash
# Quick-start command 1: installs what is missing, builds the release preset, and runs peng-demo
# on the development machine's profile (platforms/dev-emu.toml): requests to a small quantized
# model, compiled by pengc (examples/demo.mlir) for the host, RVV and OpenCL, run at once on
# cpu0, the emulated NPU and DPU (RISC-V device servers under qemu-riscv64) and opencl:0 when
# this machine has OpenCL. It checks every result, prints the work each device did and the
# path of its trace. Then it compiles a softmax with pengc and runs it with peng-run.
#
#   ./scripts/demo.sh                                      # on Debian bookworm, as root
#   ./scripts/demo.sh --requests 64 --trace build/demo/trace.json
#   ./scripts/demo.sh --platform platforms/spacemit-k1-like.toml
#
# Arguments go to peng-demo. See scripts/lib/env.sh for the cache and parallelism settings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$PENG_ROOT"

"$PENG_ROOT/scripts/setup.sh"
# The emulated devices' server is built against a riscv64 sysroot (fetched once into .cache/);
# without one they are absent and the demo runs on the rest.
"$PENG_ROOT/scripts/riscv64-sysroot.sh" ||
  echo "demo.sh: no riscv64 sysroot: the emulated NPU and DPU will be absent"
cmake --preset release
cmake --build --preset release
mkdir -p "$PENG_ROOT/build/demo"
demo=("$PENG_ROOT/build/release/examples/peng-demo" --module "$PENG_ROOT/build/release/examples/demo.peng"
      --platform "$PENG_ROOT/platforms/dev-emu.toml" --trace "$PENG_ROOT/build/demo/demo-trace.json")
echo "==> ${demo[*]#$PENG_ROOT/} $*"
"${demo[@]}" "$@"

echo "==> pengc kernels/softmax.mlir -o build/demo/softmax.peng --targets=host,rvv"
"$PENG_ROOT/build/release/compiler/tools/pengc/pengc" kernels/softmax.mlir \
  -o "$PENG_ROOT/build/demo/softmax.peng" --targets=host,rvv
echo "==> peng-run build/demo/softmax.peng --kernel=softmax_13x67 --random-inputs -o build/demo/softmax.npy"
exec "$PENG_ROOT/build/release/runtime/tools/peng-run" "$PENG_ROOT/build/demo/softmax.peng" \
  --kernel=softmax_13x67 --random-inputs -o "$PENG_ROOT/build/demo/softmax.npy"
