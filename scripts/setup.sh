#!/usr/bin/env bash
# Installs the Debian bookworm packages that Peng's build, tests and QEMU runs need.
#
# Idempotent: it asks dpkg what is installed, and touches apt only when a package is missing (then
# `apt-get update` once, and one `apt-get install --no-install-recommends`). Shared by both
# quick-start commands; works executed or sourced:
#
#   ./scripts/setup.sh              # as root, or as a user with sudo
#   source scripts/setup.sh         # defines peng_setup and runs it once
#
# PENG_SETUP_SKIP=1 skips it entirely (for machines set up some other way).

peng_setup() {
  local required=(
    cmake ninja-build ccache g++ pkg-config
    libtbb-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libstarpu-dev
    nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libhwloc-dev
    clang-19 lld-19 llvm-19-dev libmlir-19-dev mlir-19-tools liblld-19-dev libzstd-dev
    libopenblas-dev libdnnl-dev
    ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
    qemu-user gpgv debian-archive-keyring xz-utils ca-certificates
  )
  # Installed when the archive has them: clang's sanitizer runtimes.
  local optional=(libclang-rt-19-dev)

  if [[ "${PENG_SETUP_SKIP:-0}" == 1 ]]; then
    echo "setup: PENG_SETUP_SKIP=1, not checking packages"
    return 0
  fi

  local -a missing=() optional_missing=()
  local pkg
  for pkg in "${required[@]}"; do
    _peng_is_installed "$pkg" || missing+=("$pkg")
  done
  for pkg in "${optional[@]}"; do
    _peng_is_installed "$pkg" || optional_missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    # An optional package the archive lacks must not cost an `apt-get update` on every run.
    local -a known=()
    for pkg in "${optional_missing[@]}"; do
      _peng_apt_knows "$pkg" && known+=("$pkg")
    done
    optional_missing=("${known[@]}")
    if ((${#optional_missing[@]} == 0)); then
      echo "setup: all packages present"
      return 0
    fi
  fi

  local -a sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "setup: missing packages (${missing[*]} ${optional_missing[*]}); run as root" >&2
      return 1
    fi
  fi

  echo "setup: apt-get update (missing: ${missing[*]} ${optional_missing[*]})"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1

  local -a to_install=("${missing[@]}")
  for pkg in "${optional_missing[@]}"; do
    if _peng_apt_knows "$pkg"; then
      to_install+=("$pkg")
    else
      echo "setup: $pkg is not in the archive; skipping it"
    fi
  done
  ((${#to_install[@]} > 0)) || return 0
  echo "setup: installing ${to_install[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${to_install[@]}" || return 1
  echo "setup: done"
}

_peng_is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# True when the current package lists have a candidate for the package.
_peng_apt_knows() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  peng_setup "$@"
else
  peng_setup "$@" || return $?
fi
