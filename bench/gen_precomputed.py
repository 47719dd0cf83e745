#!/usr/bin/env python3
"""Writes N documents with precomputed vectors as `key<TAB>json` lines for
kafka-console-producer (parse.key=true, key.separator=TAB): one chunk of
~60 words and one unit vector of DIM floats per document. Deterministic.
    gen_precomputed.py N DIM > file"""
import json
import math
import random
import sys


def main():
    count, dim = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(7)
    out = sys.stdout
    for i in range(count):
        v = [rng.gauss(0.0, 1.0) for _ in range(dim)]
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        doc_id = f"bench:precomputed:{i}"
        text = f"Precomputed document {i}. " + " ".join(
            rng.choice(("alpha", "beta", "gamma", "delta", "kafka", "qdrant")) for _ in range(60))
        doc = {
            "schema_version": 1,
            "id": doc_id,
            "source": {"kind": "bench", "instance": "precomputed"},
            "title": f"Document {i}",
            "updated_at": "2026-12-01T00:00:00Z",
            "content_hash": f"h{i}",
            "chunks": [{"text": text, "vector": [round(x / norm, 6) for x in v]}],
        }
        out.write(doc_id + "\t" + json.dumps(doc, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
