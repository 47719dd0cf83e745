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
step "status"
"$bin" status
step "dispatch: the vault's communities as work items"
"$bin" dispatch
