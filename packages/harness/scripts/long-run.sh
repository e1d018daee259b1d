#!/usr/bin/env bash
# The long fault run: every fault against 3- and 5-member etcd clusters and every fault a
# one-member Keyway can take, with longer traffic than CI's. Prints each scenario's report and
# a summary; exits 1 if any scenario found an anomaly (its seed and replay command are printed).
#   packages/harness/scripts/long-run.sh [duration, default 60s] [first seed, default 1]
# Needs a Docker engine (scripts/docker-engine.sh start) and a built repository (pnpm exec tsc -b).
set -uo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-60s}"
SEED="${2:-1}"
failed=()
run() {
  echo "=== $*"
  # Histories with many unknown writes (Keyway under kill -9) can need more than the default 30 s
  # of linearizability search.
  if ! node ./dist/scenario/cli.js --seed "$SEED" --duration "$DURATION" --mode container --check-timeout 5m "$@"; then
    failed+=("$* --seed $SEED")
  fi
  SEED=$((SEED + 1))
}
for members in 3 5; do
  for fault in kill pause partition-leader partition-split one-way; do
    run --target etcd --members "$members" --fault "$fault"
  done
done
for fault in kill pause; do
  run --target keyway --members 1 --fault "$fault"
done
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all scenarios passed"
