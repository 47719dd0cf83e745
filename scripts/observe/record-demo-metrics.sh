#!/usr/bin/env bash
# Records the indexer's own series while it indexes the example vault from
# scratch (a fresh schema, topic and store), then plots them to
# docs/observability.png. Real data, not a mock-up: re-run it to refresh
# the README's picture. Needs the local stack (make stack-up) and a build.
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(scripts/stack/stack.sh env)"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/tributary/target}/debug/tributary"
run="obs_$(date +%s)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export TRIBUTARY_DATABASE__SCHEMA="$run"
export TRIBUTARY_KAFKA__TOPIC="$run.documents"
export TRIBUTARY_INDEXER__GROUP_ID="$run-indexer"
export TRIBUTARY_STORE_PATH="$out/store"
export TRIBUTARY_METRICS__LISTEN="127.0.0.1:${OBSERVE_PORT:-9465}"
export TRIBUTARY_METRICS__OUTCOMES_INTERVAL_SECS=1
export TRIBUTARY_INDEXER__BATCH_SIZE=8
export RUST_LOG=warn
"$bin" migrate >/dev/null
"$bin" sync vault --path examples/vault --instance observe >/dev/null
"$bin" index &
indexer=$!
start=$(date +%s.%N)
quiet=0
while kill -0 "$indexer" 2>/dev/null; do
    now=$(date +%s.%N)
    if body=$(curl -sf "http://$TRIBUTARY_METRICS__LISTEN/metrics"); then
        printf '%s\n' "$body" | sed -n "s/^\(tributary_[a-z_]*\)\({[^}]*}\)\? \([0-9.e+-]*\)$/$(echo "$now - $start" | bc) \1\2 \3/p" >>"$out/series.txt"
        backlog=$(printf '%s\n' "$body" | awk '$1 == "tributary_documents_unindexed" {print $2}')
        indexed=$(printf '%s\n' "$body" | awk '$1 == "tributary_indexer_documents_total{outcome=\"indexed\"}" {print $2}')
        if [ "${backlog:-1}" = "0" ] && [ "${indexed:-0}" != "0" ]; then quiet=$((quiet + 1)); fi
        [ "$quiet" -ge 8 ] && break
    fi
    sleep 0.25
done
kill -TERM "$indexer" 2>/dev/null || true
wait "$indexer" || true
# The schema this run made; its topics stay (the binary deletes none).
psql "$DATABASE_URL" -qc "DROP SCHEMA IF EXISTS $run CASCADE" >/dev/null 2>&1 || true
py=python3
"$py" -c 'import matplotlib' 2>/dev/null || py=/usr/bin/python3
"$py" -c 'import matplotlib' 2>/dev/null || { echo "plotting needs matplotlib: apt-get install python3-matplotlib" >&2; exit 1; }
"$py" scripts/observe/plot.py "$out/series.txt" docs/observability.png
echo "wrote docs/observability.png from $(wc -l <"$out/series.txt") samples"
