#!/usr/bin/env bash
# User-space instructions per message a firehose client spends receiving,
# counted by valgrind's callgrind (repeatable on a shared machine, unlike
# time). `firehose send` writes unmasked frames of SIZE bytes as fast as
# the socket takes them; each client reads N messages, then 3N, under
# callgrind; the difference of the two totals divided by 2N is its cost
# per message (start-up, handshake and exit cancel out; kernel work is not
# counted). FUNCS=1 also writes the 3N run's top functions per message.
#
#   scripts/bench-firehose-instructions.sh                   # 1 KiB: raw ours tungstenite fastwebsockets
#   SIZE=65536 N=2000 scripts/bench-firehose-instructions.sh
#   OURS=/path/to/older/firehose-client CLIENTS='ours' scripts/bench-firehose-instructions.sh   # before/after
#
# Knobs: SIZE, N, CLIENTS (raw ours tungstenite fastwebsockets), OURS (the
# firehose-client binary used for `ours`), OUT, FUNCS, NO_BUILD.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/bench-common.sh
source "$ROOT/scripts/bench-common.sh"
SIZE="${SIZE:-1024}"; N="${N:-10000}"
CLIENTS="${CLIENTS:-raw ours tungstenite fastwebsockets}"
BENCH_TARGET="${BENCH_TARGET_DIR:-$ROOT/bench/target}"
OUT="${OUT:-$ROOT/target/bench/firehose-instructions}"
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }
if [[ -z "${NO_BUILD:-}" ]]; then
  echo "==> building (release)" >&2
  (cd "$ROOT/bench" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q \
    -p wsbench -p firehose-clients)
fi
BIN="$BENCH_TARGET/release"
OURS="${OURS:-$BIN/firehose-client}"

sender=""
cleanup() { [[ -n $sender ]] && kill "$sender" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
"$BIN/firehose" send --size "$SIZE" >"$OUT/sender.log" 2>&1 &
sender=$!
addr=$(wait_for_addr "$OUT/sender.log") || { echo "the sender did not start: $(cat "$OUT/sender.log")" >&2; exit 1; }

ir_of() { # callgrind output file -> total Ir
  awk '/^summary:/ {print $2}' "$1"
}
run() { # client, messages, output file
  local cmd
  case $1 in
    raw) cmd=("$BIN/firehose" raw --addr "$addr" --size "$SIZE" --messages "$2") ;;
    ours) cmd=("$OURS" --client ours --addr "$addr" --messages "$2") ;;
    *) cmd=("$BIN/firehose-client" --client "$1" --addr "$addr" --messages "$2") ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$3" "${cmd[@]}" >"$3.log" 2>&1
}

printf '| client | size | messages | instructions / message | ÷ raw reader |\n'
printf '| --- | ---: | ---: | ---: | ---: |\n'
declare -A PER
for c in $CLIENTS; do
  one="$OUT/$c.$SIZE.1.cg"; three="$OUT/$c.$SIZE.3.cg"
  run "$c" "$N" "$one"
  run "$c" $((3 * N)) "$three"
  per=$(( ($(ir_of "$three") - $(ir_of "$one")) / (2 * N) ))
  PER[$c]=$per
  ratio="-"
  [[ -n "${PER[raw]:-}" ]] && ratio=$(python3 -c "print(f'{$per / ${PER[raw]}:.2f}')")
  printf '| %s | %s | %s | %s | %s |\n' "$c" "$SIZE" "$N" "$per" "$ratio"
  if [[ -n "${FUNCS:-}" ]]; then
    callgrind_annotate --inclusive=no --threshold=99 "$three" 2>/dev/null \
      | awk -v n=$((3 * N)) '/^[ 0-9,]+ \(/ { gsub(",", "", $1); printf "    %8d  %s\n", $1 / n, $0 }' \
      | head -40 >"$OUT/$c.$SIZE.funcs.txt" || true
    echo "    (top functions per message: $OUT/$c.$SIZE.funcs.txt)" >&2
  fi
done
