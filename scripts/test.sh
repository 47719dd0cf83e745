#!/usr/bin/env bash
# Runs the whole test suite against the local stack and ends with one plain
# total line ("tests: N passed, M failed") summed over every test binary, so
# CI logs say what ran without scrolling through per-crate results.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/stack/stack.sh env)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
read -r passed failed < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$log")
echo "tests: $passed passed, $failed failed"
if [ "$passed" -eq 0 ]; then
    echo "no test ran: treating as a failure" >&2
    exit 1
fi
exit "$status"
