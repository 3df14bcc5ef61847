#!/usr/bin/env bash
# Autobahn|Testsuite conformance for every runtime, server and client role.
#
#   scripts/conformance.sh            # CI selection: all cases for tokio,
#                                     #   all but 12.*/13.* (plus 12.1.*, 13.1.*) for async-std
#   scripts/conformance.sh --full     # every case for every runtime (~1 h)
#   RUNTIMES="smol" scripts/conformance.sh    # smol too (tokio, async-std, smol)
#   RUNTIMES="tokio" CASES="1.*,2.*" scripts/conformance.sh   # a quick loop
#   AXUM=0 scripts/conformance.sh     # without the extra axum run
#
# One extra run serves the fuzzing client from the `axum_echo` example (an
# axum route through ws-axum, HTTP/1.1): every case, compression included.
#
# Passes only if every case is OK or INFORMATIONAL (NON-STRICT and
# UNIMPLEMENTED count as failures) and every close behaviour is OK, except the
# cases listed with a reason in scripts/conformance-exceptions.txt. Prints
# `N passed, N failed` (one per runtime × role) at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AUTOBAHN="${AUTOBAHN_DIR:-$ROOT/../shared/tools/autobahn}"
OUT="${OUT:-$ROOT/target/autobahn}"
RUNTIMES="${RUNTIMES:-tokio async-std}"
FULL=0
[[ "${1:-}" == "--full" ]] && FULL=1

[[ -x "$AUTOBAHN/install.sh" ]] || { echo "Autobahn tools not found at $AUTOBAHN (set AUTOBAHN_DIR)" >&2; exit 2; }
"$AUTOBAHN/install.sh" >/dev/null

cargo build --release -p examples-more --example echo_server --example autobahn_client
cargo build --release -p examples-axum --example axum_echo
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples"
EXCEPTIONS="$ROOT/scripts/conformance-exceptions.txt"
# The programs run with the library's default limits; Autobahn's 9.* cases
# send 16 MiB messages and frames, so both limits are raised to that.
LIMITS="--max-message-size $((16 << 20))"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cases_for() { # runtime -> "include|exclude"
  if [[ -n "${CASES:-}" ]]; then echo "${CASES}|"; return; fi
  if [[ $FULL == 1 || $1 == tokio ]]; then echo "*|"; else echo "*|12.*,13.*"; fi
}

