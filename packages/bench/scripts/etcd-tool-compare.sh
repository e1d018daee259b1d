#!/usr/bin/env bash
# Runs etcd's own benchmark tool (etcd 3.4.23's tools/benchmark) against real etcd 3.4 and against
# Keyway, one fresh member each (or MEMBERS-member clusters, every endpoint given to the tool, the
# leader first) on this machine, alternating the two for every pass, and prints the
# median of REPEATS passes of each as a Markdown table (requests/s, p99, ratio), with the machine's
# load before and after. The workloads are issue 12's table rows; flags as etcd's performance docs
# use them (`put` without --key-space-size writes one key over and over, as the docs' command does).
# Usage: pnpm --filter @keyway/bench run tool-compare   (after `pnpm exec tsc -b`)
#   REPEATS=3  SCALE=1 (multiplies every --total)  ONLY=<substring of a row name>  KEEP=<dir for raw output>
#   MEMBERS=1 (3 or 5: clusters on loopback)
# Needs /usr/bin/etcd, etcdctl and the tool at $ETCD_BENCHMARK (default /tmp/etcd-benchmark/etcd-benchmark;
# `bash /work/shared/tools/build-etcd-benchmark.sh` builds it, or the script says how).
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPEATS=${REPEATS:-3}
SCALE=${SCALE:-1}
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
if [ ! -x "$TOOL" ]; then
  echo "etcd's benchmark tool not found at $TOOL: run bash /work/shared/tools/build-etcd-benchmark.sh" >&2
  exit 1
fi
work=$(mktemp -d)
raw=${KEEP:-$work/raw}
mkdir -p "$raw"
etcd_port=${ETCD_PORT:-22379}
keyway_port=${KEYWAY_PORT:-23379}

MEMBERS=${MEMBERS:-1}
if [ "$MEMBERS" -gt 1 ]; then
  # shellcheck source=cluster-servers.sh
  source "packages/bench/scripts/cluster-servers.sh"
else
  # shellcheck source=servers.sh
  source "packages/bench/scripts/servers.sh"
  etcd_endpoints="127.0.0.1:$etcd_port"
  keyway_endpoints="127.0.0.1:$keyway_port"
fi

# The range rows read one existing key with a 256-byte value, on both servers.
value=$(head -c 256 /dev/zero | tr '\0' v)
for endpoints in $etcd_endpoints $keyway_endpoints; do
  etcdctl --endpoints="$endpoints" put foo "$value" >/dev/null
done

# Runs one pass of the tool; prints "<requests/s> <p99 ms>" and keeps the tool's report in $raw.
run_tool() {
  local endpoints=$1 out=$2
  shift 2
  # The tool redraws a progress bar with \r; only its final report is kept.
  "$TOOL" --endpoints="$endpoints" "$@" 2>&1 | tr '\r' '\n' | grep -v '^ *[0-9]* / [0-9]*' >"$out"
  if grep -q "Error distribution" "$out"; then
    echo "errors in $out:" >&2
    sed -n '/Error distribution/,$p' "$out" >&2
  fi
  awk '/Requests\/sec:/ { rps = $2 } /99% in/ { p99 = $3 * 1000 } END { printf "%s %s\n", rps, p99 }' "$out"
}

echo "load before: $(uptime)"
echo
echo "| workload (etcd benchmark tool) | etcd 3.4 req/s | etcd p99 ms | Keyway req/s | Keyway p99 ms | Keyway / etcd |"
echo "| --- | --- | --- | --- | --- | --- |"
while IFS='|' read -r name args; do
  [ -n "$name" ] || continue
  [[ -z "${ONLY:-}" || "$name" == *"$ONLY"* ]] || continue
  # SCALE applies to --total only.
  args=$(echo "$args" | awk -v s="$SCALE" '{ for (i = 1; i <= NF; i++) if ($i ~ /^--total=/) { split($i, a, "="); $i = "--total=" int(a[2] * s) } print }')
  for target in etcd keyway; do : >"$work/$target.runs"; done
  for pass in $(seq "$REPEATS"); do
    for target in etcd keyway; do
      endpoints=$([ "$target" = etcd ] && echo "$etcd_endpoints" || echo "$keyway_endpoints")
      # shellcheck disable=SC2086 # $args is a list of flags
      run_tool "$endpoints" "$raw/$(echo "$name" | tr -c 'a-z0-9' _)-$target-$pass.txt" $args >>"$work/$target.runs"
    done
  done
  e_rps=$(awk '{ print $1 }' "$work/etcd.runs" | median)
  k_rps=$(awk '{ print $1 }' "$work/keyway.runs" | median)
  e_p99=$(awk '{ print $2 }' "$work/etcd.runs" | median)
  k_p99=$(awk '{ print $2 }' "$work/keyway.runs" | median)
  printf "| %s | %.0f | %.1f | %.0f | %.1f | %.2f× |\n" "$name" "$e_rps" "$e_p99" "$k_rps" "$k_p99" \
    "$(echo "$k_rps / $e_rps" | bc -l)"
done <<'WORKLOADS'
put, 1 client|--conns=1 --clients=1 put --key-size=8 --sequential-keys --total=10000 --val-size=256
put, 1000 clients / 100 conns|--conns=100 --clients=1000 put --key-size=8 --sequential-keys --total=100000 --val-size=256
range linearizable, 1 client|--conns=1 --clients=1 range foo --consistency=l --total=10000
range serializable, 1 client|--conns=1 --clients=1 range foo --consistency=s --total=10000
range linearizable, 1000 clients / 100 conns|--conns=100 --clients=1000 range foo --consistency=l --total=100000
txn of 4 puts, 100 clients / 10 conns|--conns=10 --clients=100 txn-put --txn-ops=4 --key-space-size=100000 --key-size=8 --val-size=256 --total=20000
WORKLOADS
echo
echo "load after: $(uptime)"
echo "medians of $REPEATS passes, etcd and Keyway alternating; MEMBERS=$MEMBERS; SCALE=$SCALE; reports in $raw"
