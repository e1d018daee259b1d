import { etcdserverpb } from "@keyway/api";
import { afterAll, describe, expect, it } from "vitest";
import { type KeywayProcess, startKeywayProcess } from "../support/keyway-process.js";
import { call, rawClients } from "../support/raw-grpc.js";

/**
 * kill -9 during a concurrent write load, then restart on the same data dir: every write that
 * was acknowledged must be there with its value and revision, and the revisions of all keys
 * form one gap-free sequence (each put writes a new key, so each revision holds one key).
 */
const WRITERS = 32;
const CYCLES = 3;
const LOAD_MS = 1_500;

describe("crash: kill -9 during writes loses no acknowledged write", () => {
  let member: KeywayProcess | undefined;
  afterAll(async () => {
    await member?.close();
  });

  it(`survives ${CYCLES} kill -9 cycles under ${WRITERS} concurrent writers`, async () => {
    member = await startKeywayProcess();
    const { dataDir } = member;
    const port = Number(new URL(member.endpoint).port);
    const acked = new Map<string, bigint>();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const clients = rawClients(member.endpoint);
      let stop = false;
      const writer = async (w: number) => {
        for (let seq = 0; !stop; seq++) {
          const key = `c${cycle}-w${w}-${seq}`;
          const outcome = await call<etcdserverpb.PutResponse>((cb) =>
            clients.kv.put(
              etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(key) }),
              cb,
            ),
          );
          if (!outcome.ok) return;
          acked.set(key, outcome.value.header?.revision ?? 0n);
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
      await member.kill();
      stop = true;
      await Promise.all(writers);
      clients.close();
      member = await startKeywayProcess({ dataDir, port });
    }

    const clients = rawClients(member.endpoint);
    const all = await call<etcdserverpb.RangeResponse>((cb) =>
      clients.kv.range(
        etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) }),
        cb,
      ),
    );
    clients.close();
    expect(all.ok).toBe(true);
    if (!all.ok) return;
    const stored = new Map(all.value.kvs.map((kv) => [kv.key.toString(), kv]));
    expect(acked.size).toBeGreaterThan(WRITERS * CYCLES);
    for (const [key, revision] of acked) {
      const kv = stored.get(key);
      expect(kv?.value.toString(), key).toBe(key);
      expect(kv?.modRevision, key).toBe(revision);
    }
    const revisions = all.value.kvs.map((kv) => kv.modRevision).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const current = all.value.header?.revision ?? 0n;
    expect(revisions.length).toBe(Number(current) - 1);
    expect(revisions).toEqual(revisions.map((_, i) => BigInt(i + 2)));
  }, 120_000);
});
