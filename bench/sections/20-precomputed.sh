#!/usr/bin/env bash
# Indexer without a model: documents that carry their vectors, Kafka →
# Qdrant Edge, timed from start to exit (`index --until-idle`).
set -euo pipefail
source bench/lib.sh
docs=${BENCH_PRECOMPUTED_DOCS:-20000}
input="$BENCH_OUT/precomputed-$docs.tsv"
[ -f "$input" ] || python3 bench/gen_precomputed.py "$docs" 384 > "$input"
rate=() rss=()
for run in $(seq "$BENCH_RUNS"); do
    bench_env precomputed
    bench_publish "$input"
    start=$(now)
    peak_rss_mb "$TRIBUTARY_BIN" index --until-idle >/dev/null 2>&1 3>"$BENCH_OUT/rss"
    secs=$(elapsed "$start")
    rate+=("$(awk -v n="$docs" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')")
    rss+=("$(cat "$BENCH_OUT/rss")")
    bench_cleanup
done
cat > "$BENCH_OUT/20-precomputed.md" <<MD
## Indexer with precomputed vectors (no model)

$docs documents, one chunk and one 384-dimension vector each (\`bench/gen_precomputed.py\`), already on the
topic; \`tributary index --until-idle\` into Qdrant Edge, start to exit (includes start-up, the idle wait of
\`indexer.idle_ms\` and the final flush). One chunk a document, so docs/s = chunks/s.

| measure | median (min–max) | target |
|---|---|---|
| docs/s (= chunks/s) | $(printf '%s\n' "${rate[@]}" | median_min_max) | ≥ 10,000 |
| peak RSS, MB | $(printf '%s\n' "${rss[@]}" | median_min_max) | |
MD
