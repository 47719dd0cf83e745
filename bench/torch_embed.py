#!/usr/bin/env python3
"""sentence-transformers (PyTorch, CPU) on the chunks `tributary bench-embed
--dump-chunks` wrote: what a user would run instead of Tributary's embedded
model, timed the same way (one untimed warm-up, then timed runs), printing
the same JSON lines.

    torch_embed.py --model-dir DIR --chunks chunks.jsonl [--batch-sizes 32] [--runs 3]
    torch_embed.py --model-dir DIR --reference fixture.json   (cosine to a fixture)

The model is assembled as all-MiniLM-L6-v2's own modules.json describes it
(Transformer, mean Pooling, Normalize, max_seq_length 256) from the local
directory `scripts/stack/model.sh` fills: nothing is fetched from a hub.
"""
import argparse
import json
import os
import sys
import time


def load(model_dir, max_seq_len):
    import torch
    from sentence_transformers import SentenceTransformer, models

    torch.set_num_threads(os.cpu_count() or 1)
    transformer = models.Transformer(model_dir, max_seq_length=max_seq_len)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--chunks")
    parser.add_argument("--reference")
    parser.add_argument("--batch-sizes", default="32")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-seq-len", type=int, default=256)
    args = parser.parse_args()
    model = load(args.model_dir, args.max_seq_len)

    if args.reference:
        import numpy as np

        with open(args.reference) as f:
            fixture = json.load(f)
        texts = [c["text"] for c in fixture["chunks"]]
        ref = np.array([c["vector"] for c in fixture["chunks"]], dtype=np.float32)
        got = model.encode(texts, batch_size=32, convert_to_numpy=True)
        cos = (got * ref).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
        print(json.dumps({"reference": args.reference, "chunks": len(texts),
                          "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean())}))
        return

    if not args.chunks:
        sys.exit("--chunks or --reference is required")
    with open(args.chunks) as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    tokens = sum(len(model.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        model.encode(texts, batch_size=batch_size)  # warm-up
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            vectors = model.encode(texts, batch_size=batch_size, convert_to_numpy=True)
            seconds = time.perf_counter() - started
            assert len(vectors) == len(texts)
            print(json.dumps({"batch_size": batch_size, "run": run, "chunks": len(texts),
                              "tokens": tokens, "seconds": seconds,
                              "chunks_per_s": len(texts) / seconds}), flush=True)


if __name__ == "__main__":
    main()
