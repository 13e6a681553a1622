#!/bin/bash
# bench/run.sh: pyleaks' speed and memory benchmark.  For each heap size,
# one target process (bench/heap_target.py) is measured side by side by
# objgraph (in-process) and by the `pyleaks` wrapper (attach, census,
# detach), and a markdown table is printed with PASS/MISS against the
# project's targets.  A benchmark, not a test: it is never run by make check.

set -u

usage() {
  cat <<EOF
Usage: bench/run.sh [--sizes 1M,10M] [--python PATH] [--builddir DIR]
                    [--runs N] [--out FILE]

  --sizes LIST     heap sizes in census objects, comma-separated; a number
                   with an optional k or M suffix (default: 1M,10M)
  --python PATH    the target interpreter, any supported CPython with debug
                   symbols (default: /usr/bin/python3.11)
  --builddir DIR   the build tree whose ./pyleaks wrapper is measured
                   (default: \$PYLEAKS_BUILDDIR, else ./build)
  --runs N         fresh attaches per size for the census timing, and
                   objgraph runs (default: 3)
  --out FILE       also write the report to FILE

The report (markdown) goes to stdout, progress to stderr.
EOF
}

# shellcheck source=bench/lib.sh
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) &&
  . "$bench_dir/lib.sh" || { echo "bench: cannot read bench/lib.sh" >&2; exit 1; }

sizes=1M,10M
python=/usr/bin/python3.11
builddir=${PYLEAKS_BUILDDIR:-./build}
runs=3
out=
command_line=$(quoted_command_line bench/run.sh "$@")
parse_options sizes python builddir runs out -- "$@"

target_script=$bench_dir/heap_target.py
check_setup "$target_script" "runs=$runs"

# "1M" -> 1000000; labels keep what the user wrote.
size_labels=()
size_values=()
IFS=, read -r -a size_words <<<"$sizes"
for w in "${size_words[@]}"; do
  n=$(parse_count "$w") || die "bad size '$w' (expected e.g. 500k, 1M, 10M)" 2
  size_labels+=("$w")
  size_values+=("$n")
