#!/usr/bin/env bash
# Lease keep-alive throughput, etcd 3.4 against Keyway, with etcd's own Go benchmark tool
# (`benchmark lease-keepalive`: each client grants a lease, then sends keep-alives on one stream
# and waits for each answer). Both servers run on this machine with fresh data dirs; the passes
# alternate etcd, Keyway, etcd, ...; prints each pass and the median of PASSES per row.
# Usage: bash packages/bench/scripts/lease-keepalive.sh   (after `pnpm exec tsc -b`; needs
# /usr/bin/etcd and the tool at $ETCD_BENCHMARK, built by /work/shared/tools/build-etcd-benchmark.sh)
set -euo pipefail
cd "$(dirname "$0")/../../.."
PASSES=${PASSES:-3}
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
work=$(mktemp -d)
etcd_port=${ETCD_PORT:-22479}
keyway_port=${KEYWAY_PORT:-23479}

# shellcheck source=servers.sh
source "packages/bench/scripts/servers.sh"

echo "| clients / conns | total | etcd 3.4 req/s (passes) | Keyway req/s (passes) | etcd median | Keyway median | Keyway / etcd |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
while read -r clients total; do
  for target in etcd keyway; do : >"$work/$target.runs"; done
  for _ in $(seq "$PASSES"); do
    for target in etcd keyway; do
      port=$([ "$target" = etcd ] && echo "$etcd_port" || echo "$keyway_port")
      "$TOOL" --endpoints="127.0.0.1:$port" --clients="$clients" --conns="$clients" \
        lease-keepalive --total="$total" 2>/dev/null | awk '/Requests\/sec:/ { print $2 }' >>"$work/$target.runs"
    done
  done
  e=$(median <"$work/etcd.runs")
  k=$(median <"$work/keyway.runs")
  printf "| %s / %s | %s | %s | %s | %.0f | %.0f | %.2f |\n" "$clients" "$clients" "$total" \
    "$(paste -sd' ' "$work/etcd.runs")" "$(paste -sd' ' "$work/keyway.runs")" "$e" "$k" "$(echo "$k / $e" | bc -l)"
done <<ROWS
1 ${TOTAL_1:-20000}
100 ${TOTAL_100:-200000}
ROWS
