#!/usr/bin/env bash
# The demo: migrate, sync the bundled vault, index until idle, search, then
# dispatch the vault's communities as work items; then live mode: `tributary
# serve` and `sync vault --watch` on a copy of the vault, one note edited and
# found by search, with the delay measured.
# Runs against the local stack (make stack-up); safe to run again: the
# second run publishes nothing new, leaves the same points and dispatches
# "0 changed communities" (live mode puts the edited note back as it was).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/stack/stack.sh env)"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/tributary/target}/debug/tributary"
export TRIBUTARY_LOG_FORMAT="${TRIBUTARY_LOG_FORMAT:-pretty}"
export RUST_LOG="${RUST_LOG:-warn}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "migrate (database schema + Kafka topics)"
"$bin" migrate
step "sync the example vault"
"$bin" sync vault --path examples/vault --instance demo
step "index until caught up"
"$bin" index --until-idle
for q in "how do I fix consumer lag" "why did we choose Qdrant" "what happened when the embedder was scaled to zero"; do
    step "search: $q"
    "$bin" search "$q" --limit 3
done
step "metrics: /metrics of a running indexer (started in the background, stopped after)"
metrics_addr="127.0.0.1:${TRIBUTARY_DEMO_METRICS_PORT:-9464}"
TRIBUTARY_METRICS__LISTEN="$metrics_addr" "$bin" index &
indexer=$!
scraped=""
for _ in $(seq 100); do
    if scraped=$(curl -sf "http://$metrics_addr/metrics") && grep -q '^tributary_corpus_documents' <<<"$scraped"; then
        break
    fi
    sleep 0.2
done
kill -TERM "$indexer"
wait "$indexer"
grep -E '^tributary_(build_info|indexer_documents_total|indexer_paused |documents_unindexed|corpus_documents|connector_published_documents_total|connector_last_success)' <<<"$scraped" \
    || { echo "no metrics scraped from $metrics_addr" >&2; exit 1; }
echo "(all series: run \`tributary index\` and curl http://$metrics_addr/metrics)"
step "dispatch: the vault's communities as work items"
"$bin" dispatch
step "status (exit code: 0 ok, 1 degraded, 2 failing)"
"$bin" status || echo "status exit code: $?"

step "live mode: tributary serve + sync vault --watch on a copy of the vault"
live=$(mktemp -d)
serve_addr="127.0.0.1:${TRIBUTARY_DEMO_SERVE_PORT:-7700}"
live_pids=()
stop_live() {
    for pid in "${live_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${live_pids[@]}"; do wait "$pid" || echo "process $pid exited with $?" >&2; done
    live_pids=()
}
trap 'stop_live; rm -rf "$live"' EXIT
# Same instance as above, so the copy's notes are the same documents.
cp -r examples/vault "$live/vault"
export TRIBUTARY_SERVE__LISTEN="$serve_addr"
"$bin" serve >"$live/serve.out" 2>"$live/serve.log" &
live_pids+=($!)
# `/search` answers 503 until the model is loaded and the store is open.
for _ in $(seq 300); do
    curl -sf "http://$serve_addr/search?q=ready" >/dev/null && break
    sleep 0.2
done
curl -sf "http://$serve_addr/search?q=ready" >/dev/null \
    || { echo "tributary serve did not answer on $serve_addr; its log:" >&2; tail "$live/serve.log" >&2; exit 1; }
echo "tributary serve answers on http://$serve_addr (GET/POST /search, /metrics, /healthz, /readyz)"
RUST_LOG=info "$bin" sync vault --path "$live/vault" --instance demo --watch >"$live/watch.out" 2>"$live/watch.log" &
live_pids+=($!)
echo "watching $live/vault"
# Its first full scan done, the delay measured below is the edit's alone.
for _ in $(seq 300); do grep -q "watch sync finished" "$live/watch.log" && break; sleep 0.1; done
grep -q "watch sync finished" "$live/watch.log" \
    || { echo "the watcher never finished its first scan; its log:" >&2; tail "$live/watch.log" >&2; exit 1; }

note="$live/vault/concepts/Backpressure.md"
marker="Update $(date -u +%H:%M:%S)"
sentence="$marker: backpressure drills now run every Friday at 10:00, led by the on-call engineer."
# Asked about the new text (without the marker, so only a hit can hold it),
# every note's best chunk comes back; the edit is searchable once one shows the marker.
found() {
    curl -sfG "http://$serve_addr/search" --data-urlencode "q=when do backpressure drills run" \
        --data-urlencode limit=100 | grep -qF "$marker"
}
started=$(date +%s%N)
awk -v line="$sentence" '{ print } /^# Backpressure$/ { print ""; print line }' \
    "examples/vault/concepts/Backpressure.md" >"$note"
for _ in $(seq 1500); do found && break; sleep 0.02; done
found || { echo "the edit never became searchable" >&2; exit 1; }
delay_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "edited concepts/Backpressure.md: \"$sentence\""
printf 'searchable after %d.%03d s; `tributary search` (through the running server) now says:\n' \
    $((delay_ms / 1000)) $((delay_ms % 1000))
"$bin" search "when do backpressure drills run" --limit 2

# Put the note back, so the next demo starts from the same corpus.
cp "examples/vault/concepts/Backpressure.md" "$note"
for _ in $(seq 1500); do found || break; sleep 0.02; done
found && echo "warning: the restored note is not indexed yet; the next demo publishes it" >&2
stop_live
echo "serve and the watcher stopped"