done
[ ${#size_values[@]} -gt 0 ] || die "no sizes given" 2

trap cleanup_target EXIT
trap 'cleanup_target; exit 130' INT TERM

tmp=$(mktemp -d /tmp/pyleaks-bench.XXXXXX) || die "mktemp failed"
trap 'cleanup_target; rm -rf "$tmp"' EXIT

maps_snapshot() {
  # Address ranges and names, not offsets or inode details that cannot change.
  awk '{ print $1, $6 }' "/proc/$1/maps"
}

any_failed=
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
details=()
# Per size, for the verdicts: label, census total, helper elapsed median,
# objgraph median, bytes per object, released (yes/no).
v_label=() v_total=() v_value=() v_helper=() v_objgraph=() v_bpo=() v_released=() v_reused=()

for idx in "${!size_values[@]}"; do
  label=${size_labels[$idx]}
  want=${size_values[$idx]}
  # The target takes about 100 bytes per object and the helper under 100.
  avail=$(mem_available_kib)
  if [ $((want / 1024 * 200)) -gt "$avail" ]; then
    progress "skipping $label: needs about $((want / 1024 * 200 / 1024)) MiB, $((avail / 1024)) MiB available"
    any_failed=yes
    rows+=("| $label | skipped: not enough memory | | | | | | | | |")
    continue
  fi

  progress "$label: building the heap ($python)"
  coproc TARGET { exec "$python" "$target_script" --objects "$want"; }
  target_pid=$TARGET_PID
  shown_pid=$target_pid
  ready=$(target_read 1800)
  case $ready in
    "ready pid=$target_pid "*) ;;
    *)
      progress "$label: the target did not start${ready:+ (it said: $ready)}"
      rows+=("| $label | FAILED: the target did not start | | | | | | | | |")
      any_failed=yes
      cleanup_target
      wait "$target_pid" 2>/dev/null
      continue ;;
  esac
  python_version=$(tfield "$ready" python)
  expected=$(tfield "$ready" expected)
  progress "$label: pid $target_pid, Python $python_version, expected census ~$expected objects, built in $(tfield "$ready" build_s) s"

  rss_before=$(status_kib "$target_pid" VmRSS)
  anon_before=$(status_kib "$target_pid" RssAnon)
  maps_snapshot "$target_pid" >"$tmp/maps.before"

  failed=
  e2e=() elapsed=() walk=() totals=() peaks=() reused_first=()
  for ((r = 1; r <= runs; r++)); do
    progress "$label: pyleaks --pid $target_pid -c 'py-leaks --json' ($r/$runs)"
    if ! run_pyleaks "$target_pid" 'py-leaks --json' || [ -z "$json_lines" ]; then
      failed="pyleaks failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
      break
    fi
    e2e+=("$wall")
    elapsed+=("$(jfield "$json_lines" elapsed_s)")
    walk+=("$(jfield "$json_lines" walk_s)")
    totals+=("$(jfield "$json_lines" total_objects)")
    peaks+=("$(jfield "$json_lines" helper_peak_bytes)")
    reused_first+=("$(jfield "$json_lines" graph_reused)")
  done

  second_elapsed= second_reused= double_wall=
  if [ -z "$failed" ]; then
    progress "$label: pyleaks --pid $target_pid -c 'py-leaks --json' -c 'py-leaks --json'"
    if run_pyleaks "$target_pid" 'py-leaks --json' 'py-leaks --json' &&
       [ "$(wc -l <<<"$json_lines")" -eq 2 ]; then
      second=$(sed -n 2p <<<"$json_lines")
      second_elapsed=$(jfield "$second" elapsed_s)
      second_reused=$(jfield "$second" graph_reused)
      double_wall=$wall
      peaks+=("$(jfield "$second" helper_peak_bytes)")
    else
      failed="pyleaks with two commands failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
    fi
  fi

  rss_after=$(status_kib "$target_pid" VmRSS)
  anon_after=$(status_kib "$target_pid" RssAnon)
  maps_snapshot "$target_pid" >"$tmp/maps.after"
  leftover=$(grep -ci pyleaks "/proc/$target_pid/maps")
  new_maps=$(comm -13 <(sort "$tmp/maps.before") <(sort "$tmp/maps.after") | tr '\n' ';')

  progress "$label: objgraph.show_most_common_types() in the target ($runs run(s))"
  og=()
  for ((r = 1; r <= runs; r++)); do
    reply=$(target_ask objgraph 1800) || { failed=${failed:-"objgraph run failed"}; break; }
    og+=("$(tfield "$reply" objgraph_s)")
  done
  reply=$(target_ask gc_objects 600) || failed=${failed:-"gc.get_objects() failed"}
  gc_tracked=$(tfield "$reply" gc_tracked)
  gc_objects_s=$(tfield "$reply" gc_objects_s)

  target_quit
  [ "$exit_status" = 0 ] || failed=${failed:-"the target did not exit cleanly (status ${exit_status:-unknown})"}

  [ -z "$failed" ] || any_failed=yes
  if [ -n "$failed" ]; then
    rows+=("| $label | FAILED: $failed | | | | | | | | |")
    progress "$label: $failed"
    continue
  fi

  total=${totals[0]}
  h_med=$(median "${elapsed[*]}")
  w_med=$(median "${walk[*]}")
  e_med=$(median "${e2e[*]}")
  e_min=$(minimum "${e2e[*]}")
  og_med=$(median "${og[*]}")
  og_min=$(minimum "${og[*]}")
  peak=$(tr ' ' '\n' <<<"${peaks[*]}" | sort -g | tail -1)
  bpo=$(calc "$peak / $total")
  speedup=$(calc "$og_med / $h_med")
  rss_delta=$((rss_after - rss_before))
  anon_delta=$((anon_after - anon_before))
  # Released: nothing of the helper is mapped any more, no mapping appeared,
  # and anonymous memory is back within 1 MiB (what libc may keep from
  # dlopen/dlclose bookkeeping).
  released=yes
  [ "$leftover" -eq 0 ] && [ -z "$new_maps" ] && [ "$anon_delta" -le 1024 ] || released=no
  first_fresh=yes
  for f in "${reused_first[@]}"; do [ "$f" = false ] || first_fresh=no; done

  if [ -n "$second_elapsed" ]; then
    second_cell="$(secs "$second_elapsed") helper (attach with both: $(secs "$double_wall"))"
    [ "$second_reused" = true ] && second_cell+=", reused" || second_cell+=", NOT reused"
  else
    second_cell="failed"
  fi
  if [ "$leftover" -eq 0 ]; then maps_note="no pyleaks mapping"; else maps_note="$leftover pyleaks mappings LEFT"; fi
  [ -z "$new_maps" ] || maps_note+=", new mappings: $new_maps"

  rows+=("| $label | $total | $gc_tracked | $(secs "$og_med") (min $(secs "$og_min")) | $(secs "$h_med") (walk $(secs "$w_med")) | $(awk -v x="$speedup" 'BEGIN { printf "%.1fx", x }') | $(secs "$e_med") (min $(secs "$e_min")) | $second_cell | $(awk -v b="$bpo" 'BEGIN { printf "%.1f", b }') | VmRSS $(kib "$rss_delta"), RssAnon $(kib "$anon_delta"); $maps_note |")

  details+=("- $label (pid $shown_pid, Python $python_version): census ${totals[*]} objects (expected ~$expected);" \
            "  helper elapsed_s ${elapsed[*]}; walk_s ${walk[*]}; pyleaks end to end ${e2e[*]} s;" \
            "  first query fresh graph every attach: $first_fresh; two-command attach $(secs "$double_wall") wall, 2nd elapsed_s $second_elapsed, graph_reused $second_reused;" \
            "  objgraph show_most_common_types ${og[*]} s; len(gc.get_objects()) = $gc_tracked in $(secs "$gc_objects_s");" \
            "  rates (median): objgraph $(awk -v n="$gc_tracked" -v s="$og_med" 'BEGIN { printf "%.1f", n / s / 1e6 }')M gc-tracked objects/s, helper $(awk -v n="$total" -v s="$h_med" 'BEGIN { printf "%.1f", n / s / 1e6 }')M census objects/s;" \
            "  helper_peak_bytes $peak; VmRSS $rss_before -> $rss_after kB, RssAnon $anon_before -> $anon_after kB")

  v_label+=("$label") v_total+=("$total") v_value+=("$want") v_helper+=("$h_med")
  v_objgraph+=("$og_med") v_bpo+=("$bpo") v_released+=("$released") v_reused+=("$second_reused")
