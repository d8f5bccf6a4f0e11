#!/usr/bin/env bash
# Builds CAF 0.17.6 (libcaf_core + libcaf_io only) instrumented with ThreadSanitizer, from Debian's
# source package, into a cache outside the repository, and prints the install prefix on stdout (the
# only thing this script writes to stdout; progress goes to stderr).
#
# Why: Debian's libcaf is not TSan-built, so TSan cannot see the happens-before edges of CAF's
# lock-free mailboxes and scheduler queues and reports every hand-over between actors as a race. With
# an instrumented CAF, the daemon and every unit suite (also the real scheduler of unit.embedding) run
# under TSan. scripts/test.sh (stage tsan) calls this and passes the prefix to CMake as CAF_ROOT.
#
# The prefix is keyed by CAF version, flags and compiler, and reused when complete (a fresh machine
# pays the build once: see docs/hardening.md for the time it takes). Needs root for the deb-src entry
# and `apt-get update` (only when the cache is missing).
#
# Env: CHATRELAY_CACHE (default /var/cache/chatrelay), CAF_TSAN_JOBS (default 2), CAF_TSAN_WORK
# (scratch directory, default $CHATRELAY_CACHE/.caf-tsan-work, removed after the build).
set -euo pipefail

CAF_VERSION=0.17.6
CAF_FLAGS="-fsanitize=thread -O1 -g -fno-omit-frame-pointer"
CACHE_ROOT="${CHATRELAY_CACHE:-/var/cache/chatrelay}"
JOBS="${CAF_TSAN_JOBS:-2}"
CXX="${CXX:-g++}"

log() { echo "build-caf-tsan: $*" >&2; }

# The key changes whenever anything that shapes the binaries changes (flags, compiler, this recipe).
recipe_key() {
  { echo "$CAF_VERSION $CAF_FLAGS"; "$CXX" --version | head -1; echo "recipe 2"; } | sha256sum | cut -c1-10
}
PREFIX="$CACHE_ROOT/caf-$CAF_VERSION-tsan-$(recipe_key)"

# A deb-src entry in the form of the machine's own Debian entry (deb822 or one-line), when none exists.
ensure_deb_src() {
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local uri suite
  uri=$(grep -rhsE '^URIs: .*/debian/?$' /etc/apt/sources.list.d/*.sources | head -1 | awk '{print $2}')
  if [[ -z "$uri" ]]; then
    uri=$(grep -hsE '^deb .*/debian/? ' /etc/apt/sources.list | head -1 | awk '{print $2}')
  fi
  uri="${uri:-http://deb.debian.org/debian}"
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  log "adding deb-src $uri $suite main (/etc/apt/sources.list.d/debian-src.sources)"
  cat >/etc/apt/sources.list.d/debian-src.sources <<EOF
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -o DPkg::Lock::Timeout=300 >&2
}

# Debian's orig tarball of actor-framework (apt verifies it against the signed Sources index). The
# Debian packaging tarball is not needed (and may be missing on a mirror): only the orig is checked.
fetch_source() {
  local dir="$1" tarball="actor-framework_$CAF_VERSION.orig.tar.gz"
  ensure_deb_src
  # Unpinned (apt-get source takes no version pattern): bookworm has exactly 0.17.6; the tarball
  # name below checks the version.
  (cd "$dir" && apt-get source --download-only actor-framework >&2) ||
    log "apt-get source reported an error; continuing if the orig tarball arrived"
  [[ -s "$dir/$tarball" ]] || { log "no $tarball from apt-get source"; return 1; }
  tar -xzf "$dir/$tarball" -C "$dir"
  patch_source "$dir/actor-framework-$CAF_VERSION"
}

# The one change Debian's package makes to the headers (found by diffing the orig against
# /usr/include/caf): GCC 12 needs <limits> in receive_buffer.hpp, else libcaf_io does not compile.
patch_source() {
  local hdr="$1/libcaf_io/caf/io/network/receive_buffer.hpp"
  grep -q '#include <limits>' "$hdr" || sed -i 's|^#include <cstring>$|&\n#include <limits>|' "$hdr"
  grep -q '#include <limits>' "$hdr"
}

build_and_install() {
  local src="$1" build="$2" dest="$3" launcher=() generator=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  command -v ninja >/dev/null && generator=(-G Ninja)
  # Only the two libraries the relay links; CAF's own defaults otherwise (memory management on,
  # log level QUIET), as in Debian's build, so the headers match the ones the project is tested with.
  cmake -S "$src" -B "$build" "${generator[@]}" "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$CAF_FLAGS" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_INSTALL_PREFIX="$dest" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_RPATH='$ORIGIN' \
    -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_TOOLS=yes -DCAF_NO_OPENSSL=yes \
    -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_SUMMARY=yes -DCAF_LOG_LEVEL=QUIET >&2
  cmake --build "$build" -j"$JOBS" --target libcaf_core_shared libcaf_io_shared >&2
  # The install rules of the skipped targets (static libs, examples) are not generated; those of
  # libcaf_test's headers are, and the project's unit tests need them.
  cmake --install "$build" >&2
}

main() {
  if [[ -f "$PREFIX/.complete" ]]; then
    log "using the cached build in $PREFIX"
    echo "$PREFIX"
    return 0
  fi
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.caf-tsan.lock"
  flock 9   # another run may be building the same prefix
  if [[ -f "$PREFIX/.complete" ]]; then echo "$PREFIX"; return 0; fi

  local start=$SECONDS
  # A fixed path (under the lock): ccache, when there, hits across runs and recipe changes.
  WORK="${CAF_TSAN_WORK:-$CACHE_ROOT/.caf-tsan-work}"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  trap 'rm -rf "$WORK"' EXIT
  log "building CAF $CAF_VERSION with '$CAF_FLAGS' into $PREFIX (-j$JOBS)"
  fetch_source "$WORK"
  rm -rf "$PREFIX"
  build_and_install "$WORK/actor-framework-$CAF_VERSION" "$WORK/build" "$PREFIX"
  echo "CAF $CAF_VERSION, flags: $CAF_FLAGS, built in $((SECONDS - start)) s on $(date -u +%FT%TZ)" \
    >"$PREFIX/.complete"
  log "done in $((SECONDS - start)) s"
  echo "$PREFIX"
}

main "$@"
