#!/usr/bin/env bash
# The embedded model, on the same chunks in the same run:
#   - raw speed of `tributary bench-embed` (no Kafka, no store) for the default
#     ONNX model (int8 weights) and the fp32 ONNX built from the reference weights;
#   - the indexer end to end with the default model (Kafka -> chunk -> embed ->
#     Qdrant Edge): docs/s, chunks/s, peak RSS, and pipeline efficiency
#     (indexer chunks/s / raw chunks/s);
#   - sentence-transformers (PyTorch, CPU) from PyPI, in a venv this section makes;
#   - a batch-size sweep, plotted to docs/bench/embed-batch-sweep.png.
# Env: BENCH_EMBED_COPIES (copies of examples/vault in the corpus, default 8),
#      BENCH_EMBED_SWEEP (batch sizes, default 1,4,8,16,32,64,128).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
source scripts/stack/common.sh
eval "$(scripts/stack/stack.sh env)"
: "${BENCH_OUT:?run through bench/run.sh}" "${TRIBUTARY_BIN:?run through bench/run.sh}"
runs=${BENCH_RUNS:-3}
copies=${BENCH_EMBED_COPIES:-8}
sweep=${BENCH_EMBED_SWEEP:-1,4,8,16,32,64,128}
venv=${BENCH_VENV:-$TRIBUTARY_HOME/bench-venv}
out=$BENCH_OUT/30-embedder.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TRIBUTARY_METRICS__LISTEN=127.0.0.1:0 RUST_LOG=${RUST_LOG:-warn}
note() { echo "[bench 30-embedder] $*" >&2; }

# JSON lines on stdin -> "median (min–max)" of a field.
field() { python3 -c 'import json,sys; [print(json.loads(l)[sys.argv[1]]) for l in sys.stdin if l.strip()]' "$1"; }
summary() { field chunks_per_s | median_min_max; }
median_of() { field chunks_per_s | median; }

# --- the bench venv: sentence-transformers + PyTorch (CPU), onnx + numpy, matplotlib
if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sentence_transformers, torch, onnx, numpy, matplotlib' 2>/dev/null; then
    note "creating $venv (sentence-transformers, torch, onnx, matplotlib from PyPI; first time only)"
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip >&2
    # PyPI's Linux torch wheel depends on the CUDA libraries (gigabytes, and
    # `import torch` fails without them even on a CPU); the download is
    # bench-only and happens once.
    "$venv/bin/pip" install -q torch sentence-transformers onnx numpy matplotlib >&2
fi

# --- the corpus: examples/vault, copied so the indexer runs long enough to time
for i in $(seq "$copies"); do mkdir -p "$work/vault"; cp -r examples/vault "$work/vault/copy$i"; done
notes=$(find "$work/vault" -name '*.md' | wc -l)

# --- fp32 ONNX: the graph of the int8 package with the reference weights put back
fp32="$TRIBUTARY_HOME/bench/model-fp32.onnx"
if ! [ -f "$fp32" ]; then
    mkdir -p "$(dirname "$fp32")"
    "$venv/bin/python" bench/minilm_fp32_onnx.py "$MODEL_HOME/$ONNX_MODEL_FILE" "$MODEL_HOME/model.safetensors" "$fp32.part"
    mv "$fp32.part" "$fp32"
fi

# --- raw model speed (default batch size), same chunks for every embedder
note "raw: ONNX int8 (default)"
"$TRIBUTARY_BIN" bench-embed --vault "$work/vault" --runs "$runs" --dump-chunks "$work/chunks.jsonl" > "$work/raw-int8.jsonl"
note "raw: ONNX fp32"
TRIBUTARY_EMBEDDER__ONNX_MODEL="$fp32" "$TRIBUTARY_BIN" bench-embed --vault "$work/vault" --runs "$runs" > "$work/raw-fp32.jsonl"
note "raw: sentence-transformers (torch)"
"$venv/bin/python" bench/torch_embed.py --model-dir "$MODEL_HOME" --chunks "$work/chunks.jsonl" --runs "$runs" > "$work/torch.jsonl"
chunks=$(head -1 "$work/raw-int8.jsonl" | field chunks)
tokens=$(head -1 "$work/raw-int8.jsonl" | field tokens)
fixture=indexer/tests/fixtures/minilm-reference.json
agree_int8=$("$TRIBUTARY_BIN" bench-embed --vault "$work/vault" --runs 0 --reference "$fixture")
agree_fp32=$(TRIBUTARY_EMBEDDER__ONNX_MODEL="$fp32" "$TRIBUTARY_BIN" bench-embed --vault "$work/vault" --runs 0 --reference "$fixture")
agree_torch=$("$venv/bin/python" bench/torch_embed.py --model-dir "$MODEL_HOME" --reference "$fixture")

# --- the indexer end to end, with the default model, on the same notes
: > "$work/indexer.txt"
for r in $(seq "$runs"); do
    # Its own topic, group, schema and store (never the user's corpus).
    bench_env embed
    "$TRIBUTARY_BIN" sync vault --path "$work/vault" --instance "$BENCH_ID" >/dev/null
    note "indexer run $r ($notes notes)"
    start=$(date +%s.%N)
    peak_rss_mb "$TRIBUTARY_BIN" index --until-idle > "$work/index-$r.txt" 3> "$work/rss-$r.txt"
    end=$(date +%s.%N)
    line=$(grep -m1 '^indexed ' "$work/index-$r.txt") || { cat "$work/index-$r.txt" >&2; exit 1; }
    docs=$(sed -E 's/^indexed ([0-9]+) documents \(([0-9]+) chunks\).*/\1/' <<<"$line")
    ch=$(sed -E 's/^indexed ([0-9]+) documents \(([0-9]+) chunks\).*/\2/' <<<"$line")
    worked=$(worked_secs "$work/index-$r.txt")
    echo "$docs $ch $(awk -v s="$start" -v e="$end" 'BEGIN {print e - s}') $(cat "$work/rss-$r.txt") $worked" >> "$work/indexer.txt"
    bench_cleanup