done

# One verdict line over every size (or only the size given as $4): $2 I
# prints size I's figure, $3 I succeeds when it meets the target.
verdict_over() {
  local label=$1 cell_fn=$2 pass_fn=$3 only=${4:-} i cells= misses= n=0
  for i in "${!v_label[@]}"; do
    [ -z "$only" ] || [ "${v_value[$i]}" -eq "$only" ] || continue
    n=$((n + 1))
    [ -z "$cells" ] || cells+=", "
    cells+="${v_label[$i]}: $("$cell_fn" "$i")"
    "$pass_fn" "$i" || misses+=x
  done
  verdict "$label" "$cells" "$misses" "$n"
}
cell_census() { secs "${v_helper[$1]}"; }
pass_census() { awk -v h="${v_helper[$1]}" 'BEGIN { exit !(h < 1.5) }'; }
cell_speedup() {
  awk -v o="${v_objgraph[$1]}" -v h="${v_helper[$1]}" 'BEGIN { printf "%.1fx", o / h }'
}
pass_speedup() {
  awk -v o="${v_objgraph[$1]}" -v h="${v_helper[$1]}" 'BEGIN { exit !(o >= 3 * h) }'
}
cell_memory() { awk -v b="${v_bpo[$1]}" 'BEGIN { printf "%.1f B/object", b }'; }
pass_memory() { awk -v b="${v_bpo[$1]}" 'BEGIN { exit !(b < 40) }'; }
cell_released() { echo "${v_released[$1]}"; }
pass_released() { [ "${v_released[$1]}" = yes ]; }
cell_reused() { echo "${v_reused[$1]:-failed}"; }
pass_reused() { [ "${v_reused[$1]}" = true ]; }

report() {
  echo "## pyleaks benchmark"
  echo
  echo "Command: \`$command_line\`"
  echo
  echo "| heap | objects (census) | gc-tracked | objgraph show_most_common_types | helper census (walk) | speedup | pyleaks --pid end to end | 2nd query (graph reused) | helper peak bytes/object | RSS after detach − before |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Times are medians of $runs run(s) (each pyleaks run a fresh attach that builds the graph anew); \"helper census\" is the helper's elapsed_s for the first py-leaks, walk its walk_s; speedup = objgraph / helper census; \"2nd query\" is the second py-leaks of one attach: its helper elapsed_s, and the wall time of that whole two-command attach."
  echo
  echo "Targets:"
  verdict_over "helper census on 10M objects < 1.5 s" \
    cell_census pass_census 10000000
  verdict_over "helper census ≥ 3x faster than objgraph.show_most_common_types() on the same heap" \
    cell_speedup pass_speedup
  verdict_over "helper memory < 40 bytes/object (helper_peak_bytes / census objects)" \
    cell_memory pass_memory
  verdict_over "all released at detach (no pyleaks mapping, no new mapping, RssAnon within 1 MiB of before)" \
    cell_released pass_released
  verdict_over "second query of an attach reuses the graph" \
    cell_reused pass_reused
  echo
  machine_line "$load_start"
  echo "Target: $python (Python ${python_version:-?}); $("$wrapper" --version 2>/dev/null); $(gdb --version 2>/dev/null | head -1)"
  source_line "$bench_dir" "$builddir"
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Details:"
  printf '%s\n' "${details[@]}"
}

if [ -n "$out" ]; then
  report | tee "$out"
else
  report
fi
# MISS is a result; a measurement that could not be made is a failure.
[ -z "$any_failed" ]
