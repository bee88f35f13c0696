#!/usr/bin/env bash
# Runs every test suite of build dir $1 under valgrind's memcheck; any
# error or leak fails.  Suites that skip (exit 77) count as skipped.
set -uo pipefail
build=${1:-build}
status=0 passed=0 failed=0 skipped=0
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$t" >"$t.valgrind.log" 2>&1
    rc=$?
    case $rc in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)); status=1; echo "valgrind: $(basename "$t") failed (exit $rc):"; tail -40 "$t.valgrind.log" ;;
    esac
done
echo "valgrind: $passed passed, $failed failed, $skipped skipped"
exit $status
