#!/usr/bin/env bash
# Makes the Debian trixie riscv64 sysroot that cmake/toolchains/riscv64-linux-gnu.cmake builds against.
#
#   scripts/riscv64-sysroot.sh            # make .cache/riscv64-sysroot (does nothing when it is current)
#   scripts/riscv64-sysroot.sh --force    # unpack it again
#   scripts/riscv64-sysroot.sh --relock   # resolve the packages again from the signed trixie index and
#                                         # rewrite scripts/riscv64-sysroot.lock (then commit the lock)
#
# Environment: PENG_RISCV64_SYSROOT  where to put it (default: <repo>/.cache/riscv64-sysroot)
#              PENG_DEBIAN_MIRROR    archive URL (default: read from this host's apt sources)
#
# Why trixie: bookworm has no riscv64 port; trixie ships it from the same archive. The host's apt
# sources, architectures and dpkg database are never touched: packages are unpacked with
# `dpkg-deb -x` into a plain folder, and resolving them runs apt with a private APT_CONFIG.
#
# Trust: the committed lock names every .deb by pool path and sha256, so the set is reproducible and
# authenticated by the repository whatever state the mirror is in. Resolving (--relock, or when a
# locked file has left the archive) trusts only what chains to a gpgv-verified InRelease.
set -euo pipefail

# What the cross build needs. googletest is the source package (usr/src/googletest): trixie's
# prebuilt libgtest.a does not link with lld 19. The header-only libraries come from trixie too, so
# that find_package() finds everything inside the sysroot.
PACKAGES=(googletest libcli11-dev libfmt-dev libstdc++-14-dev libtbb-dev libtomlplusplus-dev nlohmann-json3-dev)
SUITE=trixie
ARCH=riscv64

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK_FILE="$REPO_ROOT/scripts/riscv64-sysroot.lock"
SYSROOT="${PENG_RISCV64_SYSROOT:-$REPO_ROOT/.cache/riscv64-sysroot}"
SYSROOT="${SYSROOT%/}"
WORK="$SYSROOT.work"     # apt state and the .deb cache, kept beside the sysroot
STAMP="$SYSROOT/.peng-sysroot-stamp"

# shellcheck source=lib/debian-archive.sh
source "$REPO_ROOT/scripts/lib/debian-archive.sh"

log() { echo "riscv64-sysroot: $*"; }
die() { echo "riscv64-sysroot: error: $*" >&2; exit 1; }

force=0
relock=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --relock) relock=1 ;;
    -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

for tool in dpkg-deb gpgv xz sha256sum flock apt-get /usr/lib/apt/apt-helper; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (run scripts/setup.sh)"
done
[[ -f "$PENG_DEBIAN_KEYRING" ]] || die "$PENG_DEBIAN_KEYRING is missing (apt-get install debian-archive-keyring)"

mkdir -p "$WORK/debs"
exec 9>"$WORK/.lock"
flock 9 # one maker at a time

# --- the lock file --------------------------------------------------------------------------------

# Entries of a lock file as "path sha256" lines.
lock_entries() { grep -v '^#' "$1" | awk 'NF == 2 { print $1, $2 }'; }

# True when the lock file exists and was made for exactly the PACKAGES above.
lock_matches_packages() {
  [[ -f "$1" ]] && [[ "$(sed -n 's/^# packages: //p' "$1")" == "${PACKAGES[*]}" ]]
}

# --- resolving from the signed index --------------------------------------------------------------

