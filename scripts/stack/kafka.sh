#!/usr/bin/env bash
# Apache Kafka, single-node KRaft on 127.0.0.1:9092, resolved from Maven
# Central with mvn and run with the machine's Java 17. Idempotent.
#   kafka.sh up | down | status
source "$(dirname "$0")/common.sh"

ensure_java_maven() {
    local missing=()
    if ! command -v java >/dev/null || ! java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
        missing+=(openjdk-17-jre-headless)
    fi
    command -v mvn >/dev/null || missing+=(maven)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        apt_install "${missing[@]}"
    fi
}

# Kafka's jars and their runtime dependencies, copied once into $KAFKA_HOME/lib.
# slf4j-reload4j binds the slf4j-api 1.7 Kafka pulls in; without a binding
# the broker logs nothing at all.
resolve_jars() {
    if [ -f "$KAFKA_HOME/lib/.complete" ]; then return; fi
    log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central"
    mkdir -p "$KAFKA_HOME/lib"
    cat > "$KAFKA_HOME/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tributary.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
    mvn -q -B -f "$KAFKA_HOME/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/lib" >&2 \
        || die "mvn could not resolve kafka_2.13:$KAFKA_VERSION"
    touch "$KAFKA_HOME/lib/.complete"
}

write_config() {
    mkdir -p "$KAFKA_HOME/data"
    cat > "$KAFKA_HOME/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_HOME/data
# Topics are created by 'tributary migrate', never by a typo in a producer.
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A single-node dev broker: no reason to make a new consumer group wait.
group.initial.rebalance.delay.ms=0
PROPS
    cat > "$KAFKA_HOME/log4j.properties" <<L4J
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$KAFKA_HOME/kafka.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka=INFO
L4J
    # Some Kafka 4 classes log through log4j2 directly; send those to a file too.
    cat > "$KAFKA_HOME/log4j2.properties" <<L4J2
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_HOME/kafka-log4j2.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
L4J2
}

# run_java MAIN_CLASS args...: the classpath glob must reach java unexpanded.
run_java() {
    java -Xms256m -Xmx512m -Dlog4j.configuration="file:$KAFKA_HOME/log4j.properties" \
        -Dlog4j2.configurationFile="$KAFKA_HOME/log4j2.properties" \
        -cp "$KAFKA_HOME/lib/*" "$@"
}

pid_alive() { [ -f "$KAFKA_HOME/kafka.pid" ] && kill -0 "$(cat "$KAFKA_HOME/kafka.pid")" 2>/dev/null; }

up() {
    if port_open "$KAFKA_PORT"; then log "kafka already listening on 127.0.0.1:$KAFKA_PORT"; return; fi
    ensure_java_maven
    resolve_jars
    write_config
    if [ ! -f "$KAFKA_HOME/data/meta.properties" ]; then
        local cluster_id
        cluster_id=$(run_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
        [ -n "$cluster_id" ] || die "kafka StorageTool could not generate a cluster id"
        log "formatting KRaft storage (cluster id $cluster_id)"
        run_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_HOME/server.properties" >&2 \
            || die "kafka storage format failed"
    fi
    log "starting kafka $KAFKA_VERSION (log: $KAFKA_HOME/kafka.log)"
    # setsid: the broker must outlive the make process that started it.
    { declare -p KAFKA_HOME; declare -f run_java; echo 'run_java kafka.Kafka "$KAFKA_HOME/server.properties"'; } > "$KAFKA_HOME/broker.sh"
    setsid bash "$KAFKA_HOME/broker.sh" > "$KAFKA_HOME/stdout.log" 2>&1 < /dev/null &
    echo $! > "$KAFKA_HOME/kafka.pid"
    wait_for "kafka on 127.0.0.1:$KAFKA_PORT" 90 port_open "$KAFKA_PORT" || {
        tail -n 30 "$KAFKA_HOME/stdout.log" "$KAFKA_HOME/kafka.log" >&2 || true
        die "kafka did not start listening within 90 s"
    }
}

down() {
    if pid_alive; then
        local pid; pid=$(cat "$KAFKA_HOME/kafka.pid")
        log "stopping kafka (pid $pid)"
        kill "$pid"
        local deadline=$((SECONDS + 60))
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    else
        log "kafka not running (no live pid file)"
    fi
    rm -f "$KAFKA_HOME/kafka.pid"
}

status() {
    if port_open "$KAFKA_PORT"; then echo "kafka:    up   127.0.0.1:$KAFKA_PORT ($KAFKA_VERSION)"; return 0; fi
    echo "kafka:    down"; return 1
}

case "${1:-}" in
    up) up ;; down) down ;; status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
