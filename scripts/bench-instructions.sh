#!/usr/bin/env bash
# Instructions per message of echo servers, counted by valgrind's callgrind
# (repeatable on a shared machine, unlike time): each server runs under
# callgrind, the load generator (bench/loadgen, `--messages`) sends a fixed
# number of messages twice (N, then 2N, on fresh connections), and the
# difference of the two dumps divided by N is the server's user-space
# instructions per message (kernel work is not counted). With
# FUNCS=1 it also writes the top functions (self cost) of the 2N run per
# message, for a side-by-side look at where ours spends them.
#
#   scripts/bench-instructions.sh                       # rr c16 x 16 B: raw echo, ours, fastwebsockets
#   CONNS=16 SIZE=1024 WINDOW=1 N=4000 SERVERS='raw ours' scripts/bench-instructions.sh
#   OURS=/path/to/older/echo_server scripts/bench-instructions.sh   # a before/after pair
#
# Knobs: CONNS, SIZE, WINDOW, N, SERVERS (ours raw fastwebsockets
# tungstenite), OURS (echo_server binary), OUT, FUNCS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/bench-common.sh
source "$ROOT/scripts/bench-common.sh"
CONNS="${CONNS:-16}"; SIZE="${SIZE:-16}"; WINDOW="${WINDOW:-1}"; N="${N:-4000}"
SERVERS="${SERVERS:-raw ours fastwebsockets}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_TARGET="${BENCH_TARGET_DIR:-$ROOT/bench/target}"
OURS="${OURS:-$TARGET/release/examples/echo_server}"
OUT="${OUT:-$ROOT/target/bench/instructions}"
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }
if [[ -z "${NO_BUILD:-}" ]]; then
  echo "==> building (release)" >&2
  (cd "$ROOT" && cargo build --release -q -p examples-more --example echo_server)
  (cd "$ROOT/bench" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q \
    -p wsbench -p echo-raw -p echo-fastwebsockets -p echo-tungstenite)
fi
BIN="$BENCH_TARGET/release"
declare -A CMD=(
  [ours]="$OURS --addr 127.0.0.1:0 --runtime tokio --threads 1"
  [raw]="$BIN/echo-raw"
  [fastwebsockets]="$BIN/echo-fastwebsockets"
  [tungstenite]="$BIN/echo-tungstenite"
)

pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

ir_of() { # callgrind output file -> total Ir
  awk '/^summary:/ {print $2}' "$1"
}

printf '| server | conns | size | window | messages | instructions / message | ÷ raw echo |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
declare -A PER
for s in $SERVERS; do
  log="$OUT/$s.log"; base="$OUT/$s.cg"
  rm -f "$base"*
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$base" ${CMD[$s]} >"$log" 2>&1 &
  pid=$!
  addr=$(wait_for_addr "$log") || { echo "server $s did not start: $(cat "$log")" >&2; exit 1; }
  "$BIN/loadgen" --addr "$addr" --conns "$CONNS" --size "$SIZE" --window "$WINDOW" --messages 64 >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  "$BIN/loadgen" --addr "$addr" --conns "$CONNS" --size "$SIZE" --window "$WINDOW" --messages "$N" >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1
  "$BIN/loadgen" --addr "$addr" --conns "$CONNS" --size "$SIZE" --window "$WINDOW" --messages $((2 * N)) >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  one=$(ls "$base".* | sort -t. -k3 -n | sed -n 1p); two=$(ls "$base".* | sort -t. -k3 -n | sed -n 2p)
  per=$(( ($(ir_of "$two") - $(ir_of "$one")) / N ))
  PER[$s]=$per
  ratio="-"
  [[ -n "${PER[raw]:-}" ]] && ratio=$(python3 -c "print(f'{$per / ${PER[raw]}:.2f}')")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$CONNS" "$SIZE" "$WINDOW" "$N" "$per" "$ratio"
  if [[ -n "${FUNCS:-}" ]]; then
    callgrind_annotate --inclusive=no --threshold=99 "$two" 2>/dev/null \
      | awk -v n=$((2 * N)) '/^[ 0-9,]+ \(/ { gsub(",", "", $1); printf "    %8d  %s\n", $1 / n, $0 }' \
      | head -40 >"$OUT/$s.funcs.txt" || true
    echo "    (top functions per message: $OUT/$s.funcs.txt)" >&2
  fi
done
