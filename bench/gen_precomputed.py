#!/usr/bin/env python3
"""Writes N documents with precomputed vectors as `key<TAB>json` lines for
kafka-console-producer (parse.key=true, key.separator=TAB): one chunk of
~60 words and one unit vector of DIM floats per document. Deterministic.
With FORMAT `qdrant-sink`, the same texts and vectors as the Qdrant Kafka
Connect sink reads them (id, vector, payload; the collection is named in the
connector's config), for the side-by-side run in bench/sections/60-connect.sh.
    gen_precomputed.py N DIM [tributary|qdrant-sink] > file"""
import json
import math
import random
import sys


def main():
    count, dim = int(sys.argv[1]), int(sys.argv[2])
    fmt = sys.argv[3] if len(sys.argv) > 3 else "tributary"
    if fmt not in ("tributary", "qdrant-sink"):
        sys.exit(f"unknown format {fmt!r}: tributary or qdrant-sink")
    rng = random.Random(7)
    out = sys.stdout
    for i in range(count):
        v = [rng.gauss(0.0, 1.0) for _ in range(dim)]
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        doc_id = f"bench:precomputed:{i}"
        text = f"Precomputed document {i}. " + " ".join(
            rng.choice(("alpha", "beta", "gamma", "delta", "kafka", "qdrant")) for _ in range(60))
        vector = [round(x / norm, 6) for x in v]
        if fmt == "qdrant-sink":
            point = {
                # Required by the sink in every record; the connector's
                # qdrant.collection.name overrides it per run.
                "collection_name": "tributary_bench",
                "id": i,
                "vector": vector,
                "payload": {"doc_id": doc_id, "title": f"Document {i}", "text": text},
            }
            out.write(doc_id + "\t" + json.dumps(point, separators=(",", ":")) + "\n")
            continue
        doc = {
            "schema_version": 1,
            "id": doc_id,
            "source": {"kind": "bench", "instance": "precomputed"},
            "title": f"Document {i}",
            "updated_at": "2026-12-01T00:00:00Z",
            "content_hash": f"h{i}",
            "chunks": [{"text": text, "vector": vector}],
        }
        out.write(doc_id + "\t" + json.dumps(doc, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