# resolve OUT_LOCK: finds the closure of PACKAGES in the newest trixie release whose indexes verify,
# and writes it as a lock file.
resolve() {
  local out="$1"
  local apt_dir="$WORK/apt"
  rm -rf "$apt_dir"
  mkdir -p "$apt_dir"/{repo,state/lists/partial,cache/archives/partial,etc/apt.conf.d,etc/preferences.d,etc/sources.list.d,log}
  touch "$apt_dir/state/status"

  # 1. A signed InRelease for trixie. "trixie" and "stable" may be cached at different points by a
  #    mirror or proxy (one served a Packages.xz that matched only the other): try both, newest first.
  local mirror="" release_file="" release_date=""
  local m dist
  for m in $(peng_debian_mirrors); do
    local candidates=()
    for dist in "$SUITE" stable; do
      local raw="$apt_dir/InRelease.$dist" text="$apt_dir/Release.$dist"
      peng_fetch "$m/dists/$dist/InRelease" "$raw" || continue
      if ! peng_verify_inrelease "$raw" "$text"; then
        log "warning: $m/dists/$dist/InRelease does not verify against $PENG_DEBIAN_KEYRING; ignored"
        continue
      fi
      grep -qx "Codename: $SUITE" "$text" || continue
      candidates+=("$(date -d "$(sed -n 's/^Date: //p' "$text")" +%s) $dist")
    done
    ((${#candidates[@]} > 0)) || continue
    while read -r _ dist; do
      if fetch_indexes "$m" "$dist" "$apt_dir/Release.$dist" "$apt_dir/repo"; then
        mirror="$m"
        release_file="$apt_dir/Release.$dist"
        cp "$apt_dir/InRelease.$dist" "$apt_dir/repo/dists/$SUITE/InRelease"
        break
      fi
    done < <(printf '%s\n' "${candidates[@]}" | sort -rn)
    [[ -n "$mirror" ]] && break
  done
  [[ -n "$mirror" ]] || die "no mirror served a $SUITE $ARCH index that matches a signed InRelease"
  release_date="$(sed -n 's/^Date: //p' "$release_file")"
  log "resolving against $(sed -n 's/^Description: //p' "$release_file") (Date: $release_date)"

  # 2. apt resolves the closure from the verified local copy. It checks the signature and every
  #    index hash again itself. Nothing of the host's apt state is read or written.
  cat >"$apt_dir/apt.conf" <<EOF
Dir::State "$apt_dir/state";
Dir::State::status "$apt_dir/state/status";
Dir::Cache "$apt_dir/cache";
Dir::Etc "$apt_dir/etc";
Dir::Etc::Parts "$apt_dir/etc/apt.conf.d";
Dir::Etc::SourceList "$apt_dir/etc/sources.list";
Dir::Etc::SourceParts "$apt_dir/etc/sources.list.d";
Dir::Etc::Preferences "$apt_dir/etc/preferences";
Dir::Etc::PreferencesParts "$apt_dir/etc/preferences.d";
Dir::Log "$apt_dir/log";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::By-Hash "no";
Debug::NoLocking "true";
EOF
  ((EUID == 0)) && echo 'APT::Sandbox::User "root";' >>"$apt_dir/apt.conf"
  echo "deb [signed-by=$PENG_DEBIAN_KEYRING] file:$apt_dir/repo $SUITE main" >"$apt_dir/etc/sources.list"

  local -x APT_CONFIG="$apt_dir/apt.conf"
  apt-get -q update >"$apt_dir/update.log" 2>&1 || { cat "$apt_dir/update.log" >&2; die "apt-get update on the verified index failed"; }
  local sim
  sim="$(apt-get -s -qq install "${PACKAGES[@]}")" || die "apt cannot resolve: ${PACKAGES[*]}"
  local -a pins=()
  mapfile -t pins < <(awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); print $2 "=" v }' <<<"$sim" | sort)
  ((${#pins[@]} > 0)) || die "apt resolved nothing"
  {
    echo "# Debian $SUITE $ARCH packages of the cross sysroot; scripts/riscv64-sysroot.sh unpacks them."
    echo "# Made by \`scripts/riscv64-sysroot.sh --relock\` from the signed InRelease of"
    echo "# $(sed -n 's/^Description: //p' "$release_file") (Date: $release_date). Lines: <pool path> <sha256>."
    echo "# packages: ${PACKAGES[*]}"
    apt-cache show --no-all-versions "${pins[@]}" | awk '
      /^Filename: / { f = $2 }
      /^SHA256: / { s = $2 }
      /^$/ { if (f != "" && s != "") print f, s; f = ""; s = "" }
      END { if (f != "" && s != "") print f, s }
    ' | sort
  } >"$out.tmp"
  local n
  n="$(lock_entries "$out.tmp" | wc -l)"
  ((n == ${#pins[@]})) || die "expected ${#pins[@]} packages, found $n in the index"
  mv -f "$out.tmp" "$out"
  rm -rf "$apt_dir" # the indexes are big and only needed again for the next resolve
  log "resolved $n packages into $out"
}

# fetch_indexes MIRROR DIST RELEASE_TEXT REPO: downloads the riscv64 and all Packages indexes that
# the verified RELEASE_TEXT names, into REPO/dists/$SUITE. Tries the plain path of both dists and
# the by-hash path.
fetch_indexes() {
  local m="$1" dist="$2" release="$3" repo="$4" idx sha dir
  for idx in "main/binary-$ARCH/Packages.xz" main/binary-all/Packages.xz; do
    sha="$(peng_release_sha256 "$release" "$idx")"
    [[ -n "$sha" ]] || return 1
    dir="$(dirname "$idx")"
    mkdir -p "$repo/dists/$SUITE/$dir"
    local ok=0 url
    for url in "$m/dists/$dist/$idx" "$m/dists/$SUITE/$idx" "$m/dists/$dist/$dir/by-hash/SHA256/$sha"; do
      if peng_fetch "$url" "$repo/dists/$SUITE/$idx" "$sha"; then
        ok=1
        break
      fi
    done
    ((ok)) || return 1
  done
}

# --- fetching and unpacking -----------------------------------------------------------------------

# fetch_debs LOCK: puts every .deb of LOCK in $WORK/debs, checked against its sha256.
fetch_debs() {
  local lock="$1" path sha deb m ok missing=0 fetched=0
  local -a mirrors
  mapfile -t mirrors < <(peng_debian_mirrors)
  while read -r path sha; do
    deb="$WORK/debs/$(basename "$path")"
    peng_sha256_ok "$deb" "$sha" && continue
    ok=0
    for m in "${mirrors[@]}"; do
      if peng_fetch "$m/$path" "$deb" "$sha"; then
        ok=1
        break
      fi
    done
    if ((ok)); then
      fetched=$((fetched + 1))
    else
      log "cannot fetch $path with sha256 $sha"
      missing=$((missing + 1))
    fi
  done < <(lock_entries "$lock")
  ((fetched == 0)) || log "fetched $fetched packages"
  ((missing == 0))
}

# unpack LOCK: makes the sysroot from LOCK's packages, atomically replacing the old one.
unpack() {
  local lock="$1" stamp="$2" tmp="$SYSROOT.tmp" path sha d link target
  rm -rf "$tmp"
  mkdir -p "$tmp/usr/lib" "$tmp/usr/bin" "$tmp/usr/sbin"
  # Merged /usr, as on a trixie system: the loader is /lib/ld-linux-riscv64-lp64d.so.1.
  for d in lib bin sbin; do ln -s "usr/$d" "$tmp/$d"; done
  while read -r path sha; do
    dpkg-deb -x "$WORK/debs/$(basename "$path")" "$tmp"
  done < <(lock_entries "$lock")
  # A package that still ships /lib as a real folder would have replaced the link: merge it back.
  for d in lib bin sbin; do
    if [[ ! -L "$tmp/$d" ]]; then
      cp -a "$tmp/$d/." "$tmp/usr/$d/"
      rm -rf "${tmp:?}/$d"
      ln -s "usr/$d" "$tmp/$d"
    fi
  done
  # Absolute symlinks would point into the host: make them relative inside the sysroot.
  while IFS= read -r -d '' link; do
    target="$(readlink "$link")"
    ln -sfn "$(realpath -s -m --relative-to="$(dirname "$link")" "$tmp$target")" "$link"
  done < <(find "$tmp" -type l -lname '/*' -print0)
  [[ -e "$tmp/lib/ld-linux-riscv64-lp64d.so.1" ]] || die "the sysroot has no riscv64 dynamic loader"
  [[ -f "$tmp/usr/src/googletest/CMakeLists.txt" ]] || die "the sysroot has no GoogleTest sources"
  echo "$stamp" >"$tmp/.peng-sysroot-stamp"
  rm -rf "$SYSROOT"
  mv "$tmp" "$SYSROOT"
}

# --- main -----------------------------------------------------------------------------------------

lock="$LOCK_FILE"
if ((relock)) || ! lock_matches_packages "$LOCK_FILE"; then
  ((relock)) || log "$LOCK_FILE is missing or lists other packages; resolving"
  resolve "$LOCK_FILE"
fi

stamp="$(lock_entries "$lock" | sha256sum | cut -d' ' -f1)"
if ((!force)) && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$stamp" ]]; then
  log "$SYSROOT is up to date"
  exit 0
fi

if ! fetch_debs "$lock"; then
  # Stable point releases remove superseded .debs from the pool, so an old lock can go stale.
  log "warning: the lock is stale; resolving from the signed index instead (run --relock and commit)"
  lock="$WORK/riscv64-sysroot.lock"
  resolve "$lock"
  stamp="$(lock_entries "$lock" | sha256sum | cut -d' ' -f1)"
  fetch_debs "$lock" || die "cannot fetch the resolved packages"
fi

unpack "$lock" "$stamp"
log "ready: $SYSROOT ($(lock_entries "$lock" | wc -l) packages, $(du -sh "$SYSROOT" | cut -f1))"
