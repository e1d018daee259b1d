import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { checkHistory, formatReport, type PlantedBug, runTraffic, startPlantedProxy } from "../src/index.js";

const TRAFFIC_MS = 4_000;

/** Traffic through a proxy planting `bug` into a real etcd; returns the report and how often it struck. */
async function runThrough(cluster: EtcdCluster, bug: PlantedBug, seed: number) {
  // 1 in 5 eligible calls: even a slow run (~60 reads) is hit many times, so the test cannot pass by luck.
  await using proxy = await startPlantedProxy({ upstream: cluster.endpoints[0] ?? "", bug, seed, rate: 0.2 });
  const history = await runTraffic({
    endpoints: [proxy.endpoint],
    seed,
    durationMs: TRAFFIC_MS,
    scenario: `planted-${bug}`,
  });
  const report = checkHistory(history);
  return { report, text: formatReport(report, history), injected: proxy.injected() };
}

describe.runIf(requireEtcd())("planted bugs are caught every time", () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("a faithful proxy shows no anomaly", async () => {
    const { report, text } = await runThrough(cluster, "none", 11);
    expect(report.ok, text).toBe(true);
  });

  const cases: [PlantedBug, string][] = [
    ["staleRead", "nonLinearizable"],
    ["lostWrite", "nonLinearizable"],
    ["droppedWatchEvent", "watchGap"],
  ];
  for (const [bug, kind] of cases) {
    for (const seed of [21, 22]) {
      it(`${bug} (seed ${seed}) → ${kind}`, async () => {
        const { report, text, injected } = await runThrough(cluster, bug, seed + bug.length * 100);
        expect(injected).toBeGreaterThan(0);
        expect(report.ok).toBe(false);
        expect(
          report.anomalies.map((a) => a.kind),
          text,
        ).toContain(kind);
      });
    }
  }
});
