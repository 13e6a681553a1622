# shellcheck shell=bash
# Shared by quickstart/demo.sh and quickstart/test.sh (sourced, bash):
# install missing Debian packages, bootstrap, configure and build pyleaks
# in a build directory so the source tree stays clean.
#
# Environment:
#   PYLEAKS_BUILD_DIR   where to build (default: <source tree>/build)
#   PYLEAKS_VERBOSE=1   show the output of every step, not only failures

ql_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ql_build=${PYLEAKS_BUILD_DIR:-$ql_top/build}
ql_verbose=${PYLEAKS_VERBOSE:-0}

# Everything the build, the demo and the test suite need on Debian 12
# (the last line: building and checking the Debian package, tests/test_install.py).
ql_packages=(gdb python3 python3.11-dbg libiberty-dev autoconf automake
             libtool make gcc graphviz python3-pytest python3-objgraph
             dpkg-dev debhelper fakeroot help2man lintian)

ql_say() { printf '==> %s\n' "$*"; }

ql_die() {
  printf 'quickstart: error: %s\n' "$*" >&2
  exit 1
}

# Runs a step with its output in a log; on failure shows the end of the log.
ql_step() {
  local log=$1
  shift
  if [ "$ql_verbose" = 1 ]; then
    "$@" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] && return 0
  elif "$@" >"$log" 2>&1; then
    return 0
  fi
  printf '%s\n' "--- last lines of $log:" >&2
  tail -n 40 "$log" >&2
  ql_die "failed: $* (full log: $log)"
}

ql_missing_packages() {
  local p
  for p in "${ql_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
         grep -q '^install ok installed$'; then
      printf '%s\n' "$p"
    fi
  done
}

ql_ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    ql_say "not a Debian system: not checking packages; pyleaks needs the equivalents of: ${ql_packages[*]}"
    return 0
  fi
  local missing
  missing=$(ql_missing_packages | tr '\n' ' ')
  missing=${missing% }
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    ql_die "missing Debian packages: $missing
  install them, then run this again:
    sudo apt-get update && sudo apt-get install -y $missing"
  fi
  ql_say "installing missing Debian packages: $missing"
  mkdir -p "$ql_build"
  export DEBIAN_FRONTEND=noninteractive
  ql_step "$ql_build/quickstart-apt.log" apt-get update
  # shellcheck disable=SC2086 # one word per package
  ql_step "$ql_build/quickstart-apt.log" apt-get install -y $missing
  missing=$(ql_missing_packages | tr '\n' ' ')
  [ -z "$missing" ] || ql_die "still missing after apt-get install: $missing"
}

# Leaves an up-to-date build in $ql_build (make only redoes what changed).
ql_build_pyleaks() {
  if [ -f "$ql_top/config.status" ] && [ "$ql_build" != "$ql_top" ]; then
    # A tree configured in place cannot also be built elsewhere.
    ql_say "the source tree is configured in place: building there"
    ql_build=$ql_top
  fi
  mkdir -p "$ql_build"
  if [ ! -x "$ql_top/configure" ] || [ ! -f "$ql_top/Makefile.in" ]; then
    ql_say "bootstrapping (autoreconf)"
    ql_step "$ql_build/quickstart-bootstrap.log" "$ql_top/bootstrap"
  fi
  if [ ! -f "$ql_build/Makefile" ]; then
    ql_say "configuring in $ql_build"
    # shellcheck disable=SC2016 # expanded by that sh, from its arguments
    ql_step "$ql_build/quickstart-configure.log" \
      sh -c 'cd "$1" && "$2/configure"' sh "$ql_build" "$ql_top"
  fi
  ql_say "building in $ql_build"
  ql_step "$ql_build/quickstart-make.log" \
    make --no-print-directory -C "$ql_build" -j"$(nproc 2>/dev/null || echo 2)"
}
