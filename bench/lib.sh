# Helpers for bench sections: source it.
# median_min_max < numbers  → "median (min–max)"
median_min_max() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3g (%.3g–%.3g)\n", m, v[1], v[NR] }'
}
# peak_rss_mb cmd... : runs cmd under /usr/bin/time, prints its peak RSS in MB on fd 3
peak_rss_mb() {
    local f; f=$(mktemp)
    /usr/bin/time -f '%M' -o "$f" "$@"
    awk '{ printf "%.0f\n", $1 / 1024 }' "$f" >&3
    rm -f "$f"
}
# seconds since the epoch, with nanoseconds
now() { date +%s.%N; }
# elapsed START → seconds since START
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f\n", e - s }'; }
# A throwaway topic/schema/group/store for one run: sets TRIBUTARY_* and BENCH_ID.
bench_env() {
    BENCH_ID="bench_$1_$$_$RANDOM"
    export TRIBUTARY_KAFKA__TOPIC="$BENCH_ID.documents"
    export TRIBUTARY_DATABASE__SCHEMA="$BENCH_ID"
    export TRIBUTARY_INDEXER__GROUP_ID="$BENCH_ID-indexer"
    export TRIBUTARY_STORE_PATH="$BENCH_OUT/store-$BENCH_ID"
    export TRIBUTARY_METRICS__LISTEN=127.0.0.1:0
    "$TRIBUTARY_BIN" migrate >/dev/null
}
# Drops what bench_env made.
bench_cleanup() {
    local kafka_home; kafka_home=$(ls -d "$HOME"/.cache/tributary/kafka-*/ | head -1)
    "$kafka_home"/bin/kafka-topics.sh --bootstrap-server "$KAFKA_BROKERS" --delete \
        --topic "$BENCH_ID.documents,$BENCH_ID.documents.dlq" >/dev/null 2>&1 || true
    psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $BENCH_ID CASCADE" >/dev/null 2>&1 || true
    rm -rf "$TRIBUTARY_STORE_PATH"
}
# Publishes a file of key<TAB>value lines to the current bench topic.
bench_publish() {
    local kafka_home; kafka_home=$(ls -d "$HOME"/.cache/tributary/kafka-*/ | head -1)
    "$kafka_home"/bin/kafka-console-producer.sh --bootstrap-server "$KAFKA_BROKERS" \
        --topic "$TRIBUTARY_KAFKA__TOPIC" --property parse.key=true \
        --property "key.separator=$(printf '\t')" --producer-property linger.ms=20 \
        --producer-property batch.size=1000000 --producer-property max.request.size=10000000 < "$1"
}
