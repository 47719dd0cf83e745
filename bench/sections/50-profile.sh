#!/usr/bin/env bash
# Where the time goes: `perf record` of the release binary on the two
# throughput numbers of 10-vault-sync and 20-precomputed (same inputs, same
# isolation), summarised by bench/perf_summary.py into "Where the time goes".
# One profiled run each (sampling slows the process; the timed runs are the
# other sections'). Needs `perf` and permission to use it (root, or
# kernel.perf_event_paranoid ≤ 1); without it the fragment says so.
#   BENCH_PERF_FREQ (samples/s, default 199), BENCH_PERF_CALLGRAPH (default
#   dwarf,8192: the release binary has no frame pointers, its .eh_frame
#   unwinds), BENCH_PERF_KEEP=1 keeps the perf.data files under $BENCH_OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${TRIBUTARY_BIN:?run through bench/run.sh (or set TRIBUTARY_BIN)}" "${BENCH_OUT:?}"
source bench/lib.sh
out="$BENCH_OUT/50-profile.md"
freq=${BENCH_PERF_FREQ:-199}
callgraph=${BENCH_PERF_CALLGRAPH:-dwarf,8192}
notes=${BENCH_VAULT_NOTES:-20000}
docs=${BENCH_PRECOMPUTED_DOCS:-20000}
export RUST_LOG=${RUST_LOG:-warn}
note() { echo "[bench 50-profile] $*" >&2; }

if ! command -v perf >/dev/null || ! perf record -q -o /dev/null -- true >/dev/null 2>&1; then
    note "perf is missing or not permitted; writing a placeholder"
    cat > "$out" <<'MD'
## Where the time goes

Not profiled in this run: `perf` is missing or not permitted here (it needs root or
`kernel.perf_event_paranoid` ≤ 1). `bench/sections/50-profile.sh` takes the profile where it can.
MD
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data_dir=$work
[ "${BENCH_PERF_KEEP:-0}" = 1 ] && data_dir=$BENCH_OUT
binary=$(basename "$TRIBUTARY_BIN")

# profile NAME cmd...: runs cmd under perf; its wall time goes to $work/NAME.secs.
profile() {
    local name=$1; shift
    local start; start=$(now)
    perf record -q -F "$freq" --call-graph "$callgraph" -o "$data_dir/$name.data" -- "$@" \
        >/dev/null 2>"$work/$name.log" || { cat "$work/$name.log" >&2; return 1; }
    elapsed "$start" > "$work/$name.secs"
}

# (a) a full sync of the generated vault (10-vault-sync's input).
vault="$BENCH_OUT/vault-$notes"
[ -d "$vault" ] || python3 bench/gen_vault.py "$vault" "$notes"
bench_env profile_sync
note "vault sync of $notes notes"
profile sync "$TRIBUTARY_BIN" sync vault --path "$vault" --instance bench
bench_cleanup

# (b) the precomputed-vector topic (20-precomputed's input).
input="$BENCH_OUT/precomputed-$docs.tsv"
[ -f "$input" ] || python3 bench/gen_precomputed.py "$docs" 384 > "$input"
bench_env profile_index
bench_publish "$input"
note "index --until-idle of $docs precomputed documents"
profile index "$TRIBUTARY_BIN" index --until-idle
bench_cleanup

note "summarising"
sync_table=$(python3 bench/perf_summary.py "$data_dir/sync.data" "$binary")
index_table=$(python3 bench/perf_summary.py "$data_dir/index.data" "$binary")
cat > "$out" <<MD
## Where the time goes

\`perf record -F $freq --call-graph $callgraph\` on the release binary (\`bench/sections/50-profile.sh\`,
summarised by \`bench/perf_summary.py\`), one run each under the profiler (slower than the timed runs
above: $(cat "$work/sync.secs") s and $(cat "$work/index.secs") s). Percentages are of all CPU samples of the
process, every thread, kernel included (2 cores: a fully busy process can spend 200% of its wall time).
*Self*: in the function itself; *inclusive*: in it and what it calls (frames every sample passes through,
like \`main\` and the tokio scheduler, are left out). A crate's self time is the sum of its functions'.

**(a) Vault sync, $notes notes** (\`tributary sync vault\`, 10-vault-sync's vault).

$sync_table

**(b) Indexer with precomputed vectors, $docs documents** (\`tributary index --until-idle\`, 20-precomputed's topic).

$index_table
MD
if [ -f bench/profile-notes.md ]; then
    echo >> "$out"
    cat bench/profile-notes.md >> "$out"
fi
