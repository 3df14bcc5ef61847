#!/usr/bin/env bash
# Quick interleaved A/B of echo servers under the load generator: for each
# of N rounds, starts each server in turn pinned to core SERVER_CPU (0),
# runs `loadgen` pinned to GEN_CPU (1) against it, and prints one line per
# sample: name, messages/s, p99 and the server's CPU per message. Less
# thorough than scripts/bench.sh (no medians, no build); for a quick look
# at one row before a full run. Needs bench/'s release build.
#
#   LG='--conns 16 --size 16 --window 64' N=5 scripts/ab.sh \
#     'before|/path/to/old/echo_server --runtime tokio --threads 1 --compress off' \
#     'after|target/release/examples/echo_server --runtime tokio --threads 1 --compress off'
#
# Each command gets `--addr 127.0.0.1:0` and must print ws://ADDR.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOADGEN="${BENCH_TARGET_DIR:-$ROOT/bench/target}/release/loadgen"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
for _ in $(seq "${N:-3}"); do
  for spec in "$@"; do
    name="${spec%%|*}"
    # shellcheck disable=SC2086
    taskset -c "${SERVER_CPU:-0}" ${spec#*|} --addr 127.0.0.1:0 >"$LOG" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q 'ws://' "$LOG" && break; sleep 0.05; done
    addr="$(grep -o 'ws://[^ ]*' "$LOG" | head -1 | sed 's#ws://##')"
    # shellcheck disable=SC2086
    result="$(taskset -c "${GEN_CPU:-1}" "$LOADGEN" --addr "$addr" ${LG:-} --warmup 0.5 \
      --duration "${DURATION:-2}" --server-pid "$pid" | grep RESULT || true)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$name $(grep -o 'msgs_per_s=[0-9.]*\|p99_us=[0-9.]*\|server_cpu_us_per_msg=[0-9.]*' <<<"$result" | tr '\n' ' ')"
  done
done
