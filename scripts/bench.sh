#!/usr/bin/env bash
# Echo-server benchmark against the peers (issue 9), in one run on one
# machine: the server pinned to one core, the load generator to another,
# servers interleaved sample by sample, medians and ratios to the best peer
# printed as markdown. See bench/README.md.
#
#   scripts/bench.sh                  # quick run (a subset of rows, 3 samples of 1 s)
#   FULL=1 scripts/bench.sh           # the whole matrix (5 samples of 2 s)
#   ROWS='rr-16x16B pipe-16x16B' SERVERS='ours-tokio fastwebsockets' scripts/bench.sh
#
# Knobs (environment): FULL, SAMPLES, DURATION, WARMUP (seconds), ROWS and
# SERVERS (space-separated names to keep), MEM_CONNS (idle connections for
# the memory probe, 0 to skip), SERVER_CPU / GEN_CPU (cores for taskset),
# OUT (results directory), BENCH_TARGET_DIR (cargo target of bench/),
# EXTRA_SERVERS (more servers, see below), PEERS (the servers the ratios
# are taken against; default the three peer crates).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FULL="${FULL:-0}"
if [[ $FULL == 1 ]]; then
  SAMPLES="${SAMPLES:-5}"; DURATION="${DURATION:-2}"; WARMUP="${WARMUP:-1}"
else
  SAMPLES="${SAMPLES:-3}"; DURATION="${DURATION:-1}"; WARMUP="${WARMUP:-0.5}"
fi
MEM_CONNS="${MEM_CONNS:-5000}"
SERVER_CPU="${SERVER_CPU:-0}"
GEN_CPU="${GEN_CPU:-1}"
OUT="${OUT:-$ROOT/target/bench}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_TARGET="${BENCH_TARGET_DIR:-$ROOT/bench/target}"
mkdir -p "$OUT"
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 2; }

echo "==> building (release)" >&2
(cd "$ROOT" && cargo build --release -q -p examples-more --example echo_server)
(cd "$ROOT/bench" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q)
OURS="$TARGET/release/examples/echo_server"
BIN="$BENCH_TARGET/release"

# name|command (every server listens on a free port and prints ws://ADDR)
candidates=(
  "raw-tcp|$BIN/echo-raw"
  "raw-smol|$BIN/echo-raw --runtime smol"
  "tokio-tungstenite|$BIN/echo-tungstenite"
  "fastwebsockets|$BIN/echo-fastwebsockets"
  "tokio-websockets|$BIN/echo-tokio-websockets"
  "ours-tokio|$OURS --addr 127.0.0.1:0 --runtime tokio --threads 1"
  "ours-tokio-nodeflate|$OURS --addr 127.0.0.1:0 --runtime tokio --threads 1 --compress off"
  # Echo through an axum route: ours (ws-axum) and axum's own extract::ws.
  "ours-axum|$BIN/echo-axum-ours"
  "axum-ws|$BIN/echo-axum-ws"
)
# The async-std / smol adapters count once echo_server runs on them.
for rt in async-std smol; do
  probe="$OUT/probe-$rt.log"
  timeout 3 "$OURS" --addr 127.0.0.1:0 --runtime "$rt" --threads 1 >"$probe" 2>&1 || true
  if grep -q 'listening' "$probe"; then
    candidates+=("ours-$rt|$OURS --addr 127.0.0.1:0 --runtime $rt --threads 1")
  else
    echo "    (ours on $rt skipped: $(head -c 200 "$probe" | tr '\n' ' '))" >&2
  fi
done
# EXTRA_SERVERS='name|command;name|command' adds servers (e.g. an older
# build of ours, for a before/after comparison in the same run).
if [[ -n "${EXTRA_SERVERS:-}" ]]; then
  IFS=';' read -r -a extra_servers <<<"$EXTRA_SERVERS"
  candidates+=("${extra_servers[@]}")
fi
PEERS="${PEERS:-tokio-tungstenite fastwebsockets tokio-websockets}"

keep() { # list name -> is name in the space-separated list (or list empty)
  [[ -z "$1" ]] && return 0
  [[ " $1 " == *" $2 "* ]]
}
servers=(); declare -A CMD
for c in "${candidates[@]}"; do
  name="${c%%|*}"
  keep "${SERVERS:-}" "$name" || continue
  servers+=("$name"); CMD[$name]="${c#*|}"
