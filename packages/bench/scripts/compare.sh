#!/usr/bin/env bash
# Runs the same keyway-bench workloads against real etcd 3.4 and against Keyway, on this machine,
# in one run, alternating the two, and prints the median of REPEATS runs of each as a Markdown table,
# then the resident memory of both after writing the same 1,000,000 keys (FILL_KEYS).
# Usage: pnpm --filter @keyway/bench run compare   (after `pnpm exec tsc -b`; needs /usr/bin/etcd)
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPEATS=${REPEATS:-3}
BENCH="node packages/bench/dist/main.js"
work=$(mktemp -d)
etcd_port=${ETCD_PORT:-22379}
keyway_port=${KEYWAY_PORT:-23379}

# shellcheck source=servers.sh
source "packages/bench/scripts/servers.sh"

echo "| workload | clients / conns | etcd 3.4 req/s | Keyway req/s | Keyway / etcd | etcd p50 ms | Keyway p50 ms |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
while read -r workload clients conns total; do
  for target in etcd keyway; do : >"$work/$target.runs"; done
  for _ in $(seq "$REPEATS"); do
    for target in etcd keyway; do
      port=$([ "$target" = etcd ] && echo "$etcd_port" || echo "$keyway_port")
      $BENCH --endpoint "http://127.0.0.1:$port" --workload "$workload" --clients "$clients" --conns "$conns" \
        --total "$total" >>"$work/$target.runs"
    done
  done
  field() { node -e 'const f=process.argv[1];for(const l of require("fs").readFileSync(0,"utf8").trim().split("\n"))console.log(JSON.parse(l)[f])' "$1"; }
  e_rps=$(field requestsPerSecond <"$work/etcd.runs" | median)
  k_rps=$(field requestsPerSecond <"$work/keyway.runs" | median)
  e_p50=$(field p50Ms <"$work/etcd.runs" | median)
  k_p50=$(field p50Ms <"$work/keyway.runs" | median)
  printf "| %s | %s / %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n" "$workload" "$clients" "$conns" "$e_rps" "$k_rps" \
    "$(echo "$k_rps / $e_rps" | bc -l)" "$e_p50" "$k_p50"
done <<'WORKLOADS'
put 1 1 3000
put 100 10 30000
put 1000 100 50000
range-linearizable 1 1 10000
range-serializable 1 1 10000
range-linearizable 100 10 50000
range-serializable 100 10 50000
WORKLOADS

# Memory: both servers then hold the same 1,000,000 keys (plus the history written above).
keys=${FILL_KEYS:-1000000}
for target in etcd keyway; do
  port=$([ "$target" = etcd ] && echo "$etcd_port" || echo "$keyway_port")
  $BENCH --endpoint "http://127.0.0.1:$port" --workload fill --clients 8 --conns 2 --total "$keys" >/dev/null
done
sleep 2
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
echo
echo "| memory after writing $keys keys (8-byte keys, 256-byte values) | etcd 3.4 | Keyway |"
echo "| --- | --- | --- |"
echo "| server RSS, MB | $(rss_mb $etcd_pid) | $(rss_mb $keyway_pid) |"
