#!/usr/bin/env bash
# Builds what the Kafka Connect comparison (bench/sections/60-connect.sh)
# runs, into $BENCH_TOOLS (default ~/.cache/tributary/bench-tools):
#   connect/lib/                 Kafka Connect's runtime (connect-runtime,
#                                connect-json) from Maven Central, the same
#                                Kafka version as the stack's broker;
#   connect/plugins/qdrant-sink/ the Qdrant sink connector compiled from its
#                                source with its dependencies, as a Connect
#                                plugin directory.
# The sink's source is not on any registry this machine reaches: pass a
# checkout of its public repository (qdrant/qdrant-kafka). Bench-only: never
# part of `make test`.
#   bench/connect/build.sh /path/to/qdrant-kafka
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/stack/common.sh
src=${1:?usage: bench/connect/build.sh /path/to/qdrant-kafka (a checkout of the sink source)}
src=$(cd "$src" && pwd)
[ -d "$src/src/main/java/io/qdrant/kafka" ] || die "$src does not look like a qdrant-kafka checkout (no src/main/java/io/qdrant/kafka)"
tools=${BENCH_TOOLS:-$HOME/.cache/tributary/bench-tools}
work="$tools/connect/build"
mkdir -p "$work" "$tools/connect/lib" "$tools/connect/plugins/qdrant-sink"

# Connect's worker: the stack's Kafka version, with a log binding.
cat > "$work/runtime.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tributary.bench</groupId>
  <artifactId>connect-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
log "resolving Kafka Connect $KAFKA_VERSION"
mvn -q -B -f "$work/runtime.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tools/connect/lib" >&2

# The sink: its sources, compiled against the worker's connect-api (provided
# by the worker at run time), with the dependencies its build file names.
cat > "$work/sink.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tributary.bench</groupId>
  <artifactId>qdrant-sink</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-api</artifactId><version>$KAFKA_VERSION</version><scope>provided</scope></dependency>
    <dependency><groupId>io.qdrant</groupId><artifactId>client</artifactId><version>1.18.3</version></dependency>
    <dependency><groupId>io.grpc</groupId><artifactId>grpc-protobuf</artifactId><version>1.83.1</version></dependency>
    <dependency><groupId>io.grpc</groupId><artifactId>grpc-netty-shaded</artifactId><version>1.83.1</version></dependency>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>33.6.0-jre</version></dependency>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>2.22.1</version></dependency>
    <dependency><groupId>com.google.protobuf</groupId><artifactId>protobuf-java-util</artifactId><version>3.25.3</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.18</version></dependency>
  </dependencies>
  <build>
    <sourceDirectory>$src/src/main/java</sourceDirectory>
    <directory>$work/target</directory>
    <finalName>qdrant-sink</finalName>
  </build>
</project>
POM
log "compiling the Qdrant sink from $src"
mvn -q -B -f "$work/sink.xml" package dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tools/connect/plugins/qdrant-sink" >&2
cp "$work/target/qdrant-sink.jar" "$tools/connect/plugins/qdrant-sink/"
# The revision BENCHMARKS.md names: the checkout's, or QDRANT_KAFKA_REV for
# a source tree without git.
git -C "$src" rev-parse --short HEAD > "$tools/connect/plugins/qdrant-sink/SOURCE" 2>/dev/null \
    || echo "${QDRANT_KAFKA_REV:-unknown}" > "$tools/connect/plugins/qdrant-sink/SOURCE"
log "Kafka Connect and the Qdrant sink are in $tools/connect"
