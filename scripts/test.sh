#!/usr/bin/env bash
# Quick-start command 2 (and CI, through .ci/run): installs what is missing, then builds and tests
# Peng in four stages, each with its CMake preset:
#
#   release     the whole test suite
#   asan-ubsan  tests labelled `runtime`, under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan        tests labelled `runtime`, under ThreadSanitizer (CPU device on a std::thread pool)
#   riscv64     cross build for riscv64 + RVV (makes the trixie sysroot first); tests labelled
#               `runtime` under qemu-riscv64 at each VLEN of PENG_TEST_VLENS (default 256), and
#               the end-to-end kernel tests (label `e2e`, rvv code compiled by the release
#               build's pengc) at each VLEN of PENG_TEST_E2E_VLENS (default 128,256,512,1024)
#
#   ./scripts/test.sh
#   PENG_TEST_STAGES=release,asan-ubsan ./scripts/test.sh
#   PENG_TEST_VLENS=128,256 PENG_TEST_STAGES=riscv64 ./scripts/test.sh
#
# Every stage runs even when an earlier one failed (PENG_TEST_FAIL_FAST=1 stops at the first
# failure); a summary follows, and the exit status is non-zero when any step failed. Logs of the
# test runs go to build/test-logs/. See scripts/lib/env.sh for the cache and parallelism settings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$PENG_ROOT"

ALL_STAGES=(release asan-ubsan tsan riscv64)
IFS=', ' read -r -a STAGES <<<"${PENG_TEST_STAGES:-${ALL_STAGES[*]}}"
IFS=', ' read -r -a VLENS <<<"${PENG_TEST_VLENS:-256}"
IFS=', ' read -r -a E2E_VLENS <<<"${PENG_TEST_E2E_VLENS:-128,256,512,1024}"
for stage in "${STAGES[@]}"; do
  [[ " ${ALL_STAGES[*]} " == *" $stage "* ]] ||
    { echo "test.sh: unknown stage '$stage' (stages: ${ALL_STAGES[*]})" >&2; exit 2; }
done
LOG_DIR="$PENG_ROOT/build/test-logs"
mkdir -p "$LOG_DIR"

"$PENG_ROOT/scripts/setup.sh"

# --- steps ----------------------------------------------------------------------------------------

FAILED_STEP=""  # the steps that failed in the current stage
TEST_SUMMARY=() # one line per ctest run of the current stage

# step NAME CMD...: runs CMD; on failure records NAME and fails.
step() {
  local name="$1"
  shift
  echo "==> [$CURRENT_STAGE] $name: $*"
  if ! "$@"; then
    FAILED_STEP="${FAILED_STEP:+$FAILED_STEP, }$name"
    return 1
  fi
}

# run_ctest LABEL CTEST_ARGS...: runs ctest, keeps its output in build/test-logs/ and its result line.
run_ctest() {
  local label="$1" log="$LOG_DIR/$CURRENT_STAGE${1:+-$1}.log" rc
  shift
  set +e
  ctest --output-on-failure "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  local result
  result="$(grep -E 'tests passed|No tests were found' "$log" | tail -1)"
  TEST_SUMMARY+=("${label:+$label: }${result:-no ctest summary (rc $rc)}")
  return "$rc"
}

# --- stages ---------------------------------------------------------------------------------------

stage_release() {
  # The emu backend's device server is built against the riscv64 sysroot; the stages after this
  # one find it too. Without it (the mirror unreachable) the emu backend is left out, not failed.
  "$PENG_ROOT/scripts/riscv64-sysroot.sh" ||
    echo "test.sh: no riscv64 sysroot: the emu backend and its tests are left out"
  step configure cmake --preset release &&
    step build cmake --build --preset release &&
    step test run_ctest "" --preset release
}

stage_asan-ubsan() {
  step configure cmake --preset asan-ubsan &&
    step build cmake --build --preset asan-ubsan &&
    step test run_ctest "" --preset asan-ubsan -L runtime
}

stage_tsan() {
  step configure cmake --preset tsan &&
    step build cmake --build --preset tsan &&
    step test run_ctest "" --preset tsan -L runtime
}

stage_riscv64() {
  # The kernels for the e2e tests come from the host's pengc (no MLIR for riscv64).
  if [[ ! -x "$PENG_ROOT/build/release/compiler/tools/pengc/pengc" ||
        ! -f "$PENG_ROOT/build/release/bench/qemu-icount/peng-qemu-icount.so" ]]; then
    step "host tools" cmake --preset release &&
      step "host tools" cmake --build --preset release --target pengc peng_qemu_icount || return 1
  fi
  # The emu runner, for the efficiency check's comparison (needs the riscv64 sysroot's server).
  if [[ ! -x "$PENG_ROOT/build/release/bench/emu/peng-emu-icount" ]]; then
    "$PENG_ROOT/scripts/riscv64-sysroot.sh" && cmake --preset release >/dev/null &&
      cmake --build --preset release --target peng-emu-icount ||
      echo "test.sh: no peng-emu-icount: the efficiency check runs without the emu comparison"
  fi
  step sysroot "$PENG_ROOT/scripts/riscv64-sysroot.sh" &&
    step configure cmake --preset riscv64 &&
    step build cmake --build --preset riscv64 || return 1
  local vlen failed=0
  for vlen in "${VLENS[@]}"; do
    PENG_QEMU_VLEN="$vlen" step "test VLEN=$vlen" run_ctest "vlen$vlen" --preset riscv64 -L runtime ||
      failed=1
  done
  # The matmul figure of merit: efficiency at VLEN 256 and vector ops halving.
  step "rvv matmul efficiency" run_ctest "rvv-perf" --preset riscv64 -L rvv-perf || failed=1
  # One rvv module, every VLEN: the e2e kernels without recompiling.
  for vlen in "${E2E_VLENS[@]}"; do
    PENG_QEMU_VLEN="$vlen" step "e2e VLEN=$vlen" run_ctest "e2e-vlen$vlen" --preset riscv64 -L e2e ||
      failed=1
  done
  ((!failed))
}

# --- main -----------------------------------------------------------------------------------------

SUMMARY=()
any_failed=0
for CURRENT_STAGE in "${STAGES[@]}"; do
  FAILED_STEP=""
  TEST_SUMMARY=()
  start=$SECONDS
  echo
  echo "======== stage $CURRENT_STAGE ========"
  if "stage_$CURRENT_STAGE"; then
    status=PASS
  else
    status="FAIL (${FAILED_STEP:-?})"
    any_failed=1
  fi
  elapsed=$((SECONDS - start))
  line="$(printf '%-11s %-22s %4dm%02ds' "$CURRENT_STAGE" "$status" $((elapsed / 60)) $((elapsed % 60)))"
  if ((${#TEST_SUMMARY[@]} > 0)); then
    joined="$(printf '%s; ' "${TEST_SUMMARY[@]}")"
    line+="  ${joined%; }"
  fi
  SUMMARY+=("$line")
  if ((any_failed)) && [[ "${PENG_TEST_FAIL_FAST:-0}" == 1 ]]; then
    break
  fi
done

echo
echo "======== summary ========"
printf '%s\n' "${SUMMARY[@]}"
if ((any_failed)); then
  echo "FAILED (logs: build/test-logs/)"
  exit 1
fi
echo "all stages passed"