done

declare -A PID ADDR
start_server() { # name
  local log="$OUT/server-$1.log"
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPU" ${CMD[$1]} >"$log" 2>&1 &
  PID[$1]=$!
  for _ in $(seq 1 100); do
    ADDR[$1]=$(grep -s -o 'ws://[0-9.]*:[0-9]*' "$log" | head -1 | sed 's|ws://||') || true
    [[ -n "${ADDR[$1]}" ]] && return 0
    sleep 0.05
  done
  echo "server $1 did not start: $(cat "$log")" >&2; exit 1
}
stop_server() { kill "${PID[$1]}" 2>/dev/null || true; wait "${PID[$1]}" 2>/dev/null || true; }
cleanup() { for s in "${!PID[@]}"; do stop_server "$s"; done; }
trap cleanup EXIT

# label|conns|size|window|deflate
rows=()
if [[ $FULL == 1 ]]; then
  for c in 1 16 256; do for s in 16 1024 65536 1048576; do
    rows+=("rr-${c}x$(numfmt --to=iec "$s")B|$c|$s|1|0")
  done; done
else
  rows+=("rr-1x16B|1|16|1|0" "rr-16x16B|16|16|1|0" "rr-256x16B|256|16|1|0" "rr-16x1.0KB|16|1024|1|0"
         "rr-1x64KB|1|65536|1|0" "rr-1x1.0MB|1|1048576|1|0")
fi
rows+=("pipe-1x16B-w64|1|16|64|0" "pipe-16x16B-w64|16|16|64|0" "pipe-16x1.0KB-w64|16|1024|64|0")
[[ $FULL == 1 ]] && rows+=("pipe-1x64KB-w16|1|65536|16|0")
rows+=("deflate-16x1.0KB|16|1024|1|1")

RESULTS="$OUT/results.txt"; : >"$RESULTS"
for s in "${servers[@]}"; do start_server "$s"; done
echo "==> servers on core $SERVER_CPU, load generator on core $GEN_CPU; $SAMPLES samples of ${DURATION}s (+${WARMUP}s warm-up)" >&2
for row in "${rows[@]}"; do
  IFS='|' read -r label conns size window deflate <<<"$row"
  keep "${ROWS:-}" "$label" || continue
  echo "  $label" >&2
  for sample in $(seq 1 "$SAMPLES"); do
    # Rotate the order each sample so no server always runs first.
    n=${#servers[@]}
    for i in $(seq 0 $((n - 1))); do
      s=${servers[$(((i + sample) % n))]}
      # The deflate row compares ours with and without compression; the
      # other rows leave the second copy of ours out.
      [[ $deflate == 0 && $s == ours-tokio-nodeflate ]] && continue
      extra=(); [[ $deflate == 1 ]] && extra=(--deflate)
      line=$(taskset -c "$GEN_CPU" "$BIN/loadgen" --addr "${ADDR[$s]}" --conns "$conns" --size "$size" \
        --window "$window" --warmup "$WARMUP" --duration "$DURATION" --server-pid "${PID[$s]}" "${extra[@]}") \
        || { echo "loadgen failed against $s on $label" >&2; exit 1; }
      echo "$label $s $sample $line" >>"$RESULTS"
    done
  done
done
cleanup

MEMRESULTS="$OUT/memory.txt"; : >"$MEMRESULTS"
if [[ $MEM_CONNS -gt 0 ]]; then
  echo "==> memory: $MEM_CONNS idle connections per server" >&2
  for s in "${servers[@]}"; do
    [[ $s == ours-tokio-nodeflate ]] && continue
    start_server "$s"
    line=$(taskset -c "$GEN_CPU" "$BIN/memprobe" --addr "${ADDR[$s]}" --server-pid "${PID[$s]}" --conns "$MEM_CONNS") \
      || { echo "memprobe failed against $s" >&2; exit 1; }
    echo "$s $line" >>"$MEMRESULTS"
    stop_server "$s"
  done
fi

python3 "$ROOT/scripts/bench_report.py" "$RESULTS" "$MEMRESULTS" "$PEERS"
