#!/usr/bin/env python3
"""Edit -> first search hit, measured through tributary serve's HTTP API.

Each edit rewrites one note with a new unique word at the start of its body,
then polls GET /search until the note's hit carries that word in its snippet.
The clock starts when the write is closed (the edit is on disk) and stops at
the first answer holding the new word, so it covers the watcher noticing the
file, publishing, the indexer's batch, embedding, the upsert and the search.

Prints a JSON summary on stdout: latencies in seconds (nearest-rank
percentiles), the number of edits and of misses (no hit within --timeout).
With --sync-cmd, that command is run after each write (inside the measured
time): the one-shot stand-in for `tributary sync vault --watch`.
"""

import argparse
import json
import math
import secrets
import shlex
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def search(url, word, limit):
    query = urllib.parse.urlencode({"q": word, "limit": limit})
    with urllib.request.urlopen(f"{url}/search?{query}", timeout=30) as response:
        return json.load(response)["hits"]


def visible(url, doc_id, word, limit):
    try:
        hits = search(url, word, limit)
    except OSError:
        # Refused while starting (503) or not listening yet: not visible yet.
        return False
    return any(hit["id"] == doc_id and word in hit["snippet"] for hit in hits)


def edit(note, word, number):
    with open(note, "w", encoding="utf-8") as f:
        f.write(
            "---\ntitle: Freshness probe\n---\n"
            f"{word} is the word of edit {number}.\n\n"
            "The freshness benchmark rewrites this note and searches for the new word.\n"
        )


def measure(args, number, timeout, poll):
    word = f"fresh{number:04d}x{secrets.token_hex(4)}"
    edit(args.note, word, number)
    started = time.monotonic()
    if args.sync_cmd:
        run = subprocess.run(shlex.split(args.sync_cmd), capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{args.sync_cmd} failed ({run.returncode}):\n{run.stderr}")
    deadline = started + timeout
    while time.monotonic() < deadline:
        if visible(args.url, args.doc_id, word, args.limit):
            return time.monotonic() - started
        time.sleep(poll)
    return None


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="tributary serve, e.g. http://127.0.0.1:7700")
    parser.add_argument("--note", required=True, help="the note file to rewrite")
    parser.add_argument("--doc-id", required=True, help="its document id, vault:<instance>:<path>")
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--limit", type=int, default=50, help="hits per search: more than the vault's notes")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before an edit counts as a miss")
    parser.add_argument("--poll", type=float, default=0.005, help="seconds between searches")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between one edit's hit and the next edit")
    parser.add_argument("--sync-cmd", help="run after each write (one-shot sync instead of --watch)")
    args = parser.parse_args()

    # Warm-up, not counted: the server loads its model, the watcher starts.
    if measure(args, 0, timeout=180.0, poll=0.2) is None:
        sys.exit("the warm-up edit never became searchable; is serve (and the watcher) running?")
    latencies, misses = [], 0
    for number in range(1, args.edits + 1):
        time.sleep(args.gap)
        latency = measure(args, number, args.timeout, args.poll)
        if latency is None:
            misses += 1
        else:
            latencies.append(latency)
    latencies.sort()
    summary = {
        "edits": args.edits,
        "misses": misses,
        "min": latencies[0] if latencies else None,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else None,
        "mean": sum(latencies) / len(latencies) if latencies else None,
    }
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
