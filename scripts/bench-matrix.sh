#!/usr/bin/env bash
# The issue-24 matrix in one run, one table: each cell's CPU per message
# against the raw echo (or raw reader) of its runtime measured in the same
# run, and against the best peer, with the spread of the samples.
#
#   scripts/bench-matrix.sh                 # every group, 3 samples
#   MATRIX='deflate firehose' SAMPLES=5 scripts/bench-matrix.sh
#
# Groups (MATRIX, space-separated; default all):
#   rr        request/response c16 x 16 B and 1 KiB: the raw echo on tokio
#             and smol, ours on tokio / async-std / smol, the three peers
#   deflate   1 KiB JSON-like rr with permessage-deflate, without context
#             takeover (`--deflate`) and with the server's (`--deflate-
#             takeover`): ours, yawc (level 1, zlib-rs), Python websockets
#             (reference, from a venv this script makes); ratio to the raw
#             echo's uncompressed 1 KiB row; `wire` = compressed ÷ plain
#   wss       request/response c16 x 1 KiB and 64 KiB and batches of 16
#             x 1 KiB over TLS (rustls with ring, TLS13_AES_128_GCM_SHA256,
#             one self-signed certificate made here with openssl): the raw
#             echo behind tokio-rustls, ours (echo_server --tls-cert),
#             tokio-tungstenite and fastwebsockets behind tokio-rustls
#   firehose  a raw sender writes 1 KiB / 64 KiB frames as fast as the
#             socket takes them; the client's own CPU per message received:
#             the raw reader (headers only), ours, tokio-tungstenite,
#             fastwebsockets
# Every server and client is pinned to SERVER_CPU (0), the load generator
# or sender to GEN_CPU (1); implementations are interleaved sample by sample.
# Knobs: MATRIX, SAMPLES, DURATION, WARMUP, FIREHOSE_MSGS, OUT,
# BENCH_TARGET_DIR, PYTHON (interpreter for the venv), NO_BUILD.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/bench-common.sh
source "$ROOT/scripts/bench-common.sh"
MATRIX="${MATRIX:-rr deflate wss firehose}"
SAMPLES="${SAMPLES:-3}"; DURATION="${DURATION:-1}"; WARMUP="${WARMUP:-0.5}"
FIREHOSE_MSGS="${FIREHOSE_MSGS:-200000}"
SERVER_CPU="${SERVER_CPU:-0}"; GEN_CPU="${GEN_CPU:-1}"
OUT="${OUT:-$ROOT/target/bench/matrix}"
BENCH_TARGET="${BENCH_TARGET_DIR:-$ROOT/bench/target}"
mkdir -p "$OUT"
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 2; }
has() { [[ " $MATRIX " == *" $1 "* ]]; }

build_bench

