#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] — builds the packet parser's libFuzzer target
# (fuzz/fuzz_packet.c) with clang, AddressSanitizer and UBSan, and runs it
# for SECONDS (default: $MEMIO_FUZZ_SECONDS or 60) from the seed corpus in
# fuzz/corpus.  New inputs go to $MEMIO_FUZZ_DIR/corpus (default
# build-fuzz/), never into the repository; a crash leaves its input there
# too and fails the script.
#   fuzz/run.sh --seeds   regenerates fuzz/corpus with fuzz/make_corpus.c
# Exits 77 when clang or its libFuzzer runtime is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${MEMIO_FUZZ_DIR:-build-fuzz}
srcs=(src/csum.c src/packet.c src/packet_parse.c)
cflags=(-std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc -g)
mkdir -p "$out/corpus"

if [ "${1:-}" = "--seeds" ]; then
    cc "${cflags[@]}" "${srcs[@]}" fuzz/make_corpus.c -o "$out/make_corpus"
    mkdir -p fuzz/corpus
    "$out/make_corpus" fuzz/corpus
    ls fuzz/corpus | wc -l | xargs echo "fuzz: seeds written:"
    exit 0
fi

secs=${1:-${MEMIO_FUZZ_SECONDS:-60}}
if ! command -v clang >/dev/null; then
    echo "fuzz: SKIPPED: clang is not installed (Debian: apt-get install clang libclang-rt-dev)"
    exit 77
fi
if ! clang "${cflags[@]}" -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        "${srcs[@]}" fuzz/fuzz_packet.c -o "$out/fuzz_packet"; then
    if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
            clang -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
        echo "fuzz: SKIPPED: clang has no libFuzzer runtime (Debian: apt-get install libclang-rt-dev)"
        exit 77
    fi
    exit 1
fi
echo "fuzz: fuzz_packet for ${secs}s"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_packet" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/" \
    "$out/corpus" fuzz/corpus 2>"$out/fuzz.log" || {
    tail -60 "$out/fuzz.log"
    echo "fuzz: FAILED (input saved under $out/)"
    exit 1
}
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ +DONE' "$out/fuzz.log" || true
echo "fuzz: no crash in ${secs}s"
