#!/usr/bin/env bash
# The whole test suite: build, lint, circular-import check, every vitest suite (unit, process,
# etcd differential, crash, the fault harness's container scenarios; the client, lock and registry
# suites against etcd, then against Keyway), and the Raft simulator at CI scale.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-etcd.sh
# The fault harness's container scenarios need a Docker engine: start one (installing Debian's
# docker.io if missing) unless one answers already, and stop it at the end, also on failure. In CI
# an engine that cannot start fails the run; elsewhere those scenarios skip (process mode runs).
ENGINE=packages/harness/scripts/docker-engine.sh
if ! bash "$ENGINE" status; then
  trap 'bash "$ENGINE" stop' EXIT
  if ! bash "$ENGINE" start; then
    if [ "${CI:-}" = "true" ]; then exit 1; fi
    echo "test-all: no Docker engine; the container scenarios will be skipped" >&2
  fi
fi
pnpm exec tsc -b
# Test files, examples and benchmarks are code too: type-checked against the packages' sources.
pnpm exec tsc -p tsconfig.tests.json
pnpm exec biome check .
pnpm exec madge --circular --extensions ts packages/*/src
pnpm exec vitest run
# The client, lock and registry suites once more, against a Keyway member instead of etcd (features Keyway
# does not serve yet must answer UNIMPLEMENTED there; the failover, liveness, balancer and TLS tests
# always use etcd clusters).
KEYWAY_TEST_TARGET=keyway pnpm exec vitest run packages/client packages/lock packages/registry \
  --exclude "**/failover.test.ts" --exclude "**/registry/test/faults.test.ts" --exclude "**/liveness.test.ts" --exclude "**/balancer.test.ts" --exclude "**/tls.test.ts"
pnpm --filter @keyway/raft run sim -- --seeds "${RAFT_SIM_SEEDS:-200}" --events "${RAFT_SIM_EVENTS:-10000}"
