#!/usr/bin/env bash
# Runs `swift test` with the given flags and ends with one summary line that counts both
# frameworks: "tests: P passed, F failed". Exits with swift test's own status.
set -uo pipefail
log=$(mktemp /tmp/netosis-tests-XXXXXX.log)
swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# XCTest: the last "Executed N tests, with F failures" line is the grand total.
# ("Executed 176 tests, with 0 failures" or "Executed 176 tests, with 12 tests skipped and 0 failures")
xc=$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?' "$log" | tail -n 1)
xc_total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"${xc:-Executed 0 tests}")
xc_skipped=$(sed -nE 's/.*with ([0-9]+) tests? skipped.*/\1/p' <<<"$xc")
xc_failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"${xc:-with 0 failures}")
# Swift Testing: "Test run with N tests ... passed" or "... failed with F issues".
st=$(grep -E 'Test run with [0-9]+ tests?' "$log" | tail -n 1)
st_total=$(sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/' <<<"${st:-Test run with 0 tests}")
st_failed=0
grep -qE 'Test run with [0-9]+ tests?.* failed' <<<"$st" && st_failed=$(grep -cE '^✘ Test .* failed' "$log")
failed=$(( xc_failed + st_failed ))
skipped=${xc_skipped:-0}
passed=$(( xc_total + st_total - failed - skipped ))
rm -f "$log"
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a crash counts even without a failure line
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
