#!/usr/bin/env python3
"""Generates a markdown vault of N notes for benchmarks: folders, front
matter, headings, lists, wikilinks between notes, ~1.5 KB a note.
Deterministic (fixed seed): the same N gives the same vault.
    gen_vault.py DIR N"""
import os
import random
import sys

WORDS = ("kafka consumer offset partition indexer embedding vector qdrant chunk "
         "runbook incident postmortem latency throughput backlog retry outage "
         "schema migration watermark connector jira confluence vault note link "
         "graph community dispatcher agent alert metric dashboard deploy helm").split()


def sentence(rng):
    n = rng.randint(8, 18)
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def main():
    root, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261202)
    folders = [f"area-{i:02d}" for i in range(40)]
    names = [f"{folders[i % len(folders)]}/Note {i:05d}" for i in range(count)]
    for i, name in enumerate(names):
        path = os.path.join(root, name + ".md")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        links = rng.sample(range(count), k=min(3, count))
        lines = [
            "---",
            f"tags: [bench, {rng.choice(WORDS)}]",
            f"aliases: [N{i}]",
            "---",
            f"# Note {i}",
            "",
        ]
        for _ in range(3):
            lines.append(" ".join(sentence(rng) for _ in range(3)))
            lines.append("")
        lines.append("## Links")
        lines.extend(f"- [[{os.path.basename(names[j])}]]" for j in links)
        lines.append("")
        lines.append("## Steps")
        lines.extend(f"{k}. {sentence(rng)}" for k in range(1, 4))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
