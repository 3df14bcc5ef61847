#!/usr/bin/env python3
"""Summarises scripts/bench-idle.sh results: per server, the median of the
runs (and their min-max) of the RSS per idle connection and of the accept
rate, each with its ratio to the best peer; then the EMFILE check.

usage: bench_idle_report.py RESULTS "peer names"
"""
import statistics
import sys
from collections import OrderedDict

results, peers = sys.argv[1], sys.argv[2].split()


def fields(words):
    out = {}
    for i, w in enumerate(words):
        if w.startswith("error="):
            out["error"] = " ".join([w[6:]] + words[i + 1:])
            break
        if "=" in w:
            k, v = w.split("=", 1)
            out[k] = v
    return out


runs, exhaust = OrderedDict(), []
for line in open(results):
    words = line.split()
    if len(words) < 4:
        continue
    server, backlog = words[0], words[2].split("=", 1)[-1]
    f = fields(words[4:])
    f["backlog"] = backlog
    if words[3] == "RESULT":
        runs.setdefault(server, []).append(f)
    elif words[3] == "EXHAUST":
        exhaust.append((server, f))


def num(f, key):
    try:
        return float(f.get(key, "nan"))
    except ValueError:
        return float("nan")


def stat(samples, key):
    values = [num(s, key) for s in samples]
    values = [v for v in values if v == v]
    if not values:
        return float("nan"), float("nan"), float("nan")
    return statistics.median(values), min(values), max(values)


def fmt(x, digits=0):
    return "-" if x != x else f"{x:,.{digits}f}"


def spread(m, lo, hi, digits=0):
    return f"{fmt(m, digits)} ({fmt(lo, digits)}-{fmt(hi, digits)})" if len(set((lo, hi))) > 1 else fmt(m, digits)


# Only complete runs (every connection held, server alive) count for the
# figures; the others are told in the notes.
def complete(s):
    return s.get("alive") == "yes" and s.get("failed") == "0" and s.get("stopped") == "no" \
        and s.get("conns") == s.get("requested")


med = {}
for server, samples in runs.items():
    good = [s for s in samples if complete(s)]
    med[server] = {k: stat(good, k) for k in
                   ("conns", "bytes_per_conn", "accepts_per_s", "server_us_per_conn", "p99_ms", "slow_1s",
                    "listen_overflows")}
best_mem = min((med[p]["bytes_per_conn"][0] for p in peers if p in med and med[p]["bytes_per_conn"][0] == med[p]["bytes_per_conn"][0]),
               default=float("nan"))
best_rate = max((med[p]["accepts_per_s"][0] for p in peers if p in med and med[p]["accepts_per_s"][0] == med[p]["accepts_per_s"][0]),
                default=float("nan"))

print("| server | idle connections | bytes per idle connection | ÷ best peer | accepts/s | ÷ best peer | "
      "server CPU µs per accept | handshake p99 ms | handshakes ≥ 1 s | listen overflows | backlog | complete runs |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
notes = []
for server, samples in runs.items():
    m = med[server]
    good = sum(complete(s) for s in samples)
    print(f"| {server} | {fmt(m['conns'][0])} | {spread(*m['bytes_per_conn'])} | {fmt(m['bytes_per_conn'][0] / best_mem, 2)} | "
          f"{spread(*m['accepts_per_s'])} | {fmt(m['accepts_per_s'][0] / best_rate, 2)} | {fmt(m['server_us_per_conn'][0], 1)} | "
          f"{fmt(m['p99_ms'][0], 1)} | {fmt(m['slow_1s'][0])} | {fmt(m['listen_overflows'][0])} | {samples[0]['backlog']} | "
          f"{good} of {len(samples)} |")
    for s in samples:
        if not complete(s):
            notes.append(f"- {server}: held {s.get('conns', '0')} of {s.get('requested', '?')}, {s.get('failed', '?')} failed, "
                         f"stopped: {s.get('stopped', '?')}, server alive: {s.get('alive', '?')}; first error: {s.get('error', '-')}")
if notes:
    print()
    print("What did not complete:")
    print()
    print("\n".join(notes))

if exhaust:
    print()
    print("At the descriptor limit (EMFILE): connections past what the server can hold, its CPU while they wait, "
          "and the time until they are served once 2×BEYOND idle connections close.")
    print()
    print("| server | fd limit | free fds | opened past the limit | done at the limit | stalled | server CPU ms/s while stalled | "
          "alive | released | done after | resume s | first error |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    for server, f in exhaust:
        print(f"| {server} | {f.get('server_fd_limit')} | {f.get('free_fds')} | {f.get('extra')} | {f.get('done_at_limit')} | "
              f"{f.get('stalled')} | {f.get('server_cpu_ms_per_s')} | {f.get('alive_at_limit')}/{f.get('alive')} | "
              f"{f.get('released')} | {f.get('done_after')} | {f.get('resume_s')} | {f.get('error', '-')} |")
