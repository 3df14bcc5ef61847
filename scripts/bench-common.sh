# Sourced by the bench scripts (bench-instructions.sh, bench-matrix.sh, bench-idle.sh).

# wait_for_addr LOG: prints HOST:PORT once LOG shows `ws://HOST:PORT` or
# `wss://HOST:PORT` (every benchmark server prints it when listening);
# fails after 10 s.
wait_for_addr() {
  local addr=""
  for _ in $(seq 1 200); do
    addr=$(grep -s -o 'wss\?://[0-9.]*:[0-9]*' "$1" | head -1 | sed 's|wss\?://||') || true
    if [[ -n $addr ]]; then
      echo "$addr"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# build_bench: builds our echo_server and this bench workspace in release
# (not when NO_BUILD is set) and sets OURS and BIN to where they are.
# Needs ROOT and BENCH_TARGET; CARGO_TARGET_DIR is the root's target.
build_bench() {
  if [[ -z "${NO_BUILD:-}" ]]; then
    echo "==> building (release)" >&2
    (cd "$ROOT" && cargo build --release -q -p examples-more --example echo_server)
    (cd "$ROOT/bench" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q)
  fi
  OURS="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/echo_server"
  BIN="$BENCH_TARGET/release"
}
