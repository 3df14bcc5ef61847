#!/usr/bin/env bash
# Many idle connections (issue 24 item 5): each echo server holds N idle
# WebSocket connections (handshake done, then silence); reports its RSS per
# connection and the accept rate (handshakes completed per second), each
# with its ratio to the best peer and the spread of the runs, then checks
# ours at the descriptor limit (EMFILE: no crash, no spin, serves again).
#
#   scripts/bench-idle.sh                          # 100,000 requested, all servers, 3 runs
#   CONNS=20000 RUNS=5 SERVERS='ours-tokio fastwebsockets' scripts/bench-idle.sh
#
# N is what this machine allows: the server holds one descriptor per
# connection, so N = min(CONNS, its RLIMIT_NOFILE - RESERVE). The script
# raises the soft limit to the hard one (servers and clients inherit it);
# raising the hard limit needs CAP_SYS_RESOURCE (as root: `ulimit -Hn
# 1048576` before running, or `prlimit`). The clients are `idleconns`
# workers of PER_PROC connections each, every worker bound to its own
# source address (127.S.R.W: server S, run R, worker W, so no run meets
# another's TIME_WAIT ports), as one source address has only the
# ephemeral range's ports.
#
# Knobs: CONNS (100000), RUNS (3), SERVERS (names to keep), PEERS (the
# ratios' peers), INFLIGHT (handshakes under way over all workers, 64:
# below the servers' listen backlog of 128; more overflows it, see
# bench/README.md), PER_PROC (10000), RESERVE (64 descriptors left to the
# server), BEYOND (100: connections past the server's limit in the EMFILE
# check; 0 skips it), EXHAUST_SERVERS (ours on the three runtimes),
# MEM_FLOOR_MIB (2048: stop opening below this MemAvailable), SERVER_CPU,
# GEN_CPU, OUT, BENCH_TARGET_DIR, NO_BUILD.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/bench-common.sh
source "$ROOT/scripts/bench-common.sh"
CONNS="${CONNS:-100000}"; RUNS="${RUNS:-3}"; INFLIGHT="${INFLIGHT:-64}"
PER_PROC="${PER_PROC:-10000}"; RESERVE="${RESERVE:-64}"; BEYOND="${BEYOND:-100}"
EXHAUST_SERVERS="${EXHAUST_SERVERS:-ours-tokio ours-async-std ours-smol}"
MEM_FLOOR_MIB="${MEM_FLOOR_MIB:-2048}"
SERVER_CPU="${SERVER_CPU:-0}"; GEN_CPU="${GEN_CPU:-1}"
OUT="${OUT:-$ROOT/target/bench/idle}"
BENCH_TARGET="${BENCH_TARGET_DIR:-$ROOT/bench/target}"
PEERS="${PEERS:-tokio-tungstenite fastwebsockets tokio-websockets}"
mkdir -p "$OUT"
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 2; }

# The descriptor limit: soft up to hard, N from what the server may hold.
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=$(cat /proc/sys/fs/nr_open)
ulimit -n "$hard" 2>/dev/null || echo "    (could not raise the soft descriptor limit to $hard)" >&2
limit=$(ulimit -n)
n=$((limit - RESERVE))
((n > CONNS)) && n=$CONNS
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
ports=$((port_hi - port_lo + 1))
per_proc=$PER_PROC
((per_proc > limit - 64)) && per_proc=$((limit - 64))
((per_proc > ports * 9 / 10)) && per_proc=$((ports * 9 / 10))
workers=$(((n + per_proc - 1) / per_proc))
inflight=$((INFLIGHT / workers)); ((inflight < 1)) && inflight=1
commas() { echo "$1" | rev | sed 's/[0-9]\{3\}/&,/g; s/,$//' | rev; }
LIMITS="$(commas "$CONNS") requested; descriptor limit $limit (hard $(ulimit -Hn), fs.nr_open $(cat /proc/sys/fs/nr_open)) -> N = $(commas "$n") ($RESERVE left to the server); ephemeral ports $port_lo-$port_hi ($ports per source address); somaxconn $(cat /proc/sys/net/core/somaxconn); $workers client processes of <= $per_proc connections, one source address each, $inflight handshakes under way in each"
echo "==> $LIMITS" >&2

