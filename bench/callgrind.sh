#!/usr/bin/env bash
# callgrind.sh — instructions per packet of memio's memory paths, counted by
# valgrind's callgrind: a noise-free figure beside the clock's.
#
#   bash bench/callgrind.sh BENCH_BINARY [--record]
#
# Runs a fixed workload per path (memio-bench --cg KEY -n N): callgrind
# counts only inside memio_bench_cg_loop, after set-up and warm-up, and the
# count divided by N is the cost of one packet (or one fresh device).  Each
# figure is compared with bench/callgrind-record.txt, the last recorded
# figure for that path, and the change printed.  --record appends today's
# figures (path, instructions/packet, date, commit) to the record.
# Prints figures only: a change is for a human to read, never a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: callgrind.sh BENCH_BINARY [--record]}
record_mode=${2:-}
record=$here/callgrind-record.txt
packets=${MEMIO_CG_PACKETS:-2000}
fresh=${MEMIO_CG_FRESH:-200}
work=$(mktemp -d /tmp/memio-callgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT

command -v valgrind >/dev/null || { echo "callgrind: skipped: valgrind is not installed"; exit 0; }
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$here/.." status --porcelain -- src include 2>/dev/null)" ]; then
    commit="$commit+dirty"
fi
today=$(date -u +%Y-%m-%d)

# The last recorded figure for a path, or nothing.
recorded() {
    [ -f "$record" ] || return 0
    awk -v k="$1" '$1 == k { v = $2 } END { if (v != "") print v }' "$record"
}

printf '\ncallgrind: instructions per packet (%s packets per path, %s fresh devices)\n' "$packets" "$fresh"
printf '%-28s %14s %14s %9s\n' path "instr/op" recorded change
new=()
for key in $("$bin" --list-cg); do
    n=$packets
    case $key in */fresh) n=$fresh ;; esac
    out=$work/cg.out
    valgrind --tool=callgrind --toggle-collect=memio_bench_cg_loop \
        --callgrind-out-file="$out" "$bin" --cg "$key" -n "$n" >/dev/null 2>"$work/log" ||
        { echo "callgrind: $key failed:"; cat "$work/log"; exit 1; }
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
    per=$(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.1f", t / n }')
    old=$(recorded "$key")
    if [ -n "$old" ]; then
        change=$(awk -v a="$per" -v b="$old" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')
    else
        old=- change=-
    fi
    printf '%-28s %14s %14s %9s\n' "$key" "$per" "$old" "$change"
    new+=("$key $per $today $commit")
done

if [ "$record_mode" = "--record" ]; then
    [ -f "$record" ] || echo "# path instructions/packet date commit (appended by bench/callgrind.sh --record)" >"$record"
    printf '%s\n' "${new[@]}" >>"$record"
    echo "callgrind: recorded in $record"
fi
