#!/usr/bin/env python3
"""Summarises one `perf record --call-graph ...` file as markdown for
BENCHMARKS.md: self time by thread group and by crate (where the CPU is
spent), and the top functions by self and by inclusive ("children") time
(which of our calls that time is spent under).
    perf_summary.py PERF_DATA BINARY_NAME [TOP]

Crates are read off demangled Rust symbols (`qdrant_edge::...`,
`<sqlx_postgres::... as ...>::...`); code outside the binary is named by its
shared object (libc, the kernel, ONNX Runtime); C linked into the binary
(librdkafka, lz4, zstd) by its symbol prefix."""
import re
import subprocess
import sys
from collections import defaultdict

SEP = "\x1f"
# Frames every sample passes through: they say nothing about where the time
# goes, so the inclusive table leaves them out.
PLUMBING = re.compile(
    r"^(_start|main|__libc_start|start_thread|clone3?|__clone|std::rt::|std::sys::|"
    r"std::thread::|core::ops::function::|std::panic|std::panicking|__rust_try|"
    r"tokio::runtime::|tokio::task::|<tokio::runtime::|<core::future::|"
    r"<core::pin::Pin<|<std::panic::|<alloc::boxed::Box<|tributary::main|"
    r"<F as |tracing::instrument::|<tracing::instrument::|<tokio::time::|"
    r"<futures_util::|futures_util::|<&mut |rdkafka::util::|<rdkafka::producer::future::|"
    r"\[unknown\]|_dl_|__GI___clone|rd_kafka_thread_main|_thrd_wrapper_function|"
    r"tributary_cli::|tributary::|alloc::vec::|core::iter::|0x[0-9a-f]+$)"
)
C_PREFIXES = [
    ("rd_", "librdkafka (C)"),
    ("LZ4", "lz4 (C)"),
    ("ZSTD", "zstd (C)"),
    ("crc32", "librdkafka (C)"),
    ("mtx_", "librdkafka (C)"),
    ("cnd_", "librdkafka (C)"),
]


def report(data, sort):
    args = ["perf", "report", "-i", data, "--stdio", "--no-inline", "--children", "--sort", sort,
            "-g", "none", "--percent-limit", "0", "-t", SEP]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [[f.strip() for f in line.split(SEP)]
            for line in out.splitlines() if line.strip() and not line.startswith("#")]


def pct(text):
    return float(text.rstrip("%"))


def crate_of(dso, sym, binary):
    sym = plain(sym)
    if dso != binary:
        if dso.startswith("[kernel"):
            return "kernel"
        return re.sub(r"\.so[.\d]*$", "", dso)
    rust = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)::", sym)
    if rust:
        name = rust.group(1)
        return {"core": "std", "alloc": "std", "std": "std"}.get(name, name)
    for prefix, crate in C_PREFIXES:
        if sym.startswith(prefix):
            return crate
    if sym.startswith(("__rust", "_ZN", "rust_")):
        return "std"
    return "other C in the binary"


def strip_generics(text):
    depth, out = 0, []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def plain(sym):
    """A readable name: `<T<X> as Trait>::f` becomes `T::f`, generic
    arguments and the hash are dropped."""
    sym = re.sub(r"^\[[.k]\]\s*", "", sym)
    sym = re.sub(r"::h[0-9a-f]{16}$", "", sym)
    if sym.startswith("<"):
        depth = 0
        for i, ch in enumerate(sym):
            depth += {"<": 1, ">": -1}.get(ch, 0)
            if depth == 0:
                inner, rest = sym[1:i], sym[i + 1:]
                # The type, not the trait it implements.
                inner = re.split(r" as (?![^<]*>)", inner)[0]
                sym = inner.lstrip("&").replace("mut ", "").replace("dyn ", "") + rest
                break
    return strip_generics(sym)


def short(sym, width=80):
    """`plain`, as markdown code; long paths keep their tail."""
    text = plain(sym).replace("|", "\\|")
    if len(text) > width:
        text = "…" + text[-(width - 1):]
    return f"`{text}`"


def thread_group(comm):
    if comm.startswith("rdk:"):
        return "librdkafka threads"
    if comm.startswith("tokio-runtime"):
        return "tokio workers and blocking pool"
    return comm


def main():
    data, binary = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 12

    # One pass (unwinding DWARF stacks is the slow part): every row has the
    # inclusive and the self share of one function in one thread; samples
    # belong to one thread, so shares add up across threads.
    threads = defaultdict(float)
    crates = defaultdict(float)
    self_of = defaultdict(float)
    inclusive = defaultdict(float)
    for fields in report(data, "comm,dso,sym"):
        total, own, comm, dso, sym = fields[:5]
        threads[thread_group(comm)] += pct(own)
        crates[crate_of(dso, sym, binary)] += pct(own)
        self_of[sym] += pct(own)
        if not PLUMBING.match(plain(sym)):
            inclusive[sym] += pct(total)

    print("CPU by thread: " + ", ".join(
        f"{name} {share:.0f}%" for name, share in sorted(threads.items(), key=lambda kv: -kv[1])
        if share >= 1) + ".")
    print()
    print("| crate (self time) | % | function (self time) | % | function (inclusive time) | % |")
    print("|---|---|---|---|---|---|")
    by_crate = sorted(crates.items(), key=lambda kv: -kv[1])[:top]
    by_self = sorted(self_of.items(), key=lambda kv: -kv[1])[:top]
    by_children = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    for i in range(top):
        cells = []
        for table, named in ((by_crate, False), (by_self, True), (by_children, True)):
            if i < len(table):
                name, share = table[i]
                cells += [short(name) if named else name, f"{share:.1f}"]
            else:
                cells += ["", ""]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
