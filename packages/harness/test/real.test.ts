import { describe, expect, it } from "vitest";
import { requireEtcd, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { startKeywayProcess } from "../../../test/support/keyway-process.js";
import { checkHistory, formatReport, runTraffic } from "../src/index.js";

const TRAFFIC_MS = 10_000;

/** Ten seconds of traffic, then every checker: a correct server shows no anomaly. */
async function expectClean(endpoints: readonly string[], seed: number, scenario: string): Promise<void> {
  const history = await runTraffic({ endpoints, seed, durationMs: TRAFFIC_MS, scenario });
  const report = checkHistory(history);
  expect(report.ok, formatReport(report, history)).toBe(true);
  // Enough traffic that the checks meant something: writes, reads and watch events.
  expect(report.stats.definite).toBeGreaterThan(200);
  expect(report.stats.watchEvents).toBeGreaterThan(50);
  expect(report.stats.watchChecked).toBe(1);
}

describe.runIf(requireEtcd())("traffic + checkers against real servers (0 anomalies)", () => {
  it("a single etcd 3.4 member", async () => {
    await using cluster = await startEtcdCluster();
    await expectClean(cluster.endpoints, 101, "etcd-1");
  });

  it("a Keyway member", async () => {
    await using member = await startKeywayProcess();
    await expectClean(member.endpoints, 202, "keyway-1");
  });
});
