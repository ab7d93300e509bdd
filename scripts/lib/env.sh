# shellcheck shell=bash
# Build environment shared by scripts/demo.sh and scripts/test.sh. Sourced; sets PENG_ROOT and exports
# the cache and parallelism settings (each can be overridden from the caller's environment).
PENG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# ccache (CMakeLists.txt uses it when installed): its cache lives in the repository's ignored .cache/.
export CCACHE_DIR="${CCACHE_DIR:-$PENG_ROOT/.cache/ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PENG_ROOT}"
# The reference machines have two cores.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
export CTEST_PARALLEL_LEVEL="${CTEST_PARALLEL_LEVEL:-2}"
