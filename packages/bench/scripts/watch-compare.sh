#!/usr/bin/env bash
# Watch fan-out and put-to-event latency, etcd 3.4 against Keyway on this machine in one run, with
# etcd's own Go benchmark tool; the two alternate, REPEATS passes each; prints medians as Markdown.
# Usage: pnpm --filter @keyway/bench run watch-compare   (after `pnpm exec tsc -b`; needs /usr/bin/etcd
# and etcd's benchmark tool at $ETCD_BENCHMARK, default /tmp/etcd-benchmark/etcd-benchmark)
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPEATS=${REPEATS:-3}
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
PUTS=${PUTS:-20000}
work=$(mktemp -d)
etcd_port=${ETCD_PORT:-22479}
keyway_port=${KEYWAY_PORT:-23479}

# shellcheck source=servers.sh
source "packages/bench/scripts/servers.sh"
# 10,000 watchers: 100 streams x 100 watchers over 1,000 distinct keys (10 watchers per key).
fanout="watch --streams=100 --watch-per-stream=100 --watched-key-total=1000 --key-space-size=1000 \
  --sequential-keys --put-total=$PUTS --put-rate=1000000 --clients=100 --conns=10"
# 100 watchers (one per client) on one key; put-to-event latency, one put at a time.
latency="watch-latency --clients=100 --conns=10 --total=1000 --put-rate=200 --precise"
# The same puts as the fan-out with no watcher: the write path's own ceiling.
puts="put --clients=100 --conns=10 --total=$PUTS --key-size=32 --val-size=4 --key-space-size=1000 --sequential-keys"

for target in etcd keyway; do : >"$work/$target.fanout"; : >"$work/$target.latency"; : >"$work/$target.puts"; done
for pass in $(seq "$REPEATS"); do
  for target in etcd keyway; do
    port=$([ "$target" = etcd ] && echo "$etcd_port" || echo "$keyway_port")
    # shellcheck disable=SC2086
    $TOOL --endpoints="127.0.0.1:$port" $fanout 2>"$work/$target.err" | tr '\r' '\n' |
      awk '/Watch events received summary/ { on = 1 } on && /Requests\/sec/ { print $2 }' >>"$work/$target.fanout"
    [ -n "$(tail -1 "$work/$target.fanout")" ] || { echo "no result from $target:" >&2; tail -5 "$work/$target.err" >&2; }
    # shellcheck disable=SC2086
    $TOOL --endpoints="127.0.0.1:$port" $latency 2>/dev/null | tr '\r' '\n' |
      awk '/Average:/ { avg = $2 * 1000 } /50% in/ { p50 = $3 * 1000 } /99% in/ { p99 = $3 * 1000 }
           END { print avg, p50, p99 }' >>"$work/$target.latency"
    # shellcheck disable=SC2086
    $TOOL --endpoints="127.0.0.1:$port" $puts 2>/dev/null | tr '\r' '\n' | awk '/Requests\/sec/ { print $2 }' >>"$work/$target.puts"
    echo "pass $pass $target: $(tail -1 "$work/$target.fanout") events/s; latency avg/p50/p99 ms" \
      "$(tail -1 "$work/$target.latency"); puts alone $(tail -1 "$work/$target.puts")/s" >&2
  done
done

col() { awk -v c="$1" '{ print $c }' "$2" | median; }
e_ev=$(col 1 "$work/etcd.fanout")
k_ev=$(col 1 "$work/keyway.fanout")
echo "| workload | etcd 3.4 | Keyway | Keyway / etcd |"
echo "| --- | --- | --- | --- |"
printf "| events/s to 10,000 watchers (%s puts) | %.0f | %.0f | %.2f |\n" "$PUTS" "$e_ev" "$k_ev" "$(echo "$k_ev / $e_ev" | bc -l)"
e_puts=$(median <"$work/etcd.puts")
k_puts=$(median <"$work/keyway.puts")
printf "| the same puts with no watcher, puts/s | %.0f | %.0f | %.2f |\n" "$e_puts" "$k_puts" "$(echo "$k_puts / $e_puts" | bc -l)"
for c in 1 2 3; do
  name=$(echo "average p50 p99" | cut -d' ' -f$c)
  e=$(col $c "$work/etcd.latency")
  k=$(col $c "$work/keyway.latency")
  printf "| put-to-event latency %s, ms (100 watchers) | %.3f | %.3f | %.2f |\n" "$name" "$e" "$k" "$(echo "$k / $e" | bc -l)"
done
