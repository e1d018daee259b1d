#!/usr/bin/env bash
# A/B of two Keyway builds under one workload of etcd's benchmark tool, next to a real etcd 3.4: a
# fresh member of each build (tree A, tree B, each built with `pnpm exec tsc -b`) and a fresh
# etcd run side by side; every pass runs etcd, A, B in turn; prints each pass and the medians.
# Usage: pnpm --filter @keyway/bench run tool-ab -- <tree A> <tree B> <etcd-benchmark args>
#   (absolute paths: pnpm runs the script in packages/bench), e.g.
#   git worktree add --detach /work/before <commit> && (cd /work/before && pnpm install --offline && pnpm exec tsc -b)
#   pnpm --filter @keyway/bench run tool-ab -- /work/before "$PWD" --conns=1 --clients=1 put --key-size=8 --sequential-keys --total=5000 --val-size=256
#   REPEATS=3
set -euo pipefail
[ "${1:-}" != "--" ] || shift # pnpm run passes the separator through
if [ $# -lt 3 ]; then
  echo "usage: tool-ab.sh <tree A> <tree B> <etcd-benchmark args>" >&2
  exit 2
fi
tree_a=$(realpath "$1")
tree_b=$(realpath "$2")
shift 2
cd "$(dirname "$0")/../../.."
REPEATS=${REPEATS:-3}
TOOL=${ETCD_BENCHMARK:-/tmp/etcd-benchmark/etcd-benchmark}
etcd_port=${ETCD_PORT:-22379}
a_port=${A_PORT:-23379}
b_port=${B_PORT:-24379}
work=$(mktemp -d)
# shellcheck source=etcd-server.sh
source "packages/bench/scripts/etcd-server.sh"
# shellcheck source=median.sh
source "packages/bench/scripts/median.sh"
start_keyway() {
  (cd "$1" && exec node packages/cli/bin/keyway.js serve --data-dir "$work/$2" --log-level warn \
    --listen-client-urls "http://127.0.0.1:$3" >"$work/$2.log" 2>&1) &
}
start_keyway "$tree_a" a "$a_port"
a_pid=$!
start_keyway "$tree_b" b "$b_port"
b_pid=$!
trap 'kill $etcd_pid $a_pid $b_pid 2>/dev/null; wait $etcd_pid $a_pid $b_pid 2>/dev/null; rm -rf "$work"' EXIT
for port in $etcd_port $a_port $b_port; do
  until etcdctl --endpoints="127.0.0.1:$port" endpoint health >/dev/null 2>&1; do sleep 0.2; done
done

# One pass of the tool against a port; prints "<requests/s> <p99 ms>".
run_tool() {
  "$TOOL" --endpoints="127.0.0.1:$1" "${@:2}" 2>&1 | tr '\r' '\n' |
    awk '/Requests\/sec:/ { rps = $2 } /99% in/ { p99 = $3 * 1000 } END { printf "%.0f %.1f\n", rps, p99 }'
}

echo "load before: $(uptime)"
for target in etcd a b; do : >"$work/runs-$target"; done
for pass in $(seq "$REPEATS"); do
  line="pass $pass:"
  for target in etcd:$etcd_port a:$a_port b:$b_port; do
    read -r rps p99 < <(run_tool "${target#*:}" "$@")
    echo "$rps" >>"$work/runs-${target%%:*}"
    line+=" ${target%%:*} $rps/s p99 ${p99} ms;"
  done
  echo "$line"
done
e=$(median <"$work/runs-etcd")
a=$(median <"$work/runs-a")
b=$(median <"$work/runs-b")
printf "medians: etcd %.0f/s, A %.0f/s (%.2f×), B %.0f/s (%.2f×), B / A %.2f×\n" "$e" "$a" \
  "$(echo "$a / $e" | bc -l)" "$b" "$(echo "$b / $e" | bc -l)" "$(echo "$b / $a" | bc -l)"
echo "load after: $(uptime)"
