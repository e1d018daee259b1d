import { etcdserverpb } from "@keyway/api";
import { afterAll, describe, expect, it } from "vitest";
import { type KeywayProcess, startKeywayProcess } from "../support/keyway-process.js";
import { call, rawClients } from "../support/raw-grpc.js";

/**
 * Past a checkpoint (every 10,000 applied entries) the WAL records that the backend holds the
 * applied state, so a restart after kill -9 reads only the entries since, and loses nothing.
 */
describe("crash: checkpoints bound WAL replay", () => {
  let member: KeywayProcess | undefined;
  afterAll(async () => {
    await member?.close();
  });

  it("after 12,000 writes and kill -9, replays fewer entries than were written and keeps them all", async () => {
    member = await startKeywayProcess();
    const clients = rawClients(member.endpoint);
    const total = 12_000;
    let next = 0;
    const writer = async () => {
      while (next < total) {
        const i = next++;
        const outcome = await call((cb) =>
          clients.kv.put(
            etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(`k${i}`), value: Buffer.from(`${i}`) }),
            cb,
          ),
        );
        expect(outcome.ok).toBe(true);
      }
    };
    await Promise.all(Array.from({ length: 64 }, writer));
    clients.close();
    // Let the checkpoint that the 10,000th entry started finish before the kill.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await member.kill();

    const port = Number(new URL(member.endpoint).port);
    member = await startKeywayProcess({ dataDir: member.dataDir, port });
    await expect.poll(() => member?.output() ?? "").toContain('"msg":"recovered"');
    const recovered = JSON.parse(
      member
        .output()
        .split("\n")
        .find((line) => line.includes('"recovered"')) ?? "{}",
    );
    expect(recovered.lastIndex).toBeGreaterThanOrEqual(total);
    // Entries still in the WAL: only those after the checkpoint's snapshot marker.
    expect(recovered.walEntries).toBeLessThan(total - 9_000);

    const check = rawClients(member.endpoint);
    const all = await call<etcdserverpb.RangeResponse>((cb) =>
      check.kv.range(
        etcdserverpb.RangeRequest.fromPartial({
          key: Buffer.from("k"),
          rangeEnd: Buffer.from("l"),
          countOnly: true,
        }),
        cb,
      ),
    );
    check.close();
    expect(all.ok && all.value.count).toBe(BigInt(total));
  }, 120_000);
});
