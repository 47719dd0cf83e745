#!/usr/bin/env bash
# Kafka Connect with the Qdrant sink next to `tributary index` with the
# Qdrant server backend: the same precomputed-vector messages (same texts,
# same vectors, each in its consumer's own format), the same Qdrant server,
# one consumer process each, timed from start until every point is stored.
# Needs two bench-only tools no registry here ships: a Qdrant server binary
# ($QDRANT_BIN, built from source) and Kafka Connect with the sink
# (bench/connect/build.sh). Without them the section says what is missing.
set -euo pipefail
source bench/lib.sh
tools=${BENCH_TOOLS:-$HOME/.cache/tributary/bench-tools}
qdrant_bin=${QDRANT_BIN:-$tools/qdrant}
connect="$tools/connect"
docs=${BENCH_CONNECT_DOCS:-100000}
http_port=${BENCH_QDRANT_HTTP_PORT:-16333}
grpc_port=${BENCH_QDRANT_GRPC_PORT:-16334}
fragment="$BENCH_OUT/60-connect.md"
heading="## Kafka Connect + the Qdrant sink, next to \`tributary index\` (Qdrant server)"

missing=()
[ -x "$qdrant_bin" ] || missing+=("a Qdrant server binary at $qdrant_bin (set QDRANT_BIN; build it from the qdrant/qdrant source, see bench/README.md)")
[ -f "$connect/plugins/qdrant-sink/qdrant-sink.jar" ] || missing+=("Kafka Connect and the sink under $connect (bench/connect/build.sh /path/to/qdrant-kafka)")
if [ ${#missing[@]} -gt 0 ]; then
    {
        echo "$heading"
        echo
        echo "Not measured in this run: missing"
        printf -- '- %s\n' "${missing[@]}"
    } > "$fragment"
    echo "[bench] 60-connect skipped: ${missing[*]}" >&2
    exit 0
fi

work=$(mktemp -d "$BENCH_OUT/connect.XXXXXX")
qdrant_url="http://127.0.0.1:$http_port"
qdrant_pid=
cleanup() {
    [ -n "$qdrant_pid" ] && kill "$qdrant_pid" 2>/dev/null && wait "$qdrant_pid" 2>/dev/null
    bench_cleanup
    rm -rf "$work"
}
trap cleanup EXIT

# The server, with its storage in the scratch directory.
(
    cd "$work"
    QDRANT__STORAGE__STORAGE_PATH="$work/storage" QDRANT__STORAGE__SNAPSHOTS_PATH="$work/snapshots" \
        QDRANT__SERVICE__HTTP_PORT=$http_port QDRANT__SERVICE__GRPC_PORT=$grpc_port \
        QDRANT__SERVICE__HOST=127.0.0.1 QDRANT__TELEMETRY_DISABLED=true \
        exec "$qdrant_bin" > "$work/qdrant.log" 2>&1
) &
qdrant_pid=$!
for _ in $(seq 300); do
    curl -sf "$qdrant_url/readyz" >/dev/null && break
    kill -0 "$qdrant_pid" 2>/dev/null || { cat "$work/qdrant.log" >&2; exit 1; }
    sleep 0.1
done
curl -sf "$qdrant_url/readyz" >/dev/null || { echo "qdrant did not become ready" >&2; exit 1; }
qdrant_version=$(curl -sf "$qdrant_url/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')

points() {
    curl -sf -X POST "$qdrant_url/collections/$1/points/count" -H 'content-type: application/json' \
        -d '{"exact":true}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["count"])'
}

# Both inputs on their own topics, published once; every run reads them from
# the start with a new consumer group.
bench_env connect
trib_topic=$TRIBUTARY_KAFKA__TOPIC
sink_topic="$BENCH_ID.sink"
python3 bench/gen_precomputed.py "$docs" 384 > "$work/tributary.tsv"
python3 bench/gen_precomputed.py "$docs" 384 qdrant-sink > "$work/sink.tsv"
bench_publish "$work/tributary.tsv"
TRIBUTARY_KAFKA__TOPIC=$sink_topic "$TRIBUTARY_BIN" migrate >/dev/null
TRIBUTARY_KAFKA__TOPIC=$sink_topic bench_publish "$work/sink.tsv"
partitions=$(bench_python bench/kafka_tool.py partitions "$KAFKA_BROKERS" "$sink_topic")
kafka_version=$(basename "$(ls "$connect"/lib/connect-runtime-*.jar)" .jar)
kafka_version=${kafka_version#connect-runtime-}

# Kafka Connect as connect-standalone.sh starts it (its heap options), with
# the settings the sink's KAFKA.md asks for; keys are plain strings.
cat > "$work/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$work/connect.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
connect_run() { # run → prints "seconds rss_mb"
    local run=$1 collection="sink_$1"
    curl -sf -X PUT "$qdrant_url/collections/$collection" -H 'content-type: application/json' \
        -d '{"vectors":{"size":384,"distance":"Cosine"}}' >/dev/null
    cat > "$work/worker.properties" <<PROPS
bootstrap.servers=$KAFKA_BROKERS
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=false
offset.storage.file.filename=$work/connect-$run.offsets
offset.flush.interval.ms=10000
plugin.path=$connect/plugins
PROPS
    cat > "$work/sink.properties" <<PROPS
name=qdrant-sink-$BENCH_ID-$run
connector.class=io.qdrant.kafka.QdrantSinkConnector
tasks.max=1
topics=$sink_topic
qdrant.grpc.url=http://127.0.0.1:$grpc_port
qdrant.collection.name=$collection
consumer.override.auto.offset.reset=earliest
PROPS
    local start; start=$(now)
    /usr/bin/time -f '%M' -o "$work/connect.rss" \
        java -Xms256M -Xmx2G -Dlog4j.configuration="file:$work/log4j.properties" \
        -cp "$connect/lib/*" org.apache.kafka.connect.cli.ConnectStandalone \
        "$work/worker.properties" "$work/sink.properties" > "$work/connect.out" 2>&1 &
    local timer=$! java_pid= count=0 secs
    for _ in $(seq 2400); do
        count=$(points "$collection")
        [ "$count" -ge "$docs" ] && break
        kill -0 "$timer" 2>/dev/null || break
        sleep 0.25
    done
    secs=$(elapsed "$start")
    java_pid=$(pgrep -P "$timer" java || true)
    [ -n "$java_pid" ] && kill -TERM "$java_pid"
    wait "$timer" || true
    if [ "$count" -lt "$docs" ]; then
        echo "Kafka Connect stored $count of $docs points (log: $work/connect.log)" >&2
        tail -20 "$work/connect.log" >&2
        exit 1
    fi
    echo "$secs $(awk '{ printf "%.0f", $1 / 1024 }' "$work/connect.rss")"
}

tributary_run() { # run → prints "seconds rss_mb"
    local run=$1 collection="tributary_$1"
    export TRIBUTARY_KAFKA__TOPIC=$trib_topic
    export TRIBUTARY_INDEXER__GROUP_ID="$BENCH_ID-indexer-$run"
    export TRIBUTARY_DATABASE__SCHEMA="${BENCH_ID}_$run"
    export TRIBUTARY_STORE__BACKEND=qdrant TRIBUTARY_STORE__URL="http://127.0.0.1:$grpc_port"
    export TRIBUTARY_STORE__COLLECTION=$collection
    "$TRIBUTARY_BIN" migrate >/dev/null
    local start secs count
    start=$(now)
    peak_rss_mb "$TRIBUTARY_BIN" index --until-idle >"$work/index.log" 2>&1 3>"$work/index.rss"
    secs=$(elapsed "$start")
    count=$(points "$collection")
    psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS ${BENCH_ID}_$run CASCADE" >/dev/null 2>&1
    if [ "$count" -ne "$docs" ]; then
        echo "tributary index stored $count of $docs points" >&2
        tail -20 "$work/index.log" >&2
        exit 1
    fi
    echo "$secs $(cat "$work/index.rss")"
}

c_rate=() c_rss=() t_rate=() t_rss=()
for run in $(seq "$BENCH_RUNS"); do
    result=$(connect_run "$run")
    read -r secs rss <<< "$result"
    c_rate+=("$(awk -v n="$docs" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')") c_rss+=("$rss")
    result=$(tributary_run "$run")
    read -r secs rss <<< "$result"
    t_rate+=("$(awk -v n="$docs" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')") t_rss+=("$rss")
    curl -sf -X DELETE "$qdrant_url/collections/sink_$run" >/dev/null
    curl -sf -X DELETE "$qdrant_url/collections/tributary_$run" >/dev/null
done
bench_python bench/kafka_tool.py delete "$KAFKA_BROKERS" "$sink_topic" "$sink_topic.dlq" >/dev/null 2>&1 || true

speed=$(awk -v a="$(printf '%s\n' "${t_rate[@]}" | median)" -v b="$(printf '%s\n' "${c_rate[@]}" | median)" 'BEGIN { printf "%.2f", a / b }')
memory=$(awk -v a="$(printf '%s\n' "${t_rss[@]}" | median)" -v b="$(printf '%s\n' "${c_rss[@]}" | median)" 'BEGIN { printf "%.2f", a / b }')
cat > "$fragment" <<MD
$heading

$docs messages with precomputed 384-dimension vectors (\`bench/gen_precomputed.py\`: the same texts and vectors,
in each consumer's own format) on a topic of $partitions partitions, into one Qdrant server $qdrant_version (built
from source, release, on this machine). **Kafka Connect** $kafka_version standalone (\`connect-standalone.sh\`'s heap
options, \`tasks.max=1\`, JSON values without schemas as the sink's KAFKA.md configures it) with the Qdrant sink
built from its repository (revision $(cat "$connect/plugins/qdrant-sink/SOURCE")), timed from the JVM's start until
the collection counts every point; **\`tributary index --until-idle\`** with \`store.backend = "qdrant"\` (gRPC),
timed from start to exit (start-up, the idle wait, the final flush included). Each run reads the topic from the
start with a new consumer group into a new collection; peak RSS of the consumer process only.

| consumer | msg/s | peak RSS, MB |
|---|---|---|
| Kafka Connect + Qdrant sink | $(printf '%s\n' "${c_rate[@]}" | median_min_max) | $(printf '%s\n' "${c_rss[@]}" | median_min_max) |
| tributary index (server backend) | $(printf '%s\n' "${t_rate[@]}" | median_min_max) | $(printf '%s\n' "${t_rss[@]}" | median_min_max) |

tributary ÷ Connect: **${speed}×** the messages per second (target ≥ 2×) at **${memory}×** the RSS (target ≤ 0.25×).
MD
