#!/usr/bin/env bash
# Runs memio's whole test suite on a fresh Debian machine: installs what it
# needs, then
#   1. builds and runs every suite with CTest (the kernel-device halves run
#      in private network namespaces when root; otherwise they are skipped);
#   2. builds and runs them again under AddressSanitizer + UBSan, and the
#      suites that run threads under ThreadSanitizer;
#   3. runs the suites under valgrind;
#   4. installs memio to a temporary prefix and builds a consumer with
#      pkg-config and with CMake's find_package;
#   5. fuzzes the packet parser for a bounded time (MEMIO_FUZZ_SECONDS,
#      default 60).
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
memio_ensure_packages "${MEMIO_BUILD_PACKAGES[@]}" "${MEMIO_TEST_PACKAGES[@]}"
jobs=$(nproc)

echo "== 1. build and test =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" >/dev/null
ctest --test-dir build --output-on-failure
# How many scenarios ran on each side of the conformance suite, and the
# Twisted ports on each system (CTest keeps passing tests' output in its log).
grep -hE '^(conformance|test_twisted):' build/Testing/Temporary/LastTest.log || true

echo "== 2. AddressSanitizer + UndefinedBehaviorSanitizer =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMIO_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure

echo "== 2b. ThreadSanitizer on the suites that run threads =="
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DMEMIO_BUILD_EXAMPLES=OFF \
    -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
    -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan -j "$jobs" --target test_tun_blocking test_twisted test_sys >/dev/null
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure \
    -R '^(test_tun_blocking|test_twisted|test_sys)$'

echo "== 3. valgrind =="
bash scripts/valgrind.sh build

echo "== 4. the installed package, from a consumer =="
bash scripts/consumer.sh build

echo "== 5. fuzz the packet parser (libFuzzer, ASan + UBSan, ${MEMIO_FUZZ_SECONDS:-60} s) =="
rc=0
MEMIO_FUZZ_DIR=build-fuzz bash fuzz/run.sh "${MEMIO_FUZZ_SECONDS:-60}" || rc=$?
case $rc in
    0) ;;
    77) echo "fuzz: skipped (see the reason above)" ;;
    *) exit "$rc" ;;
esac

echo "memio: all test stages passed"
