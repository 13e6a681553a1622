# bench/lib.sh: what the benchmark scripts (run.sh, chain.sh) share:
# arithmetic and formatting, the target process run as a coprocess, and
# the pyleaks wrapper run with -c commands.  Sourced, never run.
#
# The sourcing script sets `wrapper` (the pyleaks wrapper to run) before
# run_pyleaks, and starts the target with
#   coproc TARGET { exec ...; }; target_pid=$TARGET_PID
#
# Variables go both ways between this file and the sourcing script.
# shellcheck shell=bash disable=SC2034,SC2154

die() {
  printf 'bench: %s\n' "$1" >&2
  exit "${2:-1}"
}

progress() {
  printf 'bench: %s\n' "$*" >&2
}

need_arg() {
  if [ "$2" -lt 2 ]; then
    printf 'bench: option %s needs a value\n' "$1" >&2
    exit 2
  fi
}

# parse_options NAME... -- ARG...: each --NAME VALUE or --NAME=VALUE sets the
# shell variable NAME; --help prints the script's usage; anything else is a
# usage error.
parse_options() {
  local names=" " name
  while [ "$1" != -- ]; do names+="$1 "; shift; done
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help) usage; exit 0 ;;
      --*=*) name=${1%%=*}; name=${name#--} ;;
      --*) name=${1#--} ;;
      *) name= ;;
    esac
    if [ -z "$name" ] || [ "${names/ $name /}" = "$names" ]; then
      printf "bench: unknown argument '%s'\n" "$1" >&2
      usage >&2
      exit 2
    fi
    if [ "${1#*=}" != "$1" ]; then
      printf -v "$name" '%s' "${1#*=}"
      shift
    else
      need_arg "$1" $#
      printf -v "$name" '%s' "$2"
      shift 2
    fi
  done
}

# The script's command line, quoted so that it can be pasted back.
quoted_command_line() {
  local line=$1 word
  shift
  for word in "$@"; do
    case $word in
      *[!A-Za-z0-9_./=:,+-]* | '') line+=" '${word//\'/\'\\\'\'}'" ;;
      *) line+=" $word" ;;
    esac
  done
  printf '%s' "$line"
}

# "1M" -> 1000000, "500k" -> 500000; fails on anything else.
parse_count() {
  local n mult
  case $1 in
    *[Mm]) n=${1%?}; mult=1000000 ;;
    *[Kk]) n=${1%?}; mult=1000 ;;
    *) n=$1; mult=1 ;;
  esac
  case $n in
    '' | *[!0-9]*) return 1 ;;
  esac
  echo $((n * mult))
}

# Arithmetic on decimals (bash has integers only).
calc() {
  awk "BEGIN { printf \"%s\", $1 }"
}
# Median, min and max of the whitespace-separated numbers in $1.
median() {
  tr ' ' '\n' <<<"$1" | grep . | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
minimum() {
  tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1
}
maximum() {
  tr ' ' '\n' <<<"$1" | grep . | sort -g | tail -1
}
# A top-level scalar of pyleaks' one-line JSON (docs/json.md); the types
# array is cut off first so that a type name can never match.
jfield() {
  local head=${1%%,\"types\":*}
  sed -n "s/.*[{,]\"$2\":\\([^,}]*\\).*/\\1/p" <<<"$head"
}
# A key=value field of a target's reply line.
tfield() {
  sed -n "s/.*\\<$2=\\([^ ]*\\).*/\\1/p" <<<"$1"
}
secs() {
  awk -v s="$1" 'BEGIN {
    if (s == "") print "?"
    else if (s < 0.001) printf "%.0f µs", s * 1000000
    else if (s < 0.01) printf "%.2f ms", s * 1000
    else if (s < 0.1) printf "%.3f s", s
    else printf "%.2f s", s }'
}
kib() {
  awk -v k="$1" 'BEGIN { printf "%+d KiB", k }'
}
status_kib() {
  sed -n "s/^$2:[[:space:]]*\\([0-9]*\\) kB/\\1/p" "/proc/$1/status"
}
mem_available_kib() {
  sed -n 's/^MemAvailable:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo
}

# PASS or MISS line of a report: name, the figures, and whether any
# figure missed (non-empty $3); "not measured" when $4 is 0.
verdict() {
  local name=$1 cells=$2 misses=$3 measured=$4
  if [ "$measured" -eq 0 ]; then
    printf -- '- %s: not measured\n' "$name"
  elif [ -z "$misses" ]; then
    printf -- '- %s: **PASS** (%s)\n' "$name" "$cells"
  else
    printf -- '- %s: **MISS** (%s)\n' "$name" "$cells"
  fi
}

machine_line() {
  echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); load average at start $1, at the end $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews times)"
}
# $1 the bench directory, $2 the build tree.
source_line() {
  local rev
  rev=$(git -C "$1/.." rev-parse --short HEAD 2>/dev/null) &&
    echo "Source: $(cd "$1/.." && pwd) at $rev$(git -C "$1/.." diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)'); build tree: $(cd "$2" && pwd)"
}

