#!/usr/bin/env bash
# Discovery convergence of @keyway/registry, etcd 3.4 against Keyway on this machine in one run:
# starts a fresh etcd and a fresh Keyway on free loopback ports (temp data dirs, stopped by PID on
# exit), runs convergence.js against each, alternating, REPEATS passes each, and prints the
# medians as a Markdown table. Extra arguments go to convergence.js (e.g. --instances 100).
# Usage: pnpm --filter @keyway/registry bench [-- --instances N --clients N ...]
#   (after `pnpm exec tsc -b`; needs /usr/bin/etcd and etcdctl)
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
cd "$bench/../../.."
REPEATS=${REPEATS:-3}
args=()
for arg in "$@"; do [ "$arg" = "--" ] || args+=("$arg"); done
work=$(mktemp -d)

# A loopback port that is free now (etcd also takes the next one for its peer URL).
free_port() {
  node -e 'const net = require("node:net");
    const listen = (p) => new Promise((ok, no) => { const s = net.createServer().once("error", no);
      s.listen(p, "127.0.0.1", () => { const port = s.address().port; s.close(() => ok(port)); }); });
    (async () => { for (;;) { const p = await listen(0); if (await listen(p + 1).then(() => true, () => false)) { console.log(p); return; } } })();'
}
etcd_port=${ETCD_PORT:-$(free_port)}
keyway_port=${KEYWAY_PORT:-$(free_port)}
while [ "$keyway_port" -eq "$etcd_port" ] || [ "$keyway_port" -eq $((etcd_port + 1)) ]; do keyway_port=$(free_port); done
# shellcheck source=../../bench/scripts/servers.sh
source "packages/bench/scripts/servers.sh"

run="$bench/dist/packages/registry/bench"
for pass in $(seq "$REPEATS"); do
  for target in etcd keyway; do
    port=$([ "$target" = etcd ] && echo "$etcd_port" || echo "$keyway_port")
    echo "pass $pass $target (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    node "$run/convergence.js" --endpoint "http://127.0.0.1:$port" "${args[@]}" | tee -a "$work/$target.jsonl" >&2
  done
done
node "$run/convergence-table.js" "$work/etcd.jsonl" "$work/keyway.jsonl"
