#!/bin/bash
# bench/chain.sh: chain search benchmark.  One target (bench/chain_target.py)
# holds a filler heap of about N objects and two leaked objects: one at the
# end of a narrow chain, one reached through a class with hundreds of live
# instances.  In that same process, pyleaks' py-chain (first query of an
# attach, which builds the reverse index, and a second query on the same
# stop) is timed next to objgraph.find_backref_chain(obj, is_proper_module),
# and a markdown table is printed with PASS/MISS against issue 3's targets.
# A benchmark, not a test: it is never run by make check.

set -u

usage() {
  cat <<EOF
Usage: bench/chain.sh [--objects 10M] [--python PATH] [--builddir DIR]
                      [--runs N] [--cap SECONDS] [--depth N]
                      [--links L] [--instances K] [--out FILE]

  --objects N      filler heap size in census objects; a number with an
                   optional k or M suffix (default: 10M)
  --python PATH    the target interpreter, any supported CPython with debug
                   symbols (default: /usr/bin/python3.11)
  --builddir DIR   the build tree whose ./pyleaks wrapper is measured
                   (default: \$PYLEAKS_BUILDDIR, else ./build)
  --runs N         rounds of pyleaks attaches (default: 5); each round is
                   two attaches that ask both chains, narrow first then
                   fan-in first, and one fresh attach per chain
  --cap SECONDS    give up on objgraph after this long (default: 600)
  --depth N        objgraph's max_depth (default: 100; the search stops at
                   the first module, so a depth beyond the chain's length
                   costs nothing)
  --links L        containers in the narrow chain (default: 30)
  --instances K    live instances of the fan-in class (default: 500)
  --out FILE       also write the report to FILE

The report (markdown) goes to stdout, progress to stderr.  objgraph runs
once per chain (minutes on 10M objects).
EOF
}

# shellcheck source=bench/lib.sh
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) &&
  . "$bench_dir/lib.sh" || { echo "bench: cannot read bench/lib.sh" >&2; exit 1; }

objects=10M
python=/usr/bin/python3.11
builddir=${PYLEAKS_BUILDDIR:-./build}
runs=5
cap=600
depth=100
links=30
instances=500
out=
command_line=$(quoted_command_line bench/chain.sh "$@")
parse_options objects python builddir runs cap depth links instances out -- "$@"

target_script=$bench_dir/chain_target.py
check_setup "$target_script" "$bench_dir/heap_target.py" "runs=$runs" "cap=$cap" "depth=$depth" \
  "links=$links" "instances=$instances"
objects_word=$objects
objects=$(parse_count "$objects_word") || die "bad size '$objects_word' (expected e.g. 500k, 1M, 10M)" 2

trap 'cleanup_target; exit 130' INT TERM
tmp=$(mktemp -d /tmp/pyleaks-bench.XXXXXX) || die "mktemp failed"
trap 'cleanup_target; rm -rf "$tmp"' EXIT

chains=(narrow fanin)
declare -A name=([narrow]="narrow: $links containers" [fanin]="fan-in: class with $instances instances")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
failed=
fail() {
  failed=${failed:-$1}
  progress "$1"
}

# The target takes about 100 bytes per object, the helper under 100.
avail=$(mem_available_kib)
[ $((objects / 1024 * 200)) -le "$avail" ] ||
  die "$objects_word objects need about $((objects / 1024 * 200 / 1024)) MiB, $((avail / 1024)) MiB available"

progress "building the heap: $objects_word objects, $links-container chain, $instances instances ($python)"
# shellcheck disable=SC2034  # lib.sh reads and writes TARGET's pipes
coproc TARGET { exec "$python" "$target_script" --objects "$objects" --links "$links" --instances "$instances"; }
target_pid=$TARGET_PID
shown_pid=$target_pid
ready=$(target_read 1800)
case $ready in
  "ready pid=$target_pid "*) ;;
  *) die "the target did not start${ready:+ (it said: $ready)}" ;;
