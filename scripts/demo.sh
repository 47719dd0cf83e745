#!/usr/bin/env bash
# The demo: migrate, sync the bundled vault, index until idle, search, then
# dispatch the vault's communities as work items.
# Runs against the local stack (make stack-up); safe to run again: the
# second run publishes nothing new, leaves the same points and dispatches
# "0 changed communities".
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
