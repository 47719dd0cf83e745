#!/usr/bin/env bash
# Vault connector: a full sync of a generated vault, then a resync with
# nothing changed (every note read, hashed and found unchanged).
set -euo pipefail
source bench/lib.sh
notes=${BENCH_VAULT_NOTES:-20000}
vault="$BENCH_OUT/vault-$notes"
[ -d "$vault" ] || python3 bench/gen_vault.py "$vault" "$notes"
full=() resync=() rss=()
for run in $(seq "$BENCH_RUNS"); do
    bench_env sync
    start=$(now)
    peak_rss_mb "$TRIBUTARY_BIN" sync vault --path "$vault" --instance bench >/dev/null 3>"$BENCH_OUT/rss"
    secs=$(elapsed "$start")
    full+=("$(awk -v n="$notes" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')")
    rss+=("$(cat "$BENCH_OUT/rss")")
    start=$(now)
    "$TRIBUTARY_BIN" sync vault --path "$vault" --instance bench >/dev/null
    resync+=("$(elapsed "$start")")
    bench_cleanup
done
cat > "$BENCH_OUT/10-vault-sync.md" <<MD
## Vault sync

A generated vault of $notes notes (\`bench/gen_vault.py\`: 40 folders, front matter, wikilinks, ~1.5 KB a
note), published to Kafka with the watermark and per-note records in PostgreSQL. Whole process, start to exit.

| measure | median (min–max) | target |
|---|---|---|
| full sync, notes/s | $(printf '%s\n' "${full[@]}" | median_min_max) | ≥ 10,000 |
| resync with no change, s | $(printf '%s\n' "${resync[@]}" | median_min_max) | ≤ 1 |
| full sync peak RSS, MB | $(printf '%s\n' "${rss[@]}" | median_min_max) | |
MD
