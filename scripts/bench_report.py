#!/usr/bin/env python3
"""Summarises scripts/bench.sh results: medians per row and server, and each
server's ratio to the best peer in the same row (messages/s and MB/s: higher
is better; server CPU per message: lower is better).

usage: bench_report.py RESULTS MEMORY "peer names"
"""
import statistics
import sys
from collections import OrderedDict, defaultdict

results, memory, peers = sys.argv[1], sys.argv[2], sys.argv[3].split()


def fields(words):
    return {k: v for k, v in (w.split("=", 1) for w in words if "=" in w)}


rows = OrderedDict()
for line in open(results):
    words = line.split()
    if len(words) < 4 or words[3] != "RESULT":
        continue
    label, server = words[0], words[1]
    rows.setdefault(label, OrderedDict()).setdefault(server, []).append(fields(words[4:]))


def median(samples, key):
    values = [float(s[key]) for s in samples if s.get(key) not in (None, "nan")]
    return statistics.median(values) if values else float("nan")


def fmt(x, digits=0):
    return "-" if x != x else f"{x:,.{digits}f}"


print("| row | server | msgs/s | MB/s | p50 µs | p99 µs | server CPU µs/msg | msgs/s ÷ best peer | CPU ÷ best peer |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for label, servers in rows.items():
    med = {s: {k: median(v, k) for k in ("msgs_per_s", "mb_per_s", "p50_us", "p99_us", "server_cpu_us_per_msg")}
           for s, v in servers.items()}
    peer_rate = [med[p]["msgs_per_s"] for p in peers if p in med]
    peer_cpu = [med[p]["server_cpu_us_per_msg"] for p in peers if p in med and med[p]["server_cpu_us_per_msg"] == med[p]["server_cpu_us_per_msg"]]
    best_rate = max(peer_rate) if peer_rate else float("nan")
    best_cpu = min(peer_cpu) if peer_cpu else float("nan")
    for server, m in med.items():
        deflate = any(s.get("deflate") == "1" for s in servers[server])
        name = server + (" (deflate)" if deflate else "")
        print(f"| {label} | {name} | {fmt(m['msgs_per_s'])} | {fmt(m['mb_per_s'], 1)} | {fmt(m['p50_us'], 1)} | "
              f"{fmt(m['p99_us'], 1)} | {fmt(m['server_cpu_us_per_msg'], 2)} | "
              f"{fmt(m['msgs_per_s'] / best_rate, 2)} | {fmt(m['server_cpu_us_per_msg'] / best_cpu, 2)} |")

mem = []
for line in open(memory):
    words = line.split()
    if len(words) >= 2 and words[1] == "RESULT":
        mem.append((words[0], fields(words[2:])))
if mem:
    best = min((float(f["bytes_per_conn"]) for s, f in mem if s in peers), default=float("nan"))
    print()
    print("| server | idle connections | RSS before (KiB) | RSS after (KiB) | bytes per idle connection | ÷ best peer |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for server, f in mem:
        per = float(f["bytes_per_conn"])
        print(f"| {server} | {f['conns']} | {f['rss_before_kib']} | {f['rss_after_kib']} | {per:,.0f} | {fmt(per / best, 2)} |")
