"""Plots recorded /metrics samples ("<seconds> <series> <value>" lines)."""
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = [
    ("Documents and chunks (counters)", [
        ('tributary_indexer_documents_total{outcome="indexed"}', "documents indexed"),
        ("tributary_indexer_chunks_upserted_total", "chunks upserted"),
        ('tributary_connector_published_documents_total{connector="vault:observe"}', "published by the connector"),
    ]),
    ("Backlog (what ProducedButNotIndexed and IndexerLagGrowing read)", [
        ("tributary_documents_unindexed", "produced, not yet committed by the indexer"),
        ("lag:sum", "consumer lag, sum over partitions"),
    ]),
    ("Embedding calls", [
        ("tributary_indexer_embed_duration_seconds_count", "calls"),
        ("tributary_indexer_embed_batch_size_sum", "chunks embedded"),
    ]),
]


def main(path, png):
    series = defaultdict(list)
    lag = defaultdict(float)
    for line in open(path):
        t, name, value = line.split()
        t, value = float(t), float(value)
        series[name].append((t, value))
        if name.startswith("tributary_indexer_consumer_lag{"):
            lag[t] += value
    series["lag:sum"] = sorted(lag.items())
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(9, 9), sharex=True)
    for ax, (title, wanted) in zip(axes, PANELS):
        for name, label in wanted:
            points = series.get(name)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], label=label)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("seconds since the indexer started (tributary index on examples/vault)")
    fig.suptitle("Tributary's own series during a real indexing run", fontsize=12)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
