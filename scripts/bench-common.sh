# Sourced by the bench scripts (bench-instructions.sh, bench-matrix.sh).

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
