#!/usr/bin/env bash
# Indexer without a model: documents that carry their vectors, Kafka →
# Qdrant Edge, timed from start to exit (`index --until-idle`).
set -euo pipefail
source bench/lib.sh
docs=${BENCH_PRECOMPUTED_DOCS:-20000}
input="$BENCH_OUT/precomputed-$docs.tsv"
[ -f "$input" ] || python3 bench/gen_precomputed.py "$docs" 384 > "$input"
rate=() working=() rss=()
for run in $(seq "$BENCH_RUNS"); do
    bench_env precomputed
    bench_publish "$input"
    start=$(now)
    peak_rss_mb "$TRIBUTARY_BIN" index --until-idle >"$BENCH_OUT/index.out" 2>/dev/null 3>"$BENCH_OUT/rss"
    secs=$(elapsed "$start")
    worked=$(worked_secs "$BENCH_OUT/index.out")
    rate+=("$(awk -v n="$docs" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')")
    working+=("$(awk -v n="$docs" -v s="$worked" 'BEGIN { printf "%.0f", n / s }')")
    rss+=("$(cat "$BENCH_OUT/rss")")
    bench_cleanup
done
cat > "$BENCH_OUT/20-precomputed.md" <<MD
## Indexer with precomputed vectors (no model)

$docs documents, one chunk and one 384-dimension vector each (\`bench/gen_precomputed.py\`), already on the
topic; \`tributary index --until-idle\` into Qdrant Edge with the default batches (\`indexer.batch_size\` 512).
*Wall*: start to exit (start-up with the model load, the consumer group join, the idle wait of
\`indexer.idle_ms\` and the final flush); *working*: from the first message received to the last batch settled,
as the indexer reports it (\`worked … s\`). One chunk a document, so docs/s = chunks/s.

| measure | median (min–max) | target |
|---|---|---|
| docs/s (= chunks/s), wall | $(printf '%s\n' "${rate[@]}" | median_min_max) | ≥ 10,000 |
| docs/s (= chunks/s), working | $(printf '%s\n' "${working[@]}" | median_min_max) | |
| peak RSS, MB | $(printf '%s\n' "${rss[@]}" | median_min_max) | |
MD
