#!/usr/bin/env bash
# Quick start, command 2: build pyleaks and run the whole test suite
# (make check: the C unit tests and the pytest suite).  Exits with the
# suite's status; the last line printed is pytest's summary line.
#
# Environment: see quickstart/lib.sh.
set -euo pipefail

# shellcheck source=quickstart/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ql_ensure_packages
ql_build_pyleaks

ql_say "running the test suite (make check in $ql_build)"
log=$ql_build/quickstart-check.log
stamp=$ql_build/quickstart-check.stamp
: >"$stamp"
set +e
# Serial on purpose: check-TESTS and the pytest run would interleave.
# Unbuffered, so pytest's progress shows as it goes despite the pipe.
PYTHONUNBUFFERED=1 make --no-print-directory -C "$ql_build" check 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# pytest's final line: "=== 12 passed, 3 skipped in 40.1s ===" (or, with
# -q, without the rules); "no tests ran in 0.01s" when nothing was collected.
summary_re='^(=+ )?(no tests ran|[0-9]+ [a-z]+(, [0-9]+ [a-z]+)*) in [0-9.]+s( \([0-9:]+\))?( =+)?$'
find_summary() {
  sed 's/\x1b\[[0-9;]*m//g' "$@" 2>/dev/null | grep -E "$summary_re" | tail -n 1
}
summary=$(find_summary "$log" || true)
if [ -z "$summary" ]; then
  # The test harness may have kept pytest's output in a log of its own.
  mapfile -t logs < <(find "$ql_build" -name '*.log' -newer "$stamp" \
                        ! -name 'quickstart-*' ! -name config.log 2>/dev/null)
  if [ ${#logs[@]} -gt 0 ]; then
    summary=$(find_summary "${logs[@]}" || true)
  fi
fi
rm -f "$stamp"

if [ -z "$summary" ]; then
  echo "quickstart: pytest printed no summary line: the test suite did not run (make check exit status $status)" >&2
  exit 1
fi
said=false
case $summary in
  *' passed'*) ;;
  *)
    # A run in which nothing passed tested nothing: a defect, not a success.
    if [ "$status" -eq 0 ]; then
      echo "quickstart: no test passed" >&2
      said=true
      status=1
    fi
    ;;
esac
if [ "$status" -ne 0 ]; then
  echo "quickstart: make check failed (exit status $status); full output: $log" >&2
  said=true
fi
# Whatever came after it (make's or the harness's own lines, our messages),
# the summary is what a reader looks for: end with it.
if $said || [ "$(tail -n 1 "$log" | sed 's/\x1b\[[0-9;]*m//g')" != "$summary" ]; then
  printf '%s\n' "$summary"
fi
exit "$status"
