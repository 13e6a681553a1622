#!/bin/bash
# bench/refs.sh: py-refs, py-backrefs and py-chain on big containers.  For
# each size N, one target (bench/refs_target.py) holds a dict of N keys,
# a list of N distinct nodes that all hold one sentinel, and a list of
# one object N times.  In one attach, after a census, pyleaks asks with
# the default --max: py-refs of each container, py-backrefs of the
# sentinel (N referrers), py-chain of the list's last node and of the
# dict's last value; each helper time is the command's elapsed_s
# (docs/json.md).  A markdown table shows how the times grow from size to
# size (linear: x10 entries, about x10 time at most) and whether a
# default py-refs of the largest dict answers faster than the census of
# the same heap.  A benchmark, not a test: never run by make check.

set -u

usage() {
  cat <<EOF
Usage: bench/refs.sh [--sizes '10k 100k 1M'] [--python PATH]
                     [--builddir DIR] [--runs N] [--out FILE]

  --sizes LIST     container sizes, each a number with an optional k or M
                   suffix (default: '10k 100k 1M')
  --python PATH    the target interpreter, any supported CPython with debug
                   symbols (default: /usr/bin/python3.11)
  --builddir DIR   the build tree whose ./pyleaks wrapper is measured
                   (default: \$PYLEAKS_BUILDDIR, else ./build)
  --runs N         attaches per size (default: 3); medians are reported
  --out FILE       also write the report to FILE

The report (markdown) goes to stdout, progress to stderr.
EOF
}

# shellcheck source=bench/lib.sh
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) &&
  . "$bench_dir/lib.sh" || { echo "bench: cannot read bench/lib.sh" >&2; exit 1; }

sizes='10k 100k 1M'
python=/usr/bin/python3.11
builddir=${PYLEAKS_BUILDDIR:-./build}
runs=3
out=
command_line=$(quoted_command_line bench/refs.sh "$@")
parse_options sizes python builddir runs out -- "$@"

target_script=$bench_dir/refs_target.py
check_setup "$target_script" "runs=$runs"
counts=()
for word in $sizes; do
  n=$(parse_count "$word") && [ "$n" -ge 2 ] || die "bad size '$word' (expected e.g. 10k, 100k, 1M)" 2
  counts+=("$n")
