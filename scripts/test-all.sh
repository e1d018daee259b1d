#!/usr/bin/env bash
# The whole test suite: build, lint, circular-import check, every vitest suite (unit, process,
# etcd differential, crash), and the Raft simulator at CI scale.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-etcd.sh
pnpm exec tsc -b
pnpm exec biome check .
pnpm exec madge --circular --extensions ts packages/*/src
pnpm exec vitest run
pnpm --filter @keyway/raft run sim -- --seeds "${RAFT_SIM_SEEDS:-200}" --events "${RAFT_SIM_EVENTS:-10000}"
