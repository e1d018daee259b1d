#!/usr/bin/env bash
# The Node gRPC stack's own ceiling under etcd's benchmark tool: KV.Put answered with a fixed
# response, nothing stored, served by grpc-js (Keyway's stack) and by a hand-rolled unary gRPC on
# node:http2 (packages/bench/src/grpc-floor.ts), next to a real etcd 3.4 that stores every put;
# the three alternate, REPEATS passes, medians.
# Usage: pnpm --filter @keyway/bench run grpc-floor   (after `pnpm exec tsc -b`)
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPEATS=${REPEATS:-3}
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
port=${FLOOR_PORT:-24379}
etcd_port=${ETCD_PORT:-22379}
work=$(mktemp -d)
# shellcheck source=etcd-server.sh
source "packages/bench/scripts/etcd-server.sh"
trap 'kill $etcd_pid 2>/dev/null; wait $etcd_pid 2>/dev/null || true; rm -rf "$work"' EXIT
until etcdctl --endpoints="127.0.0.1:$etcd_port" endpoint health >/dev/null 2>&1; do sleep 0.2; done
# shellcheck source=median.sh
source "packages/bench/scripts/median.sh"

# Runs one pass against etcd or a fresh floor server of the given stack; prints requests/s.
pass() {
  local stack=$1
  shift
  if [ "$stack" = etcd ]; then
    "$TOOL" --endpoints="127.0.0.1:$etcd_port" "$@" 2>&1 | tr '\r' '\n' | awk '/Requests\/sec:/ { print $2 }'
    return
  fi
  node packages/bench/dist/grpc-floor.js "$stack" "$port" &
  local pid=$!
  until etcdctl --endpoints="127.0.0.1:$port" --command-timeout=1s put probe x >/dev/null 2>&1; do sleep 0.2; done
  "$TOOL" --endpoints="127.0.0.1:$port" "$@" 2>&1 | tr '\r' '\n' | awk '/Requests\/sec:/ { print $2 }'
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "load before: $(uptime)"
echo
echo "| workload (etcd benchmark tool) | etcd 3.4 (stores) req/s | grpc-js (stores nothing) req/s | node:http2 (stores nothing) req/s | grpc-js / etcd | http2 / grpc-js |"
echo "| --- | --- | --- | --- | --- | --- |"
while IFS='|' read -r name args; do
  for stack in etcd grpc-js http2; do : >"$work/runs-$stack"; done
  for _ in $(seq "$REPEATS"); do
    for stack in etcd grpc-js http2; do
      # shellcheck disable=SC2086 # $args is a list of flags
      pass "$stack" $args >>"$work/runs-$stack"
    done
  done
  e=$(median <"$work/runs-etcd")
  g=$(median <"$work/runs-grpc-js")
  h=$(median <"$work/runs-http2")
  printf "| %s | %.0f | %.0f | %.0f | %.2f× | %.2f× |\n" "$name" "$e" "$g" "$h" "$(echo "$g / $e" | bc -l)" \
    "$(echo "$h / $g" | bc -l)"
done <<'WORKLOADS'
put, 1 client|--conns=1 --clients=1 put --key-size=8 --sequential-keys --total=10000 --val-size=256
put, 1000 clients / 100 conns|--conns=100 --clients=1000 put --key-size=8 --sequential-keys --total=100000 --val-size=256
WORKLOADS
echo
echo "load after: $(uptime)"