PY_ECHO=""
if has deflate; then
  VENV="$OUT/venv"
  if [[ ! -x "$VENV/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$VENV" && "$VENV/bin/pip" install -q 'websockets>=15' \
      || echo "    (Python websockets unavailable: its rows are skipped)" >&2
  fi
  [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import websockets' 2>/dev/null \
    && PY_ECHO="$VENV/bin/python $ROOT/bench/echo-python/echo.py"
fi

declare -A CMD=(
  [raw-tokio]="$BIN/echo-raw"
  [raw-smol]="$BIN/echo-raw --runtime smol"
  [ours-tokio]="$OURS --addr 127.0.0.1:0 --runtime tokio --threads 1"
  [ours-async-std]="$OURS --addr 127.0.0.1:0 --runtime async-std --threads 1"
  [ours-smol]="$OURS --addr 127.0.0.1:0 --runtime smol --threads 1"
  [tokio-tungstenite]="$BIN/echo-tungstenite"
  [fastwebsockets]="$BIN/echo-fastwebsockets"
  [tokio-websockets]="$BIN/echo-tokio-websockets"
  [yawc]="$BIN/echo-yawc"
)
[[ -n $PY_ECHO ]] && CMD[python-websockets]="$PY_ECHO"

declare -A PID ADDR
start() { # name command...
  local name=$1; shift
  local log="$OUT/server-$name.log"
  # shellcheck disable=SC2068
  taskset -c "$SERVER_CPU" $@ >"$log" 2>&1 &
  PID[$name]=$!
  ADDR[$name]=$(wait_for_addr "$log") || { echo "$name did not start: $(cat "$log")" >&2; exit 1; }
}
stop() { kill "${PID[$1]}" 2>/dev/null || true; wait "${PID[$1]}" 2>/dev/null || true; unset "PID[$1]"; }
cleanup() { for s in "${!PID[@]}"; do stop "$s"; done; }
trap cleanup EXIT

RESULTS="$OUT/results.txt"; : >"$RESULTS"
# group|row|impl|role (raw, ours, peer)
run_echo_row() { # group row loadgen-args servers...
  local group=$1 row=$2 args=$3; shift 3
  echo "  $row" >&2
  for sample in $(seq 1 "$SAMPLES"); do
    local n=$# i
    local list=("$@")
    for i in $(seq 0 $((n - 1))); do
      local s=${list[$(((i + sample) % n))]}
      # shellcheck disable=SC2086
      line=$(taskset -c "$GEN_CPU" "$BIN/loadgen" --addr "${ADDR[$s]}" $args \
        --warmup "$WARMUP" --duration "$DURATION" --server-pid "${PID[$s]}") \
        || { echo "loadgen failed against $s on $row" >&2; exit 1; }
      echo "$group $row $s $sample $line" >>"$RESULTS"
    done
  done
}

if has rr || has deflate; then
  servers=(raw-tokio ours-tokio)
  has rr && servers+=(raw-smol ours-async-std ours-smol tokio-tungstenite fastwebsockets tokio-websockets)
  has deflate && servers+=(yawc) && [[ -n $PY_ECHO ]] && servers+=(python-websockets)
  echo "==> echo servers on core $SERVER_CPU: ${servers[*]}" >&2
  for s in "${servers[@]}"; do start "$s" "${CMD[$s]}"; done
  if has rr; then
    run_echo_row rr rr-16x16B "--conns 16 --size 16 --window 1" \
      raw-tokio raw-smol ours-tokio ours-async-std ours-smol tokio-tungstenite fastwebsockets tokio-websockets
    run_echo_row rr rr-16x1KiB "--conns 16 --size 1024 --window 1" \
      raw-tokio raw-smol ours-tokio ours-async-std ours-smol tokio-tungstenite fastwebsockets tokio-websockets
  fi
  if has deflate; then
    peers=(yawc); [[ -n $PY_ECHO ]] && peers+=(python-websockets)
    has rr || run_echo_row deflate rr-16x1KiB "--conns 16 --size 1024 --window 1" raw-tokio
    run_echo_row deflate deflate-nct-16x1KiB "--conns 16 --size 1024 --window 1 --deflate" ours-tokio "${peers[@]}"
    run_echo_row deflate deflate-takeover-16x1KiB "--conns 16 --size 1024 --window 1 --deflate-takeover" ours-tokio "${peers[@]}"
  fi
  cleanup
fi

if has wss; then
  TLS="$OUT/tls"; mkdir -p "$TLS"
  if [[ ! -s $TLS/cert.pem ]]; then
    # A CA (which the generator trusts) and a leaf for localhost signed by it.
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -days 7 -subj /CN=bench-ca -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
    openssl req "${ec[@]}" -subj /CN=localhost -keyout "$TLS/key.pem" -out "$TLS/leaf.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$TLS/leaf.ext"
    openssl x509 -req -in "$TLS/leaf.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
      -days 7 -extfile "$TLS/leaf.ext" -out "$TLS/cert.pem" 2>/dev/null
  fi
  pair="--tls-cert $TLS/cert.pem --tls-key $TLS/key.pem"
  CMD[raw-tokio-tls]="$BIN/echo-raw $pair"
  CMD[ours-tokio-tls]="$OURS --addr 127.0.0.1:0 --runtime tokio --threads 1 $pair"
  CMD[tokio-tungstenite-tls]="$BIN/echo-tungstenite $pair"
  CMD[fastwebsockets-tls]="$BIN/echo-fastwebsockets $pair"
  servers=(raw-tokio-tls ours-tokio-tls tokio-tungstenite-tls fastwebsockets-tls)
  echo "==> wss servers on core $SERVER_CPU: ${servers[*]}" >&2
  for s in "${servers[@]}"; do start "$s" "${CMD[$s]}"; done
  tls="--tls-ca $TLS/ca.pem"
  run_echo_row wss wss-16x1KiB "--conns 16 --size 1024 --window 1 $tls" "${servers[@]}"
  run_echo_row wss wss-16x64KiB "--conns 16 --size 65536 --window 1 $tls" "${servers[@]}"
  run_echo_row wss wss-batch16-16x1KiB "--conns 16 --size 1024 --window 16 $tls" "${servers[@]}"
  cleanup
fi

if has firehose; then
  echo "==> firehose: sender on core $GEN_CPU, clients on core $SERVER_CPU" >&2
  for size in 1024 65536; do
    row="firehose-$((size / 1024))KiB"
    echo "  $row" >&2
    log="$OUT/sender-$size.log"
    taskset -c "$GEN_CPU" "$BIN/firehose" send --size "$size" >"$log" 2>&1 &
    PID[sender]=$!
    addr=$(wait_for_addr "$log") || { echo "the sender did not start: $(cat "$log")" >&2; exit 1; }
    msgs=$FIREHOSE_MSGS; [[ $size -gt 1024 ]] && msgs=$((FIREHOSE_MSGS / 16))
    clients=(raw ours tungstenite fastwebsockets)
    for sample in $(seq 1 "$SAMPLES"); do
      for i in 0 1 2 3; do
        c=${clients[$(((i + sample) % 4))]}
        if [[ $c == raw ]]; then
          line=$(taskset -c "$SERVER_CPU" "$BIN/firehose" raw --addr "$addr" --size "$size" --messages "$msgs")
        else
          line=$(taskset -c "$SERVER_CPU" "$BIN/firehose-client" --client "$c" --addr "$addr" --messages "$msgs")
        fi
        echo "firehose $row $c $sample $line" >>"$RESULTS"
      done
    done
    stop sender
  done
fi

{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "(shared machine: ratios from the same run only)."
  echo
  python3 "$ROOT/scripts/bench_matrix_report.py" "$RESULTS"
} | tee "$OUT/table.md"
