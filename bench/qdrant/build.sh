#!/usr/bin/env bash
# Builds the Qdrant server the Kafka Connect comparison (and the server
# store's contract tests, with QDRANT_URL) run against, from a checkout of
# its source, into $BENCH_TOOLS/qdrant (default ~/.cache/tributary/bench-tools).
# No registry this machine reaches ships a server binary. Bench-only.
#   bench/qdrant/build.sh /path/to/qdrant   (a checkout of qdrant/qdrant, e.g. tag v1.18.3)
# Release profile without fat LTO and with 16 codegen units: Qdrant's own
# release profile (fat LTO, one codegen unit) takes well over an hour on 2
# cores; this one ~40 minutes. It is the consumer side we measure, not the
# server's peak speed, and both consumers write to the same build.
set -euo pipefail
src=${1:?usage: bench/qdrant/build.sh /path/to/qdrant (a checkout of its source)}
src=$(cd "$src" && pwd)
[ -f "$src/src/main.rs" ] && grep -q '^name = "qdrant"' "$src/Cargo.toml" \
    || { echo "$src is not a qdrant checkout" >&2; exit 1; }
command -v protoc >/dev/null || { echo "qdrant's build needs protoc: apt-get install protobuf-compiler" >&2; exit 1; }
tools=${BENCH_TOOLS:-$HOME/.cache/tributary/bench-tools}
target=${QDRANT_TARGET_DIR:-$HOME/.cache/tributary/qdrant-target}
mkdir -p "$tools"
(
    cd "$src"
    CARGO_TARGET_DIR=$target CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --release --bin qdrant
)
cp "$target/release/qdrant" "$tools/qdrant"
echo "[bench] Qdrant server: $tools/qdrant ($("$tools/qdrant" --version 2>/dev/null || echo "version unknown"))" >&2
