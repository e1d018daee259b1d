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

etcd --name bench --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-cluster "bench=http://127.0.0.1:$((etcd_port + 1))" --log-level error >"$work/etcd.log" 2>&1 &
etcd_pid=$!
node packages/cli/bin/keyway.js serve --data-dir "$work/keyway" --log-level warn \
  --listen-client-urls "http://127.0.0.1:$keyway_port" >"$work/keyway.log" 2>&1 &
keyway_pid=$!
trap 'kill $etcd_pid $keyway_pid 2>/dev/null; wait $etcd_pid $keyway_pid 2>/dev/null; rm -rf "$work"' EXIT
for port in $etcd_port $keyway_port; do
  until etcdctl --endpoints="127.0.0.1:$port" endpoint health >/dev/null 2>&1; do sleep 0.2; done
done

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

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
