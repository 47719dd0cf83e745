#!/usr/bin/env bash
# Cold build times. A real measurement takes ~15-20 minutes of both cores,
# so it runs only with BENCH_COLD_BUILD=1 (a fresh target dir, --timings);
# otherwise the section repeats the last recorded measurement
# (bench/build-times.md), which says when and on what it was taken.
set -euo pipefail
source bench/lib.sh
out="$BENCH_OUT/90-build-times.md"
if [ "${BENCH_COLD_BUILD:-0}" != 1 ]; then
    cp bench/build-times.md "$out"
    exit 0
fi
measure() { # profile-flag label
    local dir; dir=$(mktemp -d)
    local start; start=$(now)
    CARGO_TARGET_DIR="$dir" cargo build --locked $1 -p tributary --timings >/dev/null 2>&1
    local secs; secs=$(elapsed "$start")
    rm -rf "$dir"
    printf '| %s | %.0f s (%.1f min) |\n' "$2" "$secs" "$(awk -v s="$secs" 'BEGIN { print s / 60 }')"
}
{
    echo "## Cold build"
    echo
    echo "From an empty target dir, measured by \`BENCH_COLD_BUILD=1 bench/run.sh build\` on $(date -u +%Y-%m-%d)."
    echo
    echo "| build | wall time |"
    echo "|---|---|"
    measure "" "\`cargo build -p tributary\` (what \`make demo\` builds)"
    measure "--release" "\`cargo build --release -p tributary\` (the image, \`make bench\`)"
} > "$out"
cp "$out" bench/build-times.md