# What every benchmark checks before it starts: the wrapper of the build
# tree (sets wrapper), the interpreter, the target scripts given, and
# every NAME=VALUE given a positive whole number (--NAME).
check_setup() {
  local arg
  wrapper=$builddir/pyleaks
  [ -x "$wrapper" ] || die "no pyleaks wrapper at $wrapper: build first, or pass --builddir DIR"
  [ -x "$python" ] || die "no interpreter at $python"
  for arg in "$@"; do
    case $arg in
      *=*)
        case ${arg#*=} in
          '' | *[!0-9]* | 0) die "--${arg%%=*} wants a positive whole number, not '${arg#*=}'" 2 ;;
        esac ;;
      *) [ -r "$arg" ] || die "missing $arg" ;;
    esac
  done
}

# The first lines of a report: its title, the command, and why it failed
# (failed) if it did.
report_head() {
  echo "## $1"
  echo
  echo "Command: \`$command_line\`"
  echo
  if [ -n "${failed:-}" ]; then
    echo "FAILED: $failed"
    echo
  fi
}

# The target process: a coprocess answering one line per command.
target_pid=
exit_status=
cleanup_target() {
  if [ -n "$target_pid" ] && [ -d "/proc/$target_pid" ]; then
    kill "$target_pid" 2>/dev/null
  fi
  target_pid=
}

# One line from the target, or give up after $1 seconds.
target_read() {
  local line fd=${TARGET[0]:-}
  [ -n "$fd" ] || return 1
  if ! read -r -t "$1" line <&"$fd"; then
    return 1
  fi
  printf '%s\n' "$line"
}
target_ask() {
  local fd=${TARGET[1]:-}
  # The coproc's pipes are gone once the target has exited.
  [ -n "$fd" ] && [ -d "/proc/$target_pid" ] || return 1
  printf '%s\n' "$1" >&"$fd" || return 1
  target_read "$2"
}
# Asks the target to quit and waits for it; its exit status in
# exit_status (empty when it did not answer), and it is gone afterwards.
target_quit() {
  local bye state t
  bye=$(target_ask quit 600)
  exit_status=
  if [ "$bye" = bye ]; then
    # The coproc's status is the target's: it must exit 0 on its own.
    for ((t = 0; t < 600; t++)); do
      state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$target_pid/stat" 2>/dev/null)
      case $state in '' | Z | X) break ;; esac
      sleep 0.1
    done
    [ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ] || cleanup_target
    wait "$target_pid" 2>/dev/null
    exit_status=$?
    target_pid=
  fi
  cleanup_target
}

# Runs the wrapper with the given -c commands; sets wall (seconds),
# json_lines (its JSON output, one line per --json command) and leaves
# its whole stdout in $tmp/out, stderr in $tmp/err.  Returns the
# wrapper's status.
run_pyleaks() {
  local pid=$1; shift
  local args=() c t0 t1 rc
  for c in "$@"; do args+=(-c "$c"); done
  t0=$EPOCHREALTIME
  "$wrapper" --quiet --pid "$pid" "${args[@]}" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  t1=$EPOCHREALTIME
  wall=$(calc "$t1 - $t0")
  json_lines=$(grep '^{' "$tmp/out")
  return $rc
}
