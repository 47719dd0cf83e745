#!/usr/bin/env bash
# `make bench`: runs every section under bench/sections/ (in name order) with
# a release build and the local stack, then assembles BENCHMARKS.md from the
# fragments they write. A section is a script that writes markdown to
# "$BENCH_OUT/<its name>.md"; it may also write images under docs/bench/.
#   bench/run.sh [section-name-substring...]   (no argument: every section)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/stack/stack.sh env)"
export BENCH_OUT=${BENCH_OUT:-$CARGO_TARGET_DIR/bench}
export BENCH_RUNS=${BENCH_RUNS:-3}
mkdir -p "$BENCH_OUT" docs/bench
cargo build --locked --release -p tributary
export TRIBUTARY_BIN=$CARGO_TARGET_DIR/release/tributary

selected() {
    [ $# -eq 1 ] && return 0
    local name=$1; shift
    for want in "$@"; do [[ $name == *"$want"* ]] && return 0; done
    return 1
}

for section in bench/sections/*.sh; do
    name=$(basename "$section" .sh)
    selected "$name" "$@" || continue
    echo "[bench] $name" >&2
    bash "$section"
done

{
    echo "# Benchmarks"
    echo
    echo "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d). Release build; medians of"
    echo "$BENCH_RUNS runs with min–max unless a section says otherwise. Machine: $(nproc) cores,"
    echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM,"
    echo "$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo);"
    echo "$(rustc --version); tributary $(git rev-parse --short HEAD)."
    echo "These machines are noisy: compare numbers from the same run, not across runs."
    for fragment in "$BENCH_OUT"/*.md; do
        [ -e "$fragment" ] || continue
        echo
        cat "$fragment"
    done
    echo
    cat bench/not-measured.md
} > BENCHMARKS.md
echo "[bench] wrote BENCHMARKS.md" >&2
