#!/bin/bash
# bench/analysis.sh: the cost of py-leaks' leak analysis (reverse index,
# roots, dominator tree with retained sizes, findings) on top of the census.
# For each heap size, one target process (bench/heap_target.py) is attached
# twice per run: `py-leaks --json --no-analysis` (the census alone: walk
# time, helper peak) and `py-leaks --json` (the walk and the analysis).  A
# markdown table shows the helper's own times (docs/json.md), what the
# analysis adds after the walk, the helper memory it adds per object, and
# the target's RSS, with PASS/MISS against the issue's targets at the
# largest size.  A benchmark, not a test: never run by make check.

set -u

usage() {
  cat <<EOF
Usage: bench/analysis.sh [--sizes '1M 10M'] [--python PATH]
                         [--builddir DIR] [--runs N] [--out FILE]

  --sizes LIST     heap sizes in census objects, separated by spaces or
                   commas; each a number with an optional k or M suffix
                   (default: '1M 10M')
  --python PATH    the target interpreter, any supported CPython with debug
                   symbols (default: /usr/bin/python3.11); it also reads
                   pyleaks' JSON for this script
  --builddir DIR   the build tree whose ./pyleaks wrapper is measured
                   (default: \$PYLEAKS_BUILDDIR, else ./build)
  --runs N         runs per size, each two fresh attaches (census alone,
                   then census and analysis); medians are reported
                   (default: 3)
  --out FILE       also write the report to FILE

The report (markdown) goes to stdout, progress to stderr.
EOF
}

# shellcheck source=bench/lib.sh
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) &&
  . "$bench_dir/lib.sh" || { echo "bench: cannot read bench/lib.sh" >&2; exit 1; }

sizes='1M 10M'
python=/usr/bin/python3.11
builddir=${PYLEAKS_BUILDDIR:-./build}
runs=3
out=
command_line=$(quoted_command_line bench/analysis.sh "$@")
parse_options sizes python builddir runs out -- "$@"