# Checks a summary line and the per-case results against the exceptions.
verdict() { # report-dir agent
  python3 - "$1" "$2" "$EXCEPTIONS" <<'PY'
import json, sys, os
outdir, agent, exc_file = sys.argv[1:]
excepted = {}
if os.path.exists(exc_file):
    for line in open(exc_file):
        line = line.strip()
        if line and not line.startswith("#"):
            case, _, reason = line.partition(" ")
            excepted[case] = reason.strip()
index = json.load(open(os.path.join(outdir, "index.json")))
results = index.get(agent) or next(iter(index.values()))
bad = []
for case, r in sorted(results.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
    ok = r["behavior"] in ("OK", "INFORMATIONAL") and r["behaviorClose"] in ("OK", "INFORMATIONAL")
    if not ok and case not in excepted:
        bad.append(f"  {case}: behavior={r['behavior']} close={r['behaviorClose']}")
print(f"  {len(results)} cases, {len(bad)} not OK")
print("\n".join(bad[:50]))
sys.exit(1 if bad or not results else 0)
PY
}

# One runtime in one role: the run, its report, and its verdict (a file
# `verdict` holding "pass" or "fail" in the report directory).
run_role() { # runtime role port include exclude
  local rt=$1 role=$2 port=$3 include=$4 exclude=$5
  local dir="$OUT/$rt-$role" start pid
  rm -rf "$dir"; mkdir -p "$dir"
  start=$(date +%s)
  if [[ $role == server ]]; then
    local path=""
    if [[ $rt == axum ]]; then
      # shellcheck disable=SC2086 # LIMITS is two words
      "$BIN/axum_echo" --addr "127.0.0.1:$port" $LIMITS >"$dir/echo_server.log" 2>&1 &
      path=/ws
    else
      # shellcheck disable=SC2086 # LIMITS is two words
      "$BIN/echo_server" --addr "127.0.0.1:$port" --runtime "$rt" $LIMITS >"$dir/echo_server.log" 2>&1 &
    fi
    pid=$!
    for _ in $(seq 1 100); do grep -q "$port" "$dir/echo_server.log" 2>/dev/null && break; sleep 0.1; done
    "$AUTOBAHN/test-server.sh" -o "$dir" -a "wsproto-$rt" ${exclude:+-x "$exclude"} "ws://127.0.0.1:$port$path" "$include" \
      >"$dir/summary.txt" 2>&1 || true
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  else
    "$AUTOBAHN/test-client.sh" -o "$dir" -p "$port" -a "wsproto-$rt" ${exclude:+-x "$exclude"} \
      "$BIN/autobahn_client --url ws://127.0.0.1:$port --agent wsproto-$rt --runtime $rt $LIMITS" "$include" \
      >"$dir/summary.txt" 2>&1 || true
  fi
  {
    echo "==> $rt / $role role: cases '$include' excluding '${exclude:-none}'"
    grep -E '^agent=' "$dir/summary.txt" || tail -5 "$dir/summary.txt"
    if [[ -f "$dir/index.json" ]] && verdict "$dir" "wsproto-$rt"; then
      echo pass >"$dir/verdict"
    else
      echo fail >"$dir/verdict"
    fi
    echo "  wall time: $(( $(date +%s) - start )) s; report: $dir/index.html"
  } >"$dir/result.txt" 2>&1
}

# The two roles of a runtime run side by side: the fuzzing side is a
# single-threaded Python process, so on two cores this halves the wall time.
passed=0; failed=0
for rt in $RUNTIMES; do
  IFS='|' read -r include exclude <<<"$(cases_for "$rt")"
  server_port=$(free_port)
  client_port=$(free_port)
  while [[ $client_port == "$server_port" ]]; do client_port=$(free_port); done
  run_role "$rt" server "$server_port" "$include" "$exclude" &
  server_job=$!
  run_role "$rt" client "$client_port" "$include" "$exclude" &
  client_job=$!
  wait "$server_job" "$client_job" || true
  for role in server client; do
    cat "$OUT/$rt-$role/result.txt"
    if [[ "$(cat "$OUT/$rt-$role/verdict" 2>/dev/null)" == pass ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  done
done
# The async-std CI run samples compression too.
if [[ -z "${CASES:-}" && $FULL == 0 && " $RUNTIMES " == *" async-std "* ]]; then
  echo "==> async-std compression sample (12.1.*, 13.1.*)"
  AXUM=0 CASES="12.1.*,13.1.*" RUNTIMES=async-std OUT="$OUT/sample" "$0" >"$OUT/sample.log" 2>&1 || tail -20 "$OUT/sample.log"
  line=$(grep -E '^conformance: [0-9]+ passed, [0-9]+ failed' "$OUT/sample.log" || echo "conformance: 0 passed, 2 failed")
  read -r sp sf <<<"$(sed -E 's/^conformance: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$line")"
  passed=$((passed + sp)); failed=$((failed + sf))
fi
# The axum route (ws-axum over hyper's HTTP/1.1 upgrade), server role.
if [[ "${AXUM:-1}" == 1 ]]; then
  IFS='|' read -r include exclude <<<"$(if [[ -n "${CASES:-}" ]]; then echo "${CASES}|"; else echo "*|"; fi)"
  run_role axum server "$(free_port)" "$include" "$exclude"
  cat "$OUT/axum-server/result.txt"
  if [[ "$(cat "$OUT/axum-server/verdict" 2>/dev/null)" == pass ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
fi
echo "conformance: $passed passed, $failed failed"
[[ $failed == 0 ]]
