#!/usr/bin/env bash
# Runs memio's benchmarks on a fresh Debian machine: installs what they need,
# builds in Release (build-bench/), then
#   1. bench/memio-bench: the memory system's per-packet paths and fresh
#      devices beside the kernel's TUN (in a private network namespace when
#      root; skipped, with the reason, otherwise) and a memcpy ring;
#   2. bench/twisted_bench.py: the seed, Twisted's MemoryIOSystem, on the
#      same paths, with ratios against step 1's figures;
#   3. bench/callgrind.sh: instructions per packet, compared with
#      bench/callgrind-record.txt (pass --record to append today's figures).
# Prints figures; it is not a test and never fails on a clock.
# Extra arguments before --record go to memio-bench (e.g. -n 50000 -r 9).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
memio_ensure_packages "${MEMIO_BUILD_PACKAGES[@]}" "${MEMIO_BENCH_PACKAGES[@]}"
record=
args=()
for a in "$@"; do
    if [ "$a" = --record ]; then record=--record; else args+=("$a"); fi
done

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DMEMIO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-bench --target memio-bench -j "${MEMIO_JOBS:-$(nproc)}" >/dev/null
results=build-bench/bench-results.tsv

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), Linux $(uname -r)"
./build-bench/bench/memio-bench --results "$results" "${args[@]}"
/usr/bin/python3 bench/twisted_bench.py --memio "$results"
bash bench/callgrind.sh build-bench/bench/memio-bench $record