done
unset TRIBUTARY_KAFKA__TOPIC TRIBUTARY_INDEXER__GROUP_ID TRIBUTARY_STORE_PATH TRIBUTARY_DATABASE__SCHEMA

# --- batch-size sweep (on examples/vault once: every size, every run)
note "sweep: batch sizes $sweep"
# The token budget (embedder.batch_tokens) is lifted so batch_size alone decides.
TRIBUTARY_EMBEDDER__BATCH_TOKENS=1000000 "$TRIBUTARY_BIN" bench-embed --vault examples/vault --runs "$runs" --batch-sizes "$sweep" > "$work/sweep-onnx.jsonl"
"$venv/bin/python" bench/torch_embed.py --model-dir "$MODEL_HOME" --runs "$runs" --batch-sizes "$sweep" \
    --chunks <("$TRIBUTARY_BIN" bench-embed --vault examples/vault --runs 0 --dump-chunks /dev/stdout) > "$work/sweep-torch.jsonl"
"$venv/bin/python" bench/plot_sweep.py docs/bench/embed-batch-sweep.png \
    "ONNX Runtime int8 (tributary)=$work/sweep-onnx.jsonl" "sentence-transformers (torch)=$work/sweep-torch.jsonl"

# --- the report
raw=$(median_of < "$work/raw-int8.jsonl")
idx_chunks_s=$(awk '{print $2 / $3}' "$work/indexer.txt" | median_min_max)
idx_docs_s=$(awk '{print $1 / $3}' "$work/indexer.txt" | median_min_max)
idx_rss=$(awk '{print $4}' "$work/indexer.txt" | median_min_max)
idx_med=$(awk '{print $2 / $3}' "$work/indexer.txt" | median)
idx_active_s=$(awk '{print $2 / $5}' "$work/indexer.txt" | median_min_max)
idx_active_med=$(awk '{print $2 / $5}' "$work/indexer.txt" | median)
torch_med=$(median_of < "$work/torch.jsonl")
cos() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("min %.4f, mean %.4f" % (d["min_cosine"], d["mean_cosine"]))' "$1"; }
sweep_table=$(python3 - "$work/sweep-onnx.jsonl" "$work/sweep-torch.jsonl" <<'PY'
import json, statistics, sys
def med(path):
    by = {}
    for l in open(path):
        if l.strip():
            r = json.loads(l); by.setdefault(r["batch_size"], []).append(r["chunks_per_s"])
    return {k: statistics.median(v) for k, v in by.items()}
o, t = med(sys.argv[1]), med(sys.argv[2])
for k in sorted(o):
    print(f"| {k} | {o[k]:.1f} | {t.get(k, float('nan')):.1f} |")
PY
)
{
    echo "## Embedded model (30-embedder)"
    echo
    echo "Corpus: examples/vault copied $copies times: $notes notes, $chunks chunks, $((tokens / chunks)) tokens per chunk on"
    echo "average, chunked as the indexer chunks them. Every row embeds these same chunks in this run;"
    echo "$runs timed runs after one warm-up. chunks/s: median (min–max)."
    echo
    echo "| embedder | chunks/s | cosine to the reference vectors (examples/vault) |"
    echo "|---|---|---|"
    echo "| **tributary, ONNX Runtime, int8 weights (default)** | $(summary < "$work/raw-int8.jsonl") | $(cos "$agree_int8") |"
    echo "| tributary, ONNX Runtime, fp32 weights | $(summary < "$work/raw-fp32.jsonl") | $(cos "$agree_fp32") |"
    echo "| sentence-transformers $("$venv/bin/python" -c 'import sentence_transformers as s; print(s.__version__)'), torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)') (CPU) | $(summary < "$work/torch.jsonl") | $(cos "$agree_torch") |"
    echo
    echo "Embedded model ÷ torch: $(awk -v a="$raw" -v b="$torch_med" 'BEGIN {printf "%.2f", a / b}')×."
    echo
    echo "**Indexer end to end** (\`tributary index --until-idle\`, Kafka → chunk → embed → Qdrant Edge, default"
    echo "model). *Wall*: the process from start to exit (model load, consumer group join, the idle wait of"
    echo "\`--until-idle\` included); *working*: from the first message received to the last batch settled, as the"
    echo "indexer reports it (\`worked … s\`). Pipeline efficiency = indexer chunks/s ÷ the raw int8 chunks/s above."
    echo
    echo "| docs/s (wall) | chunks/s (wall) | chunks/s (working) | peak RSS (MB) | efficiency (wall) | efficiency (working) |"
    echo "|---|---|---|---|---|---|"
    echo "| $idx_docs_s | $idx_chunks_s | $idx_active_s | $idx_rss | $(awk -v a="$idx_med" -v b="$raw" 'BEGIN {printf "%.2f", a / b}') | $(awk -v a="$idx_active_med" -v b="$raw" 'BEGIN {printf "%.2f", a / b}') |"
    echo
    echo "**Batch size** (examples/vault, median chunks/s; chunks are sorted by token length before batching; the"
    echo 'token budget `embedder.batch_tokens` lifted so the batch size alone decides; the default budget, 768'
    echo "tokens, gives 4 chunks of ~180 tokens per pass):"
    echo
    echo "| batch size | tributary ONNX int8 | sentence-transformers |"
    echo "|---|---|---|"
    echo "$sweep_table"
    echo
    echo "![embedding throughput by batch size](docs/bench/embed-batch-sweep.png)"
} > "$out"
note "wrote $out"
