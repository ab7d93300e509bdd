#!/usr/bin/env bash
# Quick-start command 1: installs what is missing, builds the release preset, runs peng-demo (a
# task graph on the CPU device), then compiles a softmax kernel with pengc for the host and RVV
# into one module.peng and runs it with peng-run (each output row of a softmax sums to 1).
#
#   ./scripts/demo.sh                                      # on Debian bookworm, as root
#   ./scripts/demo.sh --platform platforms/sim-hetero.toml --trace demo-trace.json
#
# Arguments go to peng-demo. See scripts/lib/env.sh for the cache and parallelism settings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$PENG_ROOT"

"$PENG_ROOT/scripts/setup.sh"
cmake --preset release
cmake --build --preset release
echo "==> build/release/examples/peng-demo $*"
"$PENG_ROOT/build/release/examples/peng-demo" "$@"

mkdir -p "$PENG_ROOT/build/demo"
echo "==> pengc kernels/softmax.mlir -o build/demo/softmax.peng --targets=host,rvv"
"$PENG_ROOT/build/release/compiler/tools/pengc/pengc" kernels/softmax.mlir \
  -o "$PENG_ROOT/build/demo/softmax.peng" --targets=host,rvv
echo "==> peng-run build/demo/softmax.peng --kernel=softmax_13x67 --random-inputs -o build/demo/softmax.npy"
exec "$PENG_ROOT/build/release/runtime/tools/peng-run" "$PENG_ROOT/build/demo/softmax.peng" \
  --kernel=softmax_13x67 --random-inputs -o "$PENG_ROOT/build/demo/softmax.npy"