build_bench

# name|command (every server prints ws://ADDR once listening)
candidates=(
  "raw-tcp|$BIN/echo-raw"
  "raw-smol|$BIN/echo-raw --runtime smol"
  "ours-tokio|$OURS --addr 127.0.0.1:0 --runtime tokio --threads 1"
  "ours-async-std|$OURS --addr 127.0.0.1:0 --runtime async-std --threads 1"
  "ours-smol|$OURS --addr 127.0.0.1:0 --runtime smol --threads 1"
  "ours-axum|$BIN/echo-axum-ours"
  "tokio-tungstenite|$BIN/echo-tungstenite"
  "fastwebsockets|$BIN/echo-fastwebsockets"
  "tokio-websockets|$BIN/echo-tokio-websockets"
  "axum-ws|$BIN/echo-axum-ws"
)
keep() { [[ -z "$1" || " $1 " == *" $2 "* ]]; }
servers=(); declare -A CMD
for c in "${candidates[@]}"; do
  name="${c%%|*}"
  keep "${SERVERS:-}" "$name" || continue
  servers+=("$name"); CMD[$name]="${c#*|}"
done

SPID=""
stop_server() { [[ -n $SPID ]] && { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }; SPID=""; }
trap stop_server EXIT

sources() { # server-index run count [first worker]
  local list="" w
  for w in $(seq "${4:-2}" $(($3 + ${4:-2} - 1))); do list+="${list:+,}127.$1.$2.$w"; done
  echo "$list"
}

RESULTS="$OUT/results.txt"; : >"$RESULTS"
echo "==> $RUNS runs; servers on core $SERVER_CPU, clients on core $GEN_CPU" >&2
for run in $(seq 1 "$RUNS"); do
  count=${#servers[@]}
  for i in $(seq 0 $((count - 1))); do
    idx=$(((i + run) % count)); s=${servers[$idx]}
    log="$OUT/server-$s.log"
    : >"$log" # emptied here, not by the child: the last run's address must not be read
    # shellcheck disable=SC2086
    taskset -c "$SERVER_CPU" ${CMD[$s]} >"$log" 2>&1 &
    SPID=$!
    addr=$(wait_for_addr "$log") || { echo "$s did not start: $(cat "$log")" >&2; exit 1; }
    backlog=$(ss -Hltn "sport = :${addr##*:}" | awk '{print $3; exit}')
    beyond=0
    [[ $run == 1 && $BEYOND -gt 0 && $n == $((limit - RESERVE)) ]] && keep "$EXHAUST_SERVERS" "$s" && beyond=$BEYOND
    echo "  run $run: $s" >&2
    out=$(taskset -c "$GEN_CPU" "$BIN/idleconns" --addr "$addr" --server-pid "$SPID" --conns "$n" \
      --per-proc "$per_proc" --inflight "$inflight" --sources "$(sources $((idx + 1)) "$run" $((workers + 1)))" \
      --mem-floor-mib "$MEM_FLOOR_MIB" --beyond "$beyond") || echo "    (idleconns failed against $s)" >&2
    while read -r line; do
      [[ $line == RESULT* || $line == EXHAUST* ]] && echo "$s $run backlog=$backlog $line" >>"$RESULTS"
    done <<<"$out"
    grep -q "$s $run backlog=[0-9]* RESULT" "$RESULTS" || echo "$s $run backlog=$backlog RESULT conns=0 alive=no error=no result: $(tail -c 300 "$log" | tr '\n' ' ')" >>"$RESULTS"
    stop_server
  done
done

{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "(shared machine: the accept rate is timing; medians of $RUNS runs, spread min-max)."
  echo "$LIMITS."
  echo
  python3 "$ROOT/scripts/bench_idle_report.py" "$RESULTS" "$PEERS"
} | tee "$OUT/table.md"
