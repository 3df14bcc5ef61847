#!/usr/bin/env python3
"""Summarises scripts/bench-matrix.sh results as one markdown table: per row
and implementation the median CPU per message (the server's for echo rows,
the client's own for firehose rows) with the samples' spread (min-max), its
ratio to the raw echo of the same runtime (raw reader for the firehose;
for compressed rows the raw echo's uncompressed row of the same size), and
to the best peer of the row (lower is better for both), messages/s, and for
compressed rows the wire ratio (compressed payload / plain).

usage: bench_matrix_report.py RESULTS
"""
import statistics
import sys
from collections import OrderedDict

RAW = {"raw-tokio", "raw-smol", "raw-tokio-tls", "raw"}
OURS_PREFIX = "ours"


def fields(words):
    return {k: v for k, v in (w.split("=", 1) for w in words if "=" in w)}


rows = OrderedDict()
for line in open(sys.argv[1]):
    words = line.split()
    if len(words) < 5 or words[4] != "RESULT":
        continue
    group, row, impl = words[0], words[1], words[2]
    rows.setdefault((group, row), OrderedDict()).setdefault(impl, []).append(fields(words[5:]))


def values(samples, key):
    return [float(s[key]) for s in samples if s.get(key) not in (None, "nan")]


def cpu_key(samples):
    return "client_cpu_us_per_msg" if "client_cpu_us_per_msg" in samples[0] else "server_cpu_us_per_msg"


def med(samples, key):
    v = values(samples, key)
    return statistics.median(v) if v else float("nan")


def fmt(x, digits=2):
    return "-" if x != x else f"{x:,.{digits}f}"


# The raw echo's CPU per message by (runtime, size), from any group.
raw_cpu = {}
for (group, row), impls in rows.items():
    for impl, samples in impls.items():
        if impl in ("raw-tokio", "raw-smol", "raw-tokio-tls"):
            raw_cpu[(impl, row)] = med(samples, "server_cpu_us_per_msg")


def raw_for(row, impl, impls):
    if row.startswith("firehose"):
        return med(impls["raw"], "client_cpu_us_per_msg") if "raw" in impls else float("nan"), "raw reader"
    if row.startswith("wss"):
        return raw_cpu.get(("raw-tokio-tls", row), float("nan")), "raw-tokio-tls"
    runtime = "raw-smol" if impl in ("ours-async-std", "ours-smol") else "raw-tokio"
    base = row
    if row.startswith("deflate"):
        base = "rr-" + row.split("-")[-1]
    return raw_cpu.get((runtime, base), float("nan")), runtime + ("" if base == row else f" {base}")


print("| row | implementation | msgs/s | CPU µs/msg (median) | spread (min-max) | ÷ raw | raw taken | ÷ best peer | wire ratio |")
print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
for (group, row), impls in rows.items():
    key = cpu_key(next(iter(impls.values())))
    peers = {i: med(s, key) for i, s in impls.items() if i not in RAW and not i.startswith(OURS_PREFIX)}
    peers = {i: c for i, c in peers.items() if c == c}
    best = min(peers.values()) if peers else float("nan")
    for impl, samples in impls.items():
        cpu = med(samples, key)
        v = values(samples, key)
        spread = f"{min(v):.2f}-{max(v):.2f}" if v else "-"
        raw, raw_name = raw_for(row, impl, impls)
        wire = med(samples, "wire_ratio") if row.startswith("deflate") else float("nan")
        print(f"| {row} | {impl} | {fmt(med(samples, 'msgs_per_s'), 0)} | {fmt(cpu)} | {spread} | "
              f"{fmt(cpu / raw)} | {raw_name} | {fmt(cpu / best)} | {fmt(wire, 3)} |")