done
[ ${#counts[@]} -gt 0 ] || die "--sizes is empty" 2

trap 'cleanup_target; exit 130' INT TERM
tmp=$(mktemp -d /tmp/pyleaks-bench.XXXXXX) || die "mktemp failed"
trap 'cleanup_target; rm -rf "$tmp"' EXIT

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
failed=
fail() {
  failed=${failed:-$1}
  progress "$1"
}

# The columns: what is asked, and its JSON answer's line in an attach.
cols=(census refs_dict refs_list refs_dup backrefs chain_list chain_dict)
declare -A title=(
  [census]="census (py-leaks)"
  [refs_dict]="py-refs dict"
  [refs_list]="py-refs list"
  [refs_dup]="py-refs list of one object"
  [backrefs]="py-backrefs sentinel (builds reverse index, roots)"
  [chain_list]="py-chain list item"
  [chain_dict]="py-chain dict value")
# Samples per size and column ("N:col" -> space-separated seconds).
declare -A samples=() objects=() fresh=() python_version=()

# A field of a JSON line that is not inside its arrays (jfield cuts only
# a census's): totals come before, elapsed_s after, the rows.
field() {
  sed -n "s/.*[{,]\"$2\":\\([^,}]*\\).*/\\1/p" <<<"$1"
}
# The address of the last hop of a py-chain --json line.
last_hop() {
  grep -o '"address":"0x[0-9a-f]*"' <<<"$1" | tail -1 | sed 's/.*"\(0x[0-9a-f]*\)"/\1/'
}

measure() {
  local n=$1 ready pid r want line col total target j
  local -A addr=()
  progress "size $n: building the target ($python)"
  # shellcheck disable=SC2034  # lib.sh reads and writes TARGET's pipes
  coproc TARGET { exec "$python" "$target_script" "$n"; }
  target_pid=$TARGET_PID
  ready=$(target_read 600)
  case $ready in
    "ready pid=$target_pid "*) ;;
    *) fail "the target of size $n did not start${ready:+ (it said: $ready)}"; cleanup_target; return 1 ;;
  esac
  pid=$target_pid
  python_version[$n]=$(tfield "$ready" python)
  for k in dict list dup sentinel last_node dict_leaf; do
    addr[$k]=$(tfield "$ready" "$k")
  done
  for ((r = 1; r <= runs; r++)); do
    progress "size $n, run $r/$runs: pyleaks --pid $pid -c 'py-leaks --json' -c 'py-refs ... --json' (x3) -c 'py-backrefs ${addr[sentinel]} --json' -c 'py-chain ... --json' (x2)"
    if ! run_pyleaks "$pid" 'py-leaks --json' "py-refs ${addr[dict]} --json" \
        "py-refs ${addr[list]} --json" "py-refs ${addr[dup]} --json" \
        "py-backrefs ${addr[sentinel]} --json" "py-chain ${addr[last_node]} --json" \
        "py-chain ${addr[dict_leaf]} --json" ||
        [ "$(grep -c . <<<"$json_lines")" -ne 7 ]; then
      fail "pyleaks failed (size $n): $(head -3 "$tmp/err" | tr '\n' ' ')"
      break
    fi
    mapfile -t j <<<"$json_lines"
    objects[$n]=$(jfield "${j[0]}" total_objects)
    samples[$n:census]+="$(jfield "${j[0]}" elapsed_s) "
    # Every answer is checked: the totals against the target's sizes,
    # the chains' ends against their targets.
    for want in "1:refs_dict:$((2 * n))" "2:refs_list:$n" "3:refs_dup:$n" "4:backrefs:$n"; do
      IFS=: read -r line col total <<<"$want"
      if [ "$(field "${j[$line]}" total)" != "$total" ]; then
        fail "size $n: ${title[$col]} gave total $(field "${j[$line]}" total), expected $total"
        break 2
      fi
      samples[$n:$col]+="$(field "${j[$line]}" elapsed_s) "
    done
    for want in "5:chain_list:${addr[last_node]}" "6:chain_dict:${addr[dict_leaf]}"; do
      IFS=: read -r line col target <<<"$want"
      if [ "$(last_hop "${j[$line]}")" != "$target" ]; then
        fail "size $n: ${title[$col]} did not end at $target: $(head -c 300 <<<"${j[$line]}")"
        break 2
      fi
      samples[$n:$col]+="$(field "${j[$line]}" elapsed_s) "
    done
    progress "size $n, run $r/$runs: pyleaks --pid $pid -c 'py-refs ${addr[dict]} --json' (fresh attach)"
    if ! run_pyleaks "$pid" "py-refs ${addr[dict]} --json" || [ -z "$json_lines" ]; then
      fail "pyleaks failed (size $n): $(head -3 "$tmp/err" | tr '\n' ' ')"
      break
    fi
    fresh[$n]+="$wall "
  done
  target_quit
  [ -n "$failed" ] || [ "$exit_status" = 0 ] ||
    fail "the target of size $n did not exit cleanly (status ${exit_status:-unknown})"
  [ -z "$failed" ]
}

for n in "${counts[@]}"; do
  measure "$n" || break
done

med() { median "${samples[$1:$2]:-}"; }
# Growth is judged on each size's fastest run: the one other work on the
# machine disturbed least (a median of a few runs still moves with it).
fast() { minimum "${samples[$1:$2]:-}"; }
cell() {
  local s
  s=$(med "$1" "$2")
  [ -n "$s" ] && secs "$s" || echo "?"
}
ratio() {
  # t(N) / t(previous N): "x8.7"
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b <= 0) print "?"; else printf "x%.1f", a / b }'
}

