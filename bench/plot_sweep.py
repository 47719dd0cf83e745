#!/usr/bin/env python3
"""Plots embedding chunks/s against batch size from JSON lines
({"batch_size", "chunks_per_s", ...}) of one or more embedders.

    plot_sweep.py OUT.png LABEL=FILE.jsonl [LABEL=FILE.jsonl ...]
"""
import json
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(out, series):
    fig, ax = plt.subplots(figsize=(7, 4))
    for item in series:
        label, path = item.split("=", 1)
        by_size = defaultdict(list)
        with open(path) as f:
            for line in f:
                if line.strip():
                    run = json.loads(line)
                    by_size[run["batch_size"]].append(run["chunks_per_s"])
        sizes = sorted(by_size)
        med = [statistics.median(by_size[s]) for s in sizes]
        low = [m - min(by_size[s]) for s, m in zip(sizes, med)]
        high = [max(by_size[s]) - m for s, m in zip(sizes, med)]
        ax.errorbar(sizes, med, yerr=[low, high], marker="o", capsize=3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size (chunks per forward pass)")
    ax.set_ylabel("chunks/s (median, min–max)")
    ax.set_title("all-MiniLM-L6-v2 embedding throughput by batch size")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