target_script=$bench_dir/heap_target.py
check_setup "$target_script" "runs=$runs"
counts=()
for word in ${sizes//,/ }; do
  n=$(parse_count "$word") && [ "$n" -ge 1 ] || die "bad size '$word' (expected e.g. 500k, 1M, 10M)" 2
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

# The issue's targets.
after_walk_target=3      # seconds after the walk, on the largest heap
extra_bpo_target=24      # extra helper bytes per object for the analysis

# Values of one JSON line (stdin), one per line, for each KEY given (a.b
# for a key of a nested object): empty when absent, true/false/null as in
# JSON.  The analysis object has an elapsed_s of its own, so the census's
# sed-based jfield cannot be used here.
json_get_py='
import json, sys
try:
    doc = json.loads(sys.stdin.readline())
except ValueError:
    doc = {}
for key in sys.argv[1:]:
    value = doc
    for part in key.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    if value == "" or isinstance(value, (dict, list)):
        print("present" if isinstance(value, (dict, list)) else "")
    elif isinstance(value, bool) or value is None:
        print(json.dumps(value))
    else:
        print(value)
'
json_get() {
  local line=$1
  shift
  printf '%s\n' "$line" | "$python" -c "$json_get_py" "$@"
}

# The target's peak RSS (VmHWM) is reset before each attach (clear_refs 5,
# Linux 4.0+), so that after it VmHWM − VmRSS before is the most the attach
# added to the target's resident memory: a measure of the helper's memory
# from outside it.  Empty when the kernel does not allow it.
hwm_reset() {
  { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null
}
# The target's CPU time so far (utime + stime, in clock ticks): the
# helper runs on the target's threads, which do nothing else meanwhile, so
# its rise over an attach is the helper's work, which a busy machine does
# not inflate the way it inflates the helper's elapsed times.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}

# Samples per size and key ("N:key" -> space-separated values).
declare -A samples=() objects=() expected=() build_s=() python_version=()
declare -A rss=() reach=() flags=() mismatch=() after_mode=()

add() {
  samples[$1:$2]+="$3 "
}

# Keys of the analysing attach's JSON.
an_keys=(total_objects walk_s elapsed_s helper_peak_bytes graph_reused
  analysis analysis.elapsed_s analysis.reverse_s analysis.roots_s analysis.dominators_s
  analysis.findings_s analysis.reachable_objects analysis.reachable_bytes
  analysis.garbage_objects analysis.garbage_bytes analysis.dominators_reused)

# Every attach ends with this second command: a census of the graph already
# built (graph_reused, microseconds in the helper) whose helper_peak_bytes
# and helper_mapped_bytes are the attach's so far, the first command's
# analysis included (that command's own JSON gives the census' figures,
# taken before its analysis ran).  Both attaches run it, so that it does
# not bias their difference.
probe='py-leaks --json --no-analysis'

# One attach of size $1, run $2, kind $3 (census or analysis), pid $4,
# with the -c command $5 and the probe; the command's JSON line in
# $attach_json; its wall time, VmHWM rise, and the probe's helper peak
# and mapped bytes recorded as samples.  Fails when pyleaks did.
attach() {
  local n=$1 r=$2 kind=$3 pid=$4 cmd=$5 before hwm v cpu0 cpu1
  progress "size $n, run $r/$runs: pyleaks --pid $pid -c '$cmd' -c '$probe'"
  before=$(status_kib "$pid" VmRSS)
  attach_hwm=
  hwm_reset "$pid" || before=
  cpu0=$(cpu_ticks "$pid")
  if ! run_pyleaks "$pid" "$cmd" "$probe" || [ "$(grep -c . <<<"$json_lines")" -ne 2 ]; then
    if grep -q 'unrecognized arguments: --no-analysis' "$tmp/err" "$tmp/out"; then
      fail "not measured: py-leaks does not know --no-analysis in this build (the analysis is not wired in yet)"
    else
      fail "not measured: pyleaks -c '$cmd' -c '$probe' failed (size $n): $(head -3 "$tmp/err" | tr '\n' ' ')"
    fi
    return 1
  fi
  cpu1=$(cpu_ticks "$pid")
  [ -z "$cpu0" ] || [ -z "$cpu1" ] || add "$n" "${kind}_cpu" "$(calc "($cpu1 - $cpu0) / $clk_tck")"
  hwm=$(status_kib "$pid" VmHWM)
  [ -z "$before" ] || [ -z "$hwm" ] || attach_hwm=$(((hwm - before) * 1024))
  attach_json=$(sed -n 1p <<<"$json_lines")
  mapfile -t v < <(json_get "$(sed -n 2p <<<"$json_lines")" graph_reused helper_peak_bytes helper_mapped_bytes)
  [ "${v[0]}" = true ] || flags[$n]+="$kind attach $r: the probe's graph_reused ${v[0]:-absent}, its peak is not the first command's; "
  add "$n" "${kind}_wall" "$wall"
  add "$n" "${kind}_hwm" "$attach_hwm"
  add "$n" "${kind}_peak" "${v[1]}"
  add "$n" "${kind}_mapped" "${v[2]}"
  attach_peak=${v[1]}
}

measure() {
  local n=$1 ready pid r v total c_peak c_total c_hwm post
  # The target takes about 100 bytes per object, the helper about 40 for
  # the census and (the issue's target) 24 more for the analysis, gdb
  # some too; 250 leaves room for an analysis that misses it.
  local avail
  avail=$(mem_available_kib)
  if [ $((n / 1024 * 250)) -gt "$avail" ]; then
    fail "not measured: $n objects need about $((n / 1024 * 250 / 1024)) MiB, $((avail / 1024)) MiB available"
    return 1
  fi
  progress "size $n: building the heap ($python)"
  # shellcheck disable=SC2034  # lib.sh reads and writes TARGET's pipes
  coproc TARGET { exec "$python" "$target_script" --objects "$n"; }
  target_pid=$TARGET_PID
  ready=$(target_read 1800)
  case $ready in
    "ready pid=$target_pid "*) ;;
    *) fail "not measured: the target of size $n did not start${ready:+ (it said: $ready)}"; cleanup_target; return 1 ;;
  esac
  pid=$target_pid
  python_version[$n]=$(tfield "$ready" python)
  expected[$n]=$(tfield "$ready" expected)
  build_s[$n]=$(tfield "$ready" build_s)
  progress "size $n: pid $pid, Python ${python_version[$n]}, expected census ~${expected[$n]} objects, built in ${build_s[$n]} s"
  rss[$n]="$(status_kib "$pid" VmRSS) $(status_kib "$pid" RssAnon)"

  for ((r = 1; r <= runs; r++)); do
    # The census alone.
    attach "$n" "$r" census "$pid" 'py-leaks --json --no-analysis' || break
    mapfile -t v < <(json_get "$attach_json" total_objects walk_s elapsed_s graph_reused analysis)
    c_total=${v[0]} c_peak=$attach_peak c_hwm=$attach_hwm
    add "$n" census_walk "${v[1]}"
    add "$n" census_elapsed "${v[2]}"
    [ "${v[3]}" = false ] || flags[$n]+="census attach $r: graph_reused ${v[3]:-absent}; "
    [ -z "${v[4]}" ] || fail "not measured: py-leaks --json --no-analysis still printed an \"analysis\" object"
    # The census and the analysis.
    attach "$n" "$r" analysis "$pid" 'py-leaks --json' || break
    mapfile -t v < <(json_get "$attach_json" "${an_keys[@]}")
    total=${v[0]}
    objects[$n]=$total
    add "$n" walk "${v[1]}"
    add "$n" elapsed "${v[2]}"
    add "$n" json_peak "${v[3]}"
    [ "${v[4]}" = false ] || flags[$n]+="analysing attach $r: graph_reused ${v[4]:-absent}; "
    [ "$c_total" = "$total" ] || mismatch[$n]+="run $r: census $c_total, analysing $total; "
    if [ "${v[5]}" != present ]; then
      fail "not measured: py-leaks --json has no \"analysis\" object in this build (the analysis is not wired in yet)"
      continue
    fi
    add "$n" an_elapsed "${v[6]}"
    add "$n" reverse "${v[7]}"
    add "$n" roots "${v[8]}"
    add "$n" dominators "${v[9]}"
    add "$n" findings "${v[10]}"
    reach[$n]="${v[11]} ${v[12]} ${v[13]} ${v[14]}"
    [ "${v[15]}" = false ] || flags[$n]+="analysing attach $r: dominators_reused ${v[15]:-absent}; "
    # After the walk: what the command's elapsed_s has beyond walk_s, and
    # the analysis' elapsed_s unless elapsed_s already holds it (then it
    # is at least as long as the analysis).
    if [ -n "${v[1]}" ] && [ -n "${v[2]}" ] && [ -n "${v[6]}" ]; then
      post=$(calc "${v[2]} - ${v[1]}")
      if awk -v p="$post" -v a="${v[6]}" 'BEGIN { exit !(p >= a) }'; then
        after_mode[$n]=included
        add "$n" after "$post"
      else
        after_mode[$n]=separate
        add "$n" after "$(calc "$post + ${v[6]}")"
      fi
    fi
    if [ -n "$c_peak" ] && [ -n "$attach_peak" ] && [ -n "$total" ] && [ "$total" -gt 0 ]; then
      add "$n" extra_bpo "$(calc "($attach_peak - $c_peak) / $total")"
    fi
    if [ -n "$c_hwm" ] && [ -n "$attach_hwm" ] && [ -n "$total" ] && [ "$total" -gt 0 ]; then
      add "$n" extra_hwm_bpo "$(calc "($attach_hwm - $c_hwm) / $total")"
    fi
  done
  rss[$n]+=" $(status_kib "$pid" VmRSS) $(status_kib "$pid" RssAnon)"
  target_quit
  [ -n "$failed" ] || [ "$exit_status" = 0 ] ||
    fail "not measured: the target of size $n did not exit cleanly (status ${exit_status:-unknown})"
}

