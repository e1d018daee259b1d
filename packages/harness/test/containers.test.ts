import { afterAll, describe, expect, it } from "vitest";
import { requireEtcd } from "../../../test/support/etcd-process.js";
import {
  type ClusterMode,
  closeOpenClusters,
  type FaultKind,
  formatReport,
  requireDocker,
  runScenario,
  type Target,
} from "../src/index.js";

// CI-sized scenarios: real clusters (one container per member), seeded traffic while one kind of
// fault is injected, heal, then every check. Real etcd 3.4 must show 0 anomalies (that proves the
// harness), and so must a Keyway member under kill -9 and pause. With CI=true a missing Docker
// engine fails this file (requireDocker throws) instead of skipping it.
const DURATION_MS = 10_000;
const SCENARIO_TIMEOUT_MS = 120_000;

afterAll(closeOpenClusters, 60_000);

async function expectClean(
  target: Target,
  members: number,
  fault: FaultKind,
  seed: number,
  mode: ClusterMode,
) {
  const result = await runScenario({ target, members, fault, seed, durationMs: DURATION_MS, mode });
  const report = `${formatReport(result.report, result.history)}\n${result.replay}`;
  expect(result.mode, report).toBe(mode);
  expect(result.ok, report).toBe(true);
  // The run meant something: enough answered calls, watch events checked, and the fault happened.
  expect(result.report.stats.definite, report).toBeGreaterThan(50);
  expect(result.report.stats.watchChecked, report).toBe(1);
  if (fault !== "none") expect(result.history.faults?.length ?? 0, report).toBeGreaterThanOrEqual(2);
}

const haveEtcd = requireEtcd();
const haveDocker = await requireDocker();

describe.runIf(haveEtcd && haveDocker)("fault scenarios in containers (0 anomalies)", () => {
  const cases: [Target, number, FaultKind, number][] = [
    ["etcd", 1, "kill", 1101],
    ["etcd", 1, "pause", 1102],
    ["etcd", 3, "kill", 3101],
    ["etcd", 3, "pause", 3102],
    ["etcd", 3, "partition-leader", 3103],
    ["etcd", 3, "one-way", 3104],
    ["keyway", 1, "kill", 2101],
    ["keyway", 1, "pause", 2102],
    ["keyway", 3, "kill", 4101],
    ["keyway", 3, "pause", 4102],
    ["keyway", 3, "partition-leader", 4103],
    ["keyway", 3, "one-way", 4104],
    ["keyway", 5, "kill", 5101],
    ["keyway", 5, "partition-leader", 5102],
  ];
  for (const [target, members, fault, seed] of cases) {
    it(
      `${target}, ${members} member(s), ${fault} (seed ${seed})`,
      () => expectClean(target, members, fault, seed, "container"),
      SCENARIO_TIMEOUT_MS,
    );
  }
});

describe.runIf(haveEtcd)("fault scenarios as processes with peer proxies (0 anomalies)", () => {
  it(
    "etcd, 3 members, majority/minority split (seed 3201)",
    () => expectClean("etcd", 3, "partition-split", 3201, "process"),
    SCENARIO_TIMEOUT_MS,
  );
  it(
    "keyway, 3 members, majority/minority split (seed 4201)",
    () => expectClean("keyway", 3, "partition-split", 4201, "process"),
    SCENARIO_TIMEOUT_MS,
  );
});
