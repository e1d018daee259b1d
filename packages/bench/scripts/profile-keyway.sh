#!/usr/bin/env bash
# Profiles a fresh Keyway member (node --cpu-prof) under one etcd benchmark tool workload and prints
# the top self-time items (packages/bench/dist/profile-top.js). The .cpuprofile is kept in $OUT.
# Usage: pnpm --filter @keyway/bench run profile [-- <etcd-benchmark args>]
#   default workload: --clients=1000 --conns=100 put --key-size=8 --sequential-keys --total=100000 --val-size=256
# Needs `pnpm exec tsc -b` and /tmp/etcd-benchmark/etcd-benchmark (bash /work/shared/tools/build-etcd-benchmark.sh).
set -euo pipefail
cd "$(dirname "$0")/../../.."
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
port=${KEYWAY_PORT:-23379}
OUT=${OUT:-$(mktemp -d)}
work=$(mktemp -d)
[ "${1:-}" != "--" ] || shift # pnpm run passes the separator through
if [ $# -eq 0 ]; then
  set -- --clients=1000 --conns=100 put --key-size=8 --sequential-keys --total=100000 --val-size=256
fi
node ${NODE_FLAGS:-} --cpu-prof --cpu-prof-dir="$OUT" packages/cli/bin/keyway.js serve --data-dir "$work/keyway" --log-level warn \
  --listen-client-urls "http://127.0.0.1:$port" >"$work/keyway.log" 2>&1 &
keyway_pid=$!
trap 'kill $keyway_pid 2>/dev/null; wait $keyway_pid 2>/dev/null; rm -rf "$work"' EXIT
until etcdctl --endpoints="127.0.0.1:$port" endpoint health >/dev/null 2>&1; do sleep 0.2; done
"$TOOL" --endpoints="127.0.0.1:$port" "$@" 2>&1 | tr "\r" "\n" | grep -E "Requests/sec|Average|99%|Total:" >&2
kill -TERM $keyway_pid
wait $keyway_pid || true
profile=$(ls "$OUT"/*.cpuprofile | tail -1)
echo "profile: $profile" >&2
node packages/bench/dist/profile-top.js "$profile" "${TOP:-25}"
