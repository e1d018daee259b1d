#!/usr/bin/env bash
# Hand-off rate of Go's concurrency.Mutex (through `etcdctl lock <name> true`) with N contending
# loops for S seconds against ENDPOINT: the reference for @keyway/lock's handoff.ts. Each etcdctl
# run connects, grants a session lease, takes the lock, runs `true`, unlocks and exits, so process
# start-up overlaps with the other loops' turns; the lock is the serial part.
# Usage: bash packages/lock/bench/etcdctl-handoff.sh http://127.0.0.1:2379 [contenders=10] [seconds=10]
set -euo pipefail
endpoint=$1
contenders=${2:-10}
seconds=${3:-10}
name="bench/etcdctl/$$"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
deadline=$(($(date +%s%N) + seconds * 1000000000))
start=$(date +%s%N)
for i in $(seq "$contenders"); do
  (
    n=0
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
      ETCDCTL_API=3 etcdctl --endpoints="$endpoint" lock "$name" true >/dev/null
      n=$((n + 1))
    done
    echo "$n" >"$dir/$i"
  ) &
done
wait
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
total=$(cat "$dir"/* | paste -sd+ | bc)
echo "{\"contenders\":$contenders,\"seconds\":$(echo "scale=2; $elapsed_ms/1000" | bc),\"acquisitions\":$total,\"handoffsPerSecond\":$(echo "scale=1; $total*1000/$elapsed_ms" | bc)}"
