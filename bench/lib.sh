# Helpers for bench sections: source it.
# median_min_max < numbers  → "median (min–max)"
median_min_max() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%s (%s–%s)\n", fmt(m), fmt(v[1]), fmt(v[NR]) }
        function fmt(x) { return (x >= 100 || x <= -100) ? sprintf("%.0f", x) : sprintf("%.3g", x) }'
}
# median < numbers  → the median alone (for ratios between rows)
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# worked_secs FILE → the seconds of `tributary index`'s "worked … s" line
# (first message to last batch); fails, showing FILE, when it is missing.
worked_secs() {
    local secs; secs=$(sed -nE 's/^worked ([0-9.]+) s.*/\1/p' "$1")
    [ -n "$secs" ] || { cat "$1" >&2; return 1; }
    echo "$secs"
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
# Python with kafka-python, in a venv of the bench's own (the stack's Kafka has
# no command-line tools: it is installed from Maven jars).
bench_python() {
    local venv="$HOME/.cache/tributary/bench-kafka-venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import confluent_kafka, kafka' 2>/dev/null; then
        [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q kafka-python confluent-kafka >&2
    fi
    "$venv/bin/python" "$@"
}
# Drops what bench_env made.
bench_cleanup() {
    bench_python bench/kafka_tool.py delete "$KAFKA_BROKERS" \
        "$BENCH_ID.documents" "$BENCH_ID.documents.dlq" >/dev/null 2>&1 || true
    psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $BENCH_ID CASCADE" >/dev/null 2>&1 || true
    rm -rf "$TRIBUTARY_STORE_PATH"
}
# Publishes a file of key<TAB>value lines to the current bench topic.
bench_publish() {
    bench_python bench/kafka_tool.py publish "$KAFKA_BROKERS" "$TRIBUTARY_KAFKA__TOPIC" "$1"
}
