#!/usr/bin/env bash
# Lock hand-off under contention, etcd 3.4 against Keyway on this machine in one run, with etcd's
# own Go benchmark tool: 10 clients each loop lock -> one STM txn -> unlock on ONE mutex, so every
# completed txn is one hand-off. `lock-client` is Go's concurrency.Mutex over KV/Watch/Lease (what
# etcdctl lock and Go services use); `lock-rpc` is the server's v3lock Lock/Unlock service. The two
# servers alternate, REPEATS passes each; prints medians as Markdown.
# Usage: pnpm --filter @keyway/bench run lock-compare   (after `pnpm exec tsc -b`; needs /usr/bin/etcd
# and etcd's benchmark tool at $ETCD_BENCHMARK, default /tmp/etcd-benchmark/etcd-benchmark)
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPEATS=${REPEATS:-3}
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
TOTAL=${TOTAL:-200}
CLIENTS=${CLIENTS:-10}
work=$(mktemp -d)
etcd_port=${ETCD_PORT:-22479}
keyway_port=${KEYWAY_PORT:-23479}

# shellcheck source=servers.sh
source "packages/bench/scripts/servers.sh"

lockers="lock-client lock-rpc"
for target in etcd keyway; do for locker in $lockers; do : >"$work/$target.$locker"; done; done
for pass in $(seq "$REPEATS"); do
  for target in etcd keyway; do
    port=$([ "$target" = etcd ] && echo "$etcd_port" || echo "$keyway_port")
    for locker in $lockers; do
      $TOOL --endpoints="127.0.0.1:$port" --clients="$CLIENTS" --conns="$CLIENTS" stm --stm-locker="$locker" \
        --keys=1 --total="$TOTAL" 2>"$work/err" | tr '\r' '\n' | awk '/Requests\/sec/ { print $2 }' >>"$work/$target.$locker"
      [ -n "$(tail -1 "$work/$target.$locker")" ] || { echo "no result from $target $locker:" >&2; tail -5 "$work/err" >&2; }
      echo "pass $pass $target $locker: $(tail -1 "$work/$target.$locker") hand-offs/s" >&2
    done
  done
done

echo "| workload ($CLIENTS clients, one mutex) | etcd 3.4 | Keyway | Keyway / etcd |"
echo "| --- | --- | --- | --- |"
for locker in $lockers; do
  e=$(median <"$work/etcd.$locker")
  k=$(median <"$work/keyway.$locker")
  printf "| hand-offs/s, \`stm --stm-locker=%s\` | %.1f | %.1f | %.1f |\n" "$locker" "$e" "$k" "$(echo "$k / $e" | bc -l)"
done