esac
python_version=$(tfield "$ready" python)
declare -A addr=([narrow]=$(tfield "$ready" narrow) [fanin]=$(tfield "$ready" fanin))
progress "pid $target_pid, Python $python_version, expected census ~$(tfield "$ready" expected) objects, built in $(tfield "$ready" build_s) s; narrow leak ${addr[narrow]}, fan-in leak ${addr[fanin]}"

# Per chain, space-separated samples over the runs.
declare -A first=() second=() cold=() cold_wall=() reused=() hops=() root=() chain_note=()
walks=() census_elapsed=() attach_walls=() totals=() tracked=()

# py-chain --json: "elapsed_s" is the last field; the hop addresses are
# every "address" (reprs cannot match: their quotes are escaped).
chain_elapsed() { sed -n 's/.*,"elapsed_s":\([^,}]*\)}$/\1/p' <<<"$1"; }
chain_hops() { grep -o '"address":"0x[0-9a-f]*"' <<<"$1" | sed 's/.*"\(0x[0-9a-f]*\)"/\1/' | tr '\n' ' '; }
chain_root() { sed -n 's/.*"root":{"kind":"\([a-z]*\)","description":"\([^"]*\)"}.*/\2 (\1)/p' <<<"$1"; }

# Checks one py-chain --json answer for chain $1 and keeps its hops; a
# later answer must give the same chain.
record_chain() {
  local c=$1 line=$2 h last
  h=$(chain_hops "$line")
  last=${h% }; last=${last##* }
  if [ "$last" != "${addr[$c]}" ]; then
    fail "py-chain ${addr[$c]} ($c) did not end at its target: $(head -c 300 <<<"$line")"
    return 1
  fi
  if [ -z "${hops[$c]:-}" ]; then
    hops[$c]=$h
    root[$c]=$(chain_root "$line")
  elif [ "${hops[$c]}" != "$h" ]; then
    chain_note[$c]="attaches gave different chains"
  fi
}

for ((r = 1; r <= runs; r++)); do
  for order in "narrow fanin" "fanin narrow"; do
    read -r a b <<<"$order"
    progress "run $r/$runs: pyleaks --pid $target_pid -c 'py-leaks --json' -c 'py-chain ${addr[$a]} --json' ($a) -c 'py-chain ${addr[$b]} --json' ($b) -c 'py-chain ${addr[$b]}'"
    if ! run_pyleaks "$target_pid" 'py-leaks --json' "py-chain ${addr[$a]} --json" \
        "py-chain ${addr[$b]} --json" "py-chain ${addr[$b]}" ||
        [ "$(grep -c . <<<"$json_lines")" -ne 3 ]; then
      fail "pyleaks failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
      break 2
    fi
    census=$(sed -n 1p <<<"$json_lines")
    one=$(sed -n 2p <<<"$json_lines")
    two=$(sed -n 3p <<<"$json_lines")
    record_chain "$a" "$one" && record_chain "$b" "$two" || break 2
    walks+=("$(jfield "$census" walk_s)")
    census_elapsed+=("$(jfield "$census" elapsed_s)")
    totals+=("$(jfield "$census" total_objects)")
    tracked+=("$(jfield "$census" gc_tracked)")
    attach_walls+=("$wall")
    first[$a]+="$(chain_elapsed "$one") "
    second[$b]+="$(chain_elapsed "$two") "
    # The text answer is the one that says whether the index was reused.
    if grep -q '^pyleaks: chain to .*reverse index reused' "$tmp/out"; then
      reused[$b]+="yes "
    else
      reused[$b]+="no "
    fi
  done
  for c in "${chains[@]}"; do
    progress "run $r/$runs: pyleaks --pid $target_pid -c 'py-chain ${addr[$c]} --json' ($c, fresh attach)"
    if ! run_pyleaks "$target_pid" "py-chain ${addr[$c]} --json" || [ -z "$json_lines" ]; then
      fail "pyleaks failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
      break 2
    fi
    record_chain "$c" "$json_lines" || break 2
    cold[$c]+="$(chain_elapsed "$json_lines") "
    cold_wall[$c]+="$wall "
  done
done

# objgraph in the same process, after pyleaks: its gc.collect() and the
# worker thread then cannot touch what pyleaks measured.
declare -A og_s=() og_capped=() og_chain=() og_len=() og_scans=()
if [ -z "$failed" ]; then
  for c in "${chains[@]}"; do
    progress "objgraph.find_backref_chain(<$c leak>, is_proper_module, max_depth=$depth) in the target, capped at $cap s"
    reply=$(target_ask "objgraph $c $depth $cap" $((cap + 900))) || { fail "objgraph run ($c) did not answer"; break; }
    og_scans[$c]=$(tfield "$reply" dequeued)
    case $reply in
      objgraph_s=*)
        og_s[$c]=$(tfield "$reply" objgraph_s)
        og_capped[$c]=no
        og_len[$c]=$(tfield "$reply" length)
        og_chain[$c]=$(tfield "$reply" chain)
        if [ "$(tfield "$reply" found)" = 1 ]; then
          og_scans[$c]=$((og_scans[$c] - 1))   # not the module it stops at
        else
          og_chain[$c]=
        fi
        progress "objgraph ($c): $(secs "${og_s[$c]}"), chain of ${og_len[$c]} objects" ;;
      capped=*)
        og_s[$c]=$(tfield "$reply" waited_s)
        og_capped[$c]=yes
        progress "objgraph ($c): still searching after $(secs "${og_s[$c]}"), stopped" ;;
      *) fail "objgraph ($c) said: $reply"; break ;;
    esac
  done
