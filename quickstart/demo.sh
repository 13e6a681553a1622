#!/usr/bin/env bash
# Quick start, command 1: build pyleaks, start a small web service that
# leaks memory on purpose (demo/leaky_service.py), show pyleaks' report on
# it, stop it.
#
# Environment: PYTHON (the interpreter for the demo service, default
# /usr/bin/python3: Debian's, whose debug symbols come from python3.11-dbg),
# plus those described in quickstart/lib.sh.
set -euo pipefail

# shellcheck source=quickstart/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ql_ensure_packages
ql_build_pyleaks

python=${PYTHON:-/usr/bin/python3}
command -v "$python" >/dev/null 2>&1 || ql_die "no Python interpreter '$python' (set PYTHON)"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/pyleaks-demo.XXXXXX")
demo_pid=
stop_demo() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  demo_pid=
}
trap 'stop_demo; rm -rf "$workdir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$python" "$ql_top/demo/leaky_service.py" --ready-file "$workdir/ready" \
  >"$workdir/demo.log" 2>&1 &
demo_pid=$!

# It signals ready once it has served its warm-up requests.
for _ in $(seq 300); do
  [ -s "$workdir/ready" ] && break
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    cat "$workdir/demo.log" >&2
    demo_pid=
    ql_die "the demo service exited before it was ready (output above)"
  fi
  sleep 0.2
done
[ -s "$workdir/ready" ] || ql_die "the demo service did not get ready within 60 s"

version=$("$python" -c 'import platform; print(platform.python_version())')
served=$(sed -n 's/.* \([0-9][0-9]*\) requests served$/\1/p' "$workdir/demo.log" | tail -n 1)

# Show the wrapper as a path the reader can type from the source tree.
pyleaks=$ql_build/pyleaks
shown=${pyleaks#"$ql_top"/}
[ "$shown" = "$pyleaks" ] || shown=./$shown

status=0
# Shell words as a person would type them: 'py-objects Request --limit 5'.
quote() {
  case $1 in
    *[!A-Za-z0-9_./=:-]* | '') printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}
run() {
  local arg
  printf '\n$ %s' "$shown"
  for arg in "$@"; do printf ' %s' "$(quote "$arg")"; done
  printf '\n'
  "$pyleaks" "$@" || {
    local rc=$?
    printf 'quickstart: pyleaks failed (exit status %d)\n' "$rc" >&2
    status=1
  }
}

echo
ql_say "demo service running: PID $demo_pid, $python (Python $version)."
echo "    It has served ${served:-its warm-up} requests and keeps every one of"
echo "    them, plus sessions, renderers, audit events and failed requests'"
echo "    tracebacks. Which types pile up, who holds them, and why are they"
echo "    not freed?"
run --pid "$demo_pid"

echo
ql_say "The service's own classes pile up, about one of each per request served;"
echo "    py-leaks named the holders and the causes, each with its chain and a fix."
echo "    Which Request objects are alive? The first five, by address:"
run --pid "$demo_pid" -c 'py-objects Request --limit 5'

echo
ql_say "Who holds them? The chain of references from a root to one of them,"
echo "    and why the Session objects are not freed:"
run --pid "$demo_pid" -c 'py-chain --type Request' -c 'py-chain --type Session'

stop_demo
echo
if [ "$status" -eq 0 ]; then
  ql_say "demo service stopped. On your own service: $shown --pid PID"
  echo "    (as the user that runs it, or root). More in README.md."
else
  ql_say "demo service stopped; pyleaks failed (see the messages above)."
fi
exit "$status"
