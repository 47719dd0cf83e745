#!/usr/bin/env bash
# Freshness: edit a note -> first search hit with the new word, through
# `tributary serve`'s HTTP API while `tributary sync vault --watch` runs.
# Writes $BENCH_OUT/40-freshness.md. Isolated (bench_env): its own topic,
# consumer group, database schema and store, dropped after; a copy of the vault.
#   FRESHNESS_EDITS (default 200, at least 100 for a p99)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${TRIBUTARY_BIN:?run through bench/run.sh (or set TRIBUTARY_BIN)}" "${BENCH_OUT:?}"
edits=${FRESHNESS_EDITS:-200}
out="$BENCH_OUT/40-freshness.md"

source bench/lib.sh
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TRIBUTARY_SERVE__LISTEN="127.0.0.1:$port"
export TRIBUTARY_LOG_FORMAT=json
export RUST_LOG=${RUST_LOG:-warn}
bench_env fresh

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    bench_cleanup
    rm -rf "$tmp"
}
trap cleanup EXIT

# The bundled vault plus the note the benchmark rewrites.
cp -r examples/vault "$tmp/vault"
note=freshness-probe.md
echo "# Freshness probe" > "$tmp/vault/$note"
notes=$(find "$tmp/vault" -name '*.md' | wc -l)

"$TRIBUTARY_BIN" serve >"$tmp/serve.out" 2>"$tmp/serve.log" &
pids+=($!)
if "$TRIBUTARY_BIN" sync vault --help | grep -q -- '--watch'; then
    mode="\`tributary sync vault --watch\`"
    "$TRIBUTARY_BIN" sync vault --path "$tmp/vault" --instance bench --watch >"$tmp/watch.out" 2>"$tmp/watch.log" &
    pids+=($!)
    sync_cmd=()
else
    # Until --watch exists: one one-shot sync per edit, inside the measured time.
    mode="one-shot \`tributary sync vault\` after each edit (--watch not available in this build)"
    sync_cmd=(--sync-cmd "$TRIBUTARY_BIN sync vault --path $tmp/vault --instance bench")
fi

summary=$(python3 bench/freshness_probe.py --url "http://127.0.0.1:$port" \
    --note "$tmp/vault/$note" --doc-id "vault:bench:$note" \
    --edits "$edits" --limit "$((notes + 5))" "${sync_cmd[@]}") || {
    echo "[bench] freshness probe failed; serve log:" >&2
    tail -20 "$tmp/serve.log" >&2
    exit 1
}
field() { python3 -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print("n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else v))' "$summary" "$1"; }
verdict() {  # verdict FIELD LIMIT
    python3 -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print("met" if v is not None and v <= float(sys.argv[3]) else "missed")' "$summary" "$1" "$2"
}

{
    echo "## Freshness: edit → searchable"
    echo
    echo "\`tributary serve\` (indexer + HTTP search on one store) with $mode, on a copy of"
    echo "\`examples/vault\` ($notes notes). One note is rewritten $edits times, each time with a new unique"
    echo "word at the start of its body; a small client (\`bench/freshness_probe.py\`) starts the clock when"
    echo "the write is closed and polls \`GET /search\` every 5 ms until the note's hit carries the new word."
    echo "One run (the edits are the samples); 0.25 s between one edit's hit and the next edit."
    echo
    echo "| edits | misses (> 10 s) | p50 (s) | p95 (s) | p99 (s) | min (s) | max (s) | mean (s) |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| $(field edits) | $(field misses) | $(field p50) | $(field p95) | $(field p99) | $(field min) | $(field max) | $(field mean) |"
    echo
    echo "Targets (2 cores): p50 ≤ 0.15 s: **$(verdict p50 0.15)**; p99 ≤ 1 s: **$(verdict p99 1.0)**."
} > "$out"
cat "$out" >&2