for n in "${counts[@]}"; do
  measure "$n"
  [ -z "$failed" ] || break
done

# lib.sh's median of no sample is 0: here it is nothing.
med() {
  local s=${samples[$1:$2]:-}
  [ -z "${s// /}" ] || median "$s"
}
# Seconds: "median (min–max)" when the runs differ.
tcell() {
  local s=${samples[$1:$2]:-} m lo hi
  m=$(med "$1" "$2")
  [ -n "$m" ] || { echo "?"; return; }
  lo=$(minimum "$s") hi=$(maximum "$s")
  if [ "$lo" = "$hi" ]; then secs "$m"; else echo "$(secs "$m") ($(secs "$lo")–$(secs "$hi"))"; fi
}
# Bytes, in the unit that suits them.
mib() {
  awk -v b="$1" 'BEGIN {
    if (b == "") print "?"
    else if (b < 1024 * 1024) printf "%.1f KiB", b / 1024
    else if (b < 1024 * 1024 * 1024) printf "%.1f MiB", b / 1048576
    else printf "%.2f GiB", b / 1073741824 }'
}
# Seconds that may be negative (a difference of two medians).
dsecs() {
  awk -v s="$1" 'BEGIN { exit !(s < 0) }' && echo "−$(secs "$(calc "-($1)")")" || secs "$1"
}
bcell() {
  local m
  m=$(med "$1" "$2")
  [ -n "$m" ] || { echo "?"; return; }
  echo "$(mib "$m") ($(awk -v b="$m" -v n="${objects[$1]:-0}" 'BEGIN { if (n > 0) printf "%.1f B/object", b / n; else print "?" }'))"
}
bpo_cell() {
  local s=${samples[$1:$2]:-} m
  m=$(med "$1" "$2")
  [ -n "$m" ] || { echo "?"; return; }
  awk -v m="$m" -v lo="$(minimum "$s")" -v hi="$(maximum "$s")" \
    'BEGIN { printf "%.1f B/object", m; if (lo != hi) printf " (%.1f–%.1f)", lo, hi }'
}
count() {
  [ -n "$1" ] && awk -v n="$1" 'BEGIN { printf "%\047d", n }' || echo "?"
}

