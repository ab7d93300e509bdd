# shellcheck shell=bash
# Helpers for fetching files from the Debian archive that this host already uses. Sourced by
# scripts/riscv64-sysroot.sh; defines functions only.
#
#   source scripts/lib/debian-archive.sh
#   for m in $(peng_debian_mirrors); do peng_fetch "$m/pool/main/..." out.deb SHA256HEX && break; done
#
# The archive's address is read from the host's own apt sources at run time (PENG_DEBIAN_MIRROR
# overrides it), so no mirror host is written into the repository. Every download is checked: files
# against a sha256 from a committed lock or a signed index, indexes against a gpgv-verified InRelease.

PENG_DEBIAN_KEYRING="${PENG_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}"

# Prints candidate archive URLs (no trailing slash), best first: the sources of the host's own
# release (e.g. "bookworm"), then its other suites. Security and third-party archives come last and
# are weeded out later by signature and path checks.
peng_debian_mirrors() {
  if [[ -n "${PENG_DEBIAN_MIRROR:-}" ]]; then
    echo "${PENG_DEBIAN_MIRROR%/}"
    return 0
  fi
  local codename="" source_list="" source_parts=""
  codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
  eval "$(APT_CONFIG='' apt-config shell source_list Dir::Etc::SourceList/f source_parts Dir::Etc::SourceParts/d)"
  source_list="${source_list:-/etc/apt/sources.list}"
  source_parts="${source_parts:-/etc/apt/sources.list.d/}"
  local -a files=()
  [[ -f "$source_list" ]] && files+=("$source_list")
  local f
  for f in "$source_parts"*.list "$source_parts"*.sources; do
    [[ -f "$f" ]] && files+=("$f")
  done
  ((${#files[@]} > 0)) || return 0
  # One "URI SUITE" line per (uri, suite) of every enabled "deb" source, one-line and deb822 styles.
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no")
        for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print uris[i], suites[j]
      types = ""; enabled = "yes"; nu = 0; ns = 0
    }
    FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
    /^[ \t]*#/ { next }
    !deb822 {
      if ($1 != "deb") next
      k = 2
      if ($k ~ /^\[/) { while (k <= NF && $k !~ /\]$/) k++; k++ }
      if (k + 1 <= NF) print $k, $(k + 1)
      next
    }
    /^[ \t]*$/ { flush(); next }
    {
      key = tolower($1); sub(/:$/, "", key)
      if (key == "types") { types = ""; for (i = 2; i <= NF; i++) types = types " " $i; sub(/^ /, "", types) }
      else if (key == "enabled") enabled = $2
      else if (key == "uris") for (i = 2; i <= NF; i++) uris[++nu] = $i
      else if (key == "suites") for (i = 2; i <= NF; i++) suites[++ns] = $i
    }
    END { flush() }
  ' "${files[@]}" | awk -v codename="$codename" '
    $1 !~ /^https?:\/\// { next }
    { sub(/\/+$/, "", $1) }
    $2 == codename { print 0, NR, $1; next }
    $2 !~ /security/ { print 1, NR, $1; next }
    { print 2, NR, $1 }
  ' | sort -k1,1n -k2,2n | awk '!seen[$3]++ { print $3 }'
}

# peng_fetch URL DEST [SHA256HEX]: downloads URL to DEST with apt's own downloader (so the host's
# apt proxy settings apply), checking the sha256 when given. DEST appears only when complete.
peng_fetch() {
  local url="$1" dest="$2" sha="${3:-}"
  local -a hash=() opts=()
  [[ -n "$sha" ]] && hash=("SHA256:$sha")
  # As root, apt drops to the _apt user, which cannot write into our cache folders.
  ((EUID == 0)) && opts=(-o APT::Sandbox::User=root)
  local tmp="$dest.part"
  rm -f "$tmp"
  if /usr/lib/apt/apt-helper "${opts[@]}" download-file "$url" "$tmp" "${hash[@]}" >/dev/null 2>&1; then
    mv -f "$tmp" "$dest"
    return 0
  fi
  rm -f "$tmp"
  return 1
}

# peng_sha256_ok FILE SHA256HEX: true when FILE exists and has that sha256.
peng_sha256_ok() {
  [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]
}

# peng_verify_inrelease IN OUT: checks IN's signature against the Debian archive keyring and
# writes only the signed text to OUT (text outside the signature must never be trusted).
peng_verify_inrelease() {
  rm -f "$2"
  gpgv --quiet --keyring "$PENG_DEBIAN_KEYRING" --output "$2" "$1" >/dev/null 2>&1
}

# peng_release_sha256 RELEASE PATH: the sha256 that a verified Release text gives for PATH.
peng_release_sha256() {
  awk -v path="$2" '
    /^[^ ]/ { in_sha = ($1 == "SHA256:") ; next }
    in_sha && $3 == path { print $1; exit }
  ' "$1"
}