fi

rss_peak=$(status_kib "$target_pid" VmHWM)
target_quit
[ -n "$failed" ] || [ "$exit_status" = 0 ] ||
  fail "the target did not exit cleanly (status ${exit_status:-unknown})"

# Does pyleaks' chain follow objgraph's?  objgraph lists every object on
# the way, pyleaks folds a module's, a class's or an instance's __dict__
# into the next hop's label (.attr): pyleaks' hops must be objgraph's
# objects in the same order, and all the others dicts.  Sets agree_cell.
agree() {
  local c=$1 entry a t i=0 folded=0
  local -a pl og
  read -r -a pl <<<"${hops[$c]:-}"
  IFS=, read -r -a og <<<"${og_chain[$c]:-}"
  agree_ok=no
  if [ "${og_capped[$c]:-}" = yes ]; then
    agree_cell="not compared (objgraph capped)"
    agree_ok=na
    return
  fi
  if [ ${#og[@]} -eq 0 ]; then
    agree_cell="objgraph found no chain within max_depth=$depth"
    return
  fi
  for entry in "${og[@]}"; do
    a=${entry%%:*} t=${entry#*:}
    if [ $i -lt ${#pl[@]} ] && [ "$a" = "${pl[$i]}" ]; then
      i=$((i + 1))
    elif [ "$t" = dict ]; then
      folded=$((folded + 1))
    else
      agree_cell="NO: objgraph's $a ($t) is not on pyleaks' chain"
      return
    fi
  done
  if [ $i -ne ${#pl[@]} ]; then
    agree_cell="NO: pyleaks' hop ${pl[$i]} is not on objgraph's chain"
    return
  fi
  agree_ok=yes
  agree_cell="yes: the same objects, and objgraph's $folded more are the __dict__s pyleaks folds into .attr labels"
}

x_cell() {
  # speedup of $2 over $1 seconds of objgraph; "≥" when objgraph was capped
  awk -v o="$1" -v p="$2" -v c="$3" 'BEGIN { if (p <= 0) print "?"; else printf "%s%.0fx", (c == "yes" ? "≥ " : ""), o / p }'
}
og_cell() {
  if [ "${og_capped[$1]}" = yes ]; then
    echo "> $(secs "${og_s[$1]}") (capped, search stopped after ${og_scans[$1]} gc.get_referrers() scans)"
  else
    echo "$(secs "${og_s[$1]}") (${og_scans[$1]} gc.get_referrers() scans)"
  fi
}
words() {
  # $1's words, single-spaced
  echo $1
}
range_cell() {
  echo "$(secs "$(median "$1")") (min $(secs "$(minimum "$1")"), max $(secs "$(maximum "$1")"))"
}

rows=()
declare -A med_first=() med_second=() max_second=() agree_state=()
if [ -z "$failed" ]; then
  for c in "${chains[@]}"; do
    agree "$c"
    agree_state[$c]=$agree_ok
    n_hops=$(wc -w <<<"${hops[$c]}")
    med_first[$c]=$(median "${first[$c]}")
    med_second[$c]=$(median "${second[$c]}")
    max_second[$c]=$(maximum "${second[$c]}")
    og_len_cell="${og_len[$c]:-?} objects"
    [ "${og_capped[$c]}" = yes ] && og_len_cell="none (capped)"
    rows+=("| ${name[$c]} | $n_hops hops from ${root[$c]}${chain_note[$c]:+ (${chain_note[$c]})} | $og_len_cell | $agree_cell | $(og_cell "$c") | $(range_cell "${first[$c]}") | $(x_cell "${og_s[$c]}" "${med_first[$c]}" "${og_capped[$c]}") | $(range_cell "${second[$c]}") | $(x_cell "${og_s[$c]}" "${med_second[$c]}" "${og_capped[$c]}") | $(secs "$(median "${cold[$c]}")") / $(secs "$(median "${cold_wall[$c]}")") |")
  done
fi

# One verdict over the chains $3... : $1 the name, $2 a function that
# prints chain C's figure and fails when it misses.
verdict_chains() {
  local label=$1 fn=$2 c cells='' misses='' n=0 cell
  shift 2
  for c in "$@"; do
    n=$((n + 1))
    [ -z "$cells" ] || cells+=", "
    cell=$("$fn" "$c") || misses+=x
    cells+="${c/fanin/fan-in}: $cell"
  done
  verdict "$label" "$cells" "$misses" "$n"
}
v_first() {
  secs "${med_first[$1]}"
  awk -v s="${med_first[$1]}" 'BEGIN { exit !(s < 2) }'
}
v_first_x() {
  local want=$2
  x_cell "${og_s[$1]}" "${med_first[$1]}" "${og_capped[$1]}"
  awk -v o="${og_s[$1]}" -v p="${med_first[$1]}" -v w="$want" 'BEGIN { exit !(o >= w * p) }'
}
v_first_x5() { v_first_x "$1" 5; }
v_first_x50() { v_first_x "$1" 50; }
v_second() {
  echo "$(secs "${med_second[$1]}") (max $(secs "${max_second[$1]}"))"
  awk -v s="${med_second[$1]}" 'BEGIN { exit !(s < 0.2) }'
}
v_second_x() {
  x_cell "${og_s[$1]}" "${med_second[$1]}" "${og_capped[$1]}"
  awk -v o="${og_s[$1]}" -v p="${med_second[$1]}" 'BEGIN { exit !(o >= 100 * p) }'
}
v_reused() {
  local n_no
  n_no=$(grep -o no <<<"${reused[$1]}" | wc -l)
  echo "$(wc -w <<<"${reused[$1]}") attaches, $n_no not reused"
  [ "$n_no" -eq 0 ]
}
v_agree() {
  echo "${agree_state[$1]/na/not compared}"
  [ "${agree_state[$1]}" != no ]
}
v_cold() {
  secs "$(median "${cold[$1]}")"
  awk -v s="$(median "${cold[$1]}")" 'BEGIN { exit !(s < 2) }'
}

report() {
  report_head "pyleaks chain search benchmark"
  echo "Heap: ${totals[0]:-?} objects in the census (${tracked[0]:-?} gc-tracked), Python $python_version, one target process (pid $shown_pid, peak VmRSS $((${rss_peak:-0} / 1024)) MiB). Census walk before the chain queries (py-leaks --json in the same attach): walk $(range_cell "${walks[*]:-}"); the whole attach (census, two chain queries, one more in text) $(range_cell "${attach_walls[*]:-}") end to end."
  echo
  echo "| chain | pyleaks py-chain | objgraph chain | same chain | objgraph find_backref_chain | pyleaks 1st query (builds reverse index) | objgraph / 1st | 2nd query, same stop | objgraph / 2nd | fresh attach, \`py-chain\` alone: helper (walk incl.) / end to end |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "pyleaks times are the helper's elapsed_s (docs/json.md), medians of $runs run(s). 1st query: the first py-chain of an attach whose graph py-leaks had just built (so it is the chain search alone: reverse index, roots, search); each chain is asked first in $runs attach(es) and second in $runs others (2nd query: after the other chain's query, on the same stop, reverse index reused). The fresh attach runs \`pyleaks --pid PID -c 'py-chain ADDR --json'\` alone: its elapsed_s includes the walk, the end-to-end time gdb's start and detach too. objgraph: \`objgraph.find_backref_chain(obj, objgraph.is_proper_module, max_depth=$depth)\` once per chain in a worker thread of the same target, timed with time.perf_counter() (its own gc.collect() included; each object its breadth-first search takes off the queue costs one gc.get_referrers(), a scan of every gc-tracked object), is_proper_module wrapped in a cancel check so that the search can be stopped after $cap s (cap: $cap s; a capped search counts as $cap s, a lower bound, hence ≥ speedups)."
  echo
  echo "Targets (issue 3):"
  if [ -n "$failed" ]; then
    echo "- not measured: $failed"
  else
    verdict_chains "first chain < 2 s including building the reverse index" v_first "${chains[@]}"
    verdict_chains "first chain ≥ 5x faster than objgraph on the narrow chain" v_first_x5 narrow
    verdict_chains "first chain ≥ 50x faster than objgraph on the fan-in chain" v_first_x50 fanin
    verdict_chains "later queries on the same stop < 0.2 s" v_second "${chains[@]}"
    verdict_chains "later queries ≥ 100x faster than objgraph" v_second_x "${chains[@]}"
    echo
    echo "Checks:"
    verdict_chains "the second query reused the reverse index" v_reused "${chains[@]}"
    verdict_chains "pyleaks' chain is objgraph's shortest chain" v_agree "${chains[@]}"
    verdict_chains "(not an issue target) fresh attach: py-chain alone, walk included, < 2 s" v_cold "${chains[@]}"
  fi
  echo
  machine_line "$load_start"
  echo "Target: $python (Python ${python_version:-?}); objgraph $("$python" -c 'import sys; sys.path.append("/usr/lib/python3/dist-packages"); import objgraph; print(objgraph.__version__)' 2>/dev/null || echo '?'); $("$wrapper" --version 2>/dev/null); $(gdb --version 2>/dev/null | head -1)"
  source_line "$bench_dir" "$builddir"
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Details:"
  for c in "${chains[@]}"; do
    echo "- $c leak ${addr[$c]}: 1st elapsed_s $(words "${first[$c]:-}"); 2nd elapsed_s $(words "${second[$c]:-}"); fresh attach elapsed_s $(words "${cold[$c]:-}"), end to end $(words "${cold_wall[$c]:-}") s; objgraph ${og_s[$c]:-?} s; pyleaks hops $(words "${hops[$c]:-}")"
  done
  echo "- census walk_s ${walks[*]:-}; census elapsed_s ${census_elapsed[*]:-}; attach walls ${attach_walls[*]:-} s"
}

if [ -n "$out" ]; then
  report | tee "$out"
else
  report
fi
# MISS is a result; a measurement that could not be made is a failure.
[ -z "$failed" ]
