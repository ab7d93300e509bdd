#!/usr/bin/env bash
# Quick-start command 1: installs what is missing, builds the release preset and runs peng-demo.
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
exec "$PENG_ROOT/build/release/examples/peng-demo" "$@"