report() {
  local n row c big=${counts[-1]} label
  report_head "pyleaks leak analysis benchmark (reverse index, roots, dominators, findings)"
  # How "after the walk" was made up (the same for every size, or mixed).
  local modes after_formula after_text
  modes=$(printf '%s\n' "${after_mode[@]}" | sort -u | tr '\n' ' ')
  case $modes in
    'included ') after_formula="elapsed_s − walk_s"
      after_text="the analysing command's elapsed_s − walk_s (its elapsed_s holds the analysis)" ;;
    'separate ') after_formula="elapsed_s − walk_s + analysis elapsed_s"
      after_text="the analysing command's elapsed_s − walk_s (the census' own work after the walk), plus the analysis' elapsed_s, which this build reports apart (the command's elapsed_s is its census call alone)" ;;
    '') after_formula="elapsed_s − walk_s, plus the analysis' elapsed_s if apart"
      after_text="the analysing command's elapsed_s − walk_s, plus the analysis' elapsed_s when elapsed_s does not hold it" ;;
    *) after_formula="elapsed_s − walk_s, plus the analysis' elapsed_s if apart"
      after_text="the analysing command's elapsed_s − walk_s, plus the analysis' elapsed_s where elapsed_s did not hold it (runs differed)" ;;
  esac
  row="| | "
  for n in "${counts[@]}"; do row+="$(count "$n") objects | "; done
  echo "${row% }"
  row="|---|"
  for n in "${counts[@]}"; do row+="---|"; done
  echo "$row"
  line() {
    local title=$1 fn=$2 key=${3:-}
    row="| $title |"
    for n in "${counts[@]}"; do row+=" $("$fn" "$n" "$key") |"; done
    echo "$row"
  }
  c_objects() { count "${objects[$1]:-}"; }
  c_reach() {
    local a
    read -r -a a <<<"${reach[$1]:-}"
    [ ${#a[@]} -eq 4 ] || { echo "?"; return; }
    echo "$(count "${a[0]}") ($(mib "${a[1]}")) / $(count "${a[2]}") ($(mib "${a[3]}"))"
  }
  c_rss() {
    local a
    read -r -a a <<<"${rss[$1]:-}"
    [ ${#a[@]} -eq 4 ] || { echo "?"; return; }
    echo "VmRSS $(mib $((a[0] * 1024))) → $(mib $((a[2] * 1024))) ($(kib $((a[2] - a[0])))), RssAnon $(kib $((a[3] - a[1])))"
  }
  # (extra(N) − extra(previous N)) / (objects(N) − objects(previous N)),
  # extra = median peak with − median peak without.
  c_slope() {
    local i prev=
    for i in "${!counts[@]}"; do
      [ "${counts[$i]}" = "$1" ] && break
      prev=${counts[$i]}
    done
    [ -n "$prev" ] || { echo "—"; return; }
    awk -v a1="$(med "$1" analysis_peak)" -v c1="$(med "$1" census_peak)" -v n1="${objects[$1]:-}" \
      -v a0="$(med "$prev" analysis_peak)" -v c0="$(med "$prev" census_peak)" -v n0="${objects[$prev]:-}" \
      'BEGIN { if (a1 == "" || c1 == "" || a0 == "" || c0 == "" || n1 == "" || n0 == "" || n1 == n0) { print "?"; exit }
        printf "%.1f B/object", ((a1 - c1) - (a0 - c0)) / (n1 - n0) }'
  }
  c_cpu_diff() {
    local a b
    a=$(med "$1" analysis_cpu) b=$(med "$1" census_cpu)
    [ -n "$a" ] && [ -n "$b" ] && dsecs "$(calc "$a - $b")" || echo "?"
  }
  c_e2e_diff() {
    local a b
    a=$(med "$1" analysis_wall) b=$(med "$1" census_wall)
    [ -n "$a" ] && [ -n "$b" ] && dsecs "$(calc "$a - $b")" || echo "?"
  }
  line "heap objects (census total_objects)" c_objects
  line "reachable / garbage objects (bytes), from the analysis" c_reach
  line "census alone: walk (walk_s)" tcell census_walk
  line "census alone: helper elapsed_s" tcell census_elapsed
  line "with analysis: walk (walk_s)" tcell walk
  line "with analysis: py-leaks elapsed_s" tcell elapsed
  line "reverse index (reverse_s)" tcell reverse
  line "roots (roots_s)" tcell roots
  line "dominator tree + retained sizes (dominators_s)" tcell dominators
  line "suspects, findings, big containers, per-type retained (findings_s)" tcell findings
  line "analysis elapsed_s" tcell an_elapsed
  line "**after the walk** ($after_formula)" tcell after
  line "helper peak, census alone (helper_peak_bytes)" bcell census_peak
  line "helper peak, with analysis (helper_peak_bytes after it)" bcell analysis_peak
  line "helper_peak_bytes in the analysing py-leaks' own JSON" bcell json_peak
  line "helper mapped after the analysis, until detach (helper_mapped_bytes)" bcell analysis_mapped
  line "**extra helper bytes per object** (peak with − peak without) / objects" bpo_cell extra_bpo
  line "extra helper bytes per object added since the previous size (Δ extra / Δ objects)" c_slope
  line "target peak RSS rise in the attach (VmHWM − VmRSS before), census alone" bcell census_hwm
  line "target peak RSS rise in the attach, with analysis" bcell analysis_hwm
  line "extra bytes per object by the target's VmHWM" bpo_cell extra_hwm_bpo
  line "target CPU time in the attach (utime + stime), census alone" tcell census_cpu
  line "target CPU time in the attach, with analysis" tcell analysis_cpu
  line "target CPU time difference (median with − median without)" c_cpu_diff
  line "pyleaks end to end, census alone" tcell census_wall
  line "pyleaks end to end, with analysis" tcell analysis_wall
  line "end-to-end difference (median with − median without)" c_e2e_diff
  line "target memory, before the first attach → after the last detach" c_rss
  echo
  echo "Each of the $runs run(s) per size is two fresh attaches of the same target: \`pyleaks --pid PID -c 'py-leaks --json --no-analysis' -c '$probe'\` (the census alone), then \`pyleaks --pid PID -c 'py-leaks --json' -c '$probe'\` (the census and the analysis). Times are medians (min–max) of the helper's own figures inside the target (docs/json.md): walk_s, elapsed_s, and the analysis' reverse_s, roots_s, dominators_s, findings_s and elapsed_s. \"After the walk\" is $after_text: everything the helper did after the walk, the reverse index and the roots included, since they are built for the analysis (a census alone needs neither); the holder chains py-leaks asks afterwards are in none of these, only in the end-to-end times. Helper peaks are the helper_peak_bytes of each attach's second command, a census of the graph already built (graph_reused, microseconds), so they count the first command's analysis: the analysing py-leaks' own JSON reports its census' peak, taken before the analysis ran. The extra helper memory is, per run, the analysing attach's peak − the census attach's, divided by the census objects; the target's VmHWM is reset (/proc/PID/clear_refs) before each attach and read after it, the same measured from outside the helper. The target's CPU time (utime + stime from /proc/PID/stat, in ${clk_tck}ths of a second) is read before and after each attach: the helper runs on the target's threads, which are idle otherwise, so its rise is the helper's work (and the kernel's for gdb's accesses) and a busy machine inflates it much less than the elapsed times; the difference between the two attaches is the analysis' CPU time, the holder chains included. End-to-end times are the wrapper's wall time (gdb's start, the injection, both commands, the output in gdb, the detach); their difference is what the analysis costs as the user sees it, work in gdb included."
  echo
  if [ "$big" -eq 10000000 ]; then label="on the $(count "$big")-object heap"; else label="on the $(count "$big")-object heap (the issue's is 10M)"; fi
  echo "Targets (the issue's, at the largest size):"
  local m cells misses measured
  m=$(med "$big" after)
  measured=0; [ -z "$m" ] || measured=1
  misses=; [ "$measured" -eq 0 ] || awk -v m="$m" -v t="$after_walk_target" 'BEGIN { exit !(m < t) }' || misses=x
  cells="median $(tcell "$big" after), fastest run $(secs "$(minimum "${samples[$big:after]:-}")"); reverse $(secs "$(med "$big" reverse)"), roots $(secs "$(med "$big" roots)"), dominators $(secs "$(med "$big" dominators)"), findings $(secs "$(med "$big" findings)"); analysing attach − census attach: target CPU $(c_cpu_diff "$big"), end to end $(c_e2e_diff "$big") (medians)"
  verdict "dominator tree, retained sizes and findings under $after_walk_target s after the walk $label ($after_formula: reverse index and roots included)" "$cells" "$misses" "$measured"
  m=$(med "$big" extra_bpo)
  measured=0; [ -z "$m" ] || measured=1
  misses=; [ "$measured" -eq 0 ] || awk -v m="$m" -v t="$extra_bpo_target" 'BEGIN { exit !(m < t) }' || misses=x
  cells="$(bpo_cell "$big" extra_bpo): helper peak $(mib "$(med "$big" analysis_peak)") with, $(mib "$(med "$big" census_peak)") without; by the target's VmHWM $(bpo_cell "$big" extra_hwm_bpo)"
  verdict "extra memory for the analysis under $extra_bpo_target bytes per object $label" "$cells" "$misses" "$measured"
  echo "- \`--watch\` pause per sample no longer than one census: not measured by this benchmark"
  [ -z "$failed" ] || echo "- $failed"
  echo
  machine_line "$load_start"
  echo "Target: $python (Python ${python_version[${counts[0]}]:-?}); $("$wrapper" --version 2>/dev/null); $(gdb --version 2>/dev/null | head -1)"
  source_line "$bench_dir" "$builddir"
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Details:"
  for n in "${counts[@]}"; do
    echo "- $(count "$n") objects: Python ${python_version[$n]:-?}, heap built in ${build_s[$n]:-?} s, expected census ~${expected[$n]:-?}; census total_objects ${objects[$n]:-?}${mismatch[$n]:+ (the totals of the two attaches differ: ${mismatch[$n]})}; ${flags[$n]:-every attach built its graph anew (graph_reused false)${samples[$n:dominators]:+ and its dominator tree (dominators_reused false)}}"
    row="  samples:"
    for c in census_walk census_elapsed census_peak census_mapped census_wall census_cpu census_hwm walk elapsed reverse roots dominators findings an_elapsed after json_peak analysis_peak analysis_mapped analysis_wall analysis_cpu analysis_hwm extra_bpo extra_hwm_bpo; do
      row+=" $c $(echo ${samples[$n:$c]:-});"
    done
    echo "$row"
  done
}

if [ -n "$out" ]; then
  report | tee "$out"
else
  report
fi
# MISS is a result; a measurement that could not be made is a failure.
[ -z "$failed" ]