report() {
  local n prev c row
  report_head "pyleaks references benchmark (py-refs, py-backrefs, py-chain on big containers)"
  row="| entries N | heap objects |"
  for c in "${cols[@]}"; do row+=" ${title[$c]} |"; done
  echo "$row fresh attach \`py-refs dict\` end to end |"
  row="|---|---|"
  for c in "${cols[@]}"; do row+="---|"; done
  echo "$row---|"
  for n in "${counts[@]}"; do
    row="| $(awk -v n="$n" 'BEGIN { printf "%\047d", n }') | ${objects[$n]:-?} |"
    for c in "${cols[@]}"; do row+=" $(cell "$n" "$c") |"; done
    echo "$row $(secs "$(median "${fresh[$n]:-}")") |"
  done
  prev=
  for n in "${counts[@]}"; do
    if [ -n "$prev" ]; then
      row="| growth $prev → $n (fastest runs) | x$(awk -v a="$n" -v b="$prev" 'BEGIN { printf "%.0f", a / b }') |"
      for c in "${cols[@]}"; do row+=" $(ratio "$(fast "$n" "$c")" "$(fast "$prev" "$c")") |"; done
      echo "$row $(ratio "$(minimum "${fresh[$n]:-}")" "$(minimum "${fresh[$prev]:-}")") |"
    fi
    prev=$n
  done
  echo
  echo "Helper times are each command's elapsed_s (docs/json.md), medians of $runs attach(es) per size (growth rows and verdicts: the fastest run of each size, the one other work on the machine disturbed least); one attach runs, in this order, \`py-leaks --json\` (the census: walk included), \`py-refs\` of the dict (2N references: keys and values), of the list of N nodes and of the list of one object N times, \`py-backrefs\` of the sentinel the N nodes hold (N referrers; the first query of the attach that walks references backwards, so it builds the reverse index and the roots), \`py-chain\` of the list's last node and of the dict's last value (reverse index reused), all with the default --max (100 rows). Every answer's total is checked against N, every chain's end against its target. The fresh attach is \`pyleaks --pid PID -c 'py-refs DICT --json'\` alone, timed end to end (gdb's start, the walk, the query, the detach)."
  echo
  echo "Targets (issue 13):"
  if [ -n "$failed" ]; then
    echo "- not measured: $failed"
  else
    local big=${counts[-1]} misses cells
    for c in "${cols[@]}"; do
      [ "$c" = census ] && continue
      misses='' cells=''
      prev=
      for n in "${counts[@]}"; do
        if [ -n "$prev" ]; then
          [ -z "$cells" ] || cells+=", "
          cells+="$prev→$n $(ratio "$(fast "$n" "$c")" "$(fast "$prev" "$c")") for x$(awk -v a="$n" -v b="$prev" 'BEGIN { printf "%.0f", a / b }')"
          # Linear, not quadratic: x10 entries may cost up to x20 time
          # (data that leaves the caches costs more per entry), never the
          # x100 of a pass per entry over the container.
          awk -v a="$(fast "$n" "$c")" -v b="$(fast "$prev" "$c")" -v x="$n" -v y="$prev" \
            'BEGIN { exit !(b > 0 && a / b <= 2 * x / y) }' || misses+=x
        fi
        prev=$n
      done
      verdict "${title[$c]}: time grows linearly with N (at most x2 the growth of N)" "$cells" "$misses" "$((${#counts[@]} - 1))"
    done
    cells="py-refs $(cell "$big" refs_dict), census $(cell "$big" census) at N = $big"
    misses=
    awk -v a="$(med "$big" refs_dict)" -v b="$(med "$big" census)" 'BEGIN { exit !(a < b) }' || misses=x
    verdict "a default py-refs of the $big-key dict answers faster than the census of its heap" "$cells" "$misses" 1
  fi
  echo
  machine_line "$load_start"
  echo "Target: $python (Python ${python_version[${counts[0]}]:-?}); $("$wrapper" --version 2>/dev/null); $(gdb --version 2>/dev/null | head -1)"
  source_line "$bench_dir" "$builddir"
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Samples (seconds):"
  for n in "${counts[@]}"; do
    row="- N = $n:"
    for c in "${cols[@]}"; do row+=" $c $(echo ${samples[$n:$c]:-});"; done
    echo "$row fresh $(echo ${fresh[$n]:-})"
  done
}

if [ -n "$out" ]; then
  report | tee "$out"
else
  report
fi
# MISS is a result; a measurement that could not be made is a failure.
[ -z "$failed" ]
