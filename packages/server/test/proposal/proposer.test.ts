import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { etcdserverpb } from "@keyway/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StateMachine } from "../../src/apply/index.js";
import { EtcdServerError } from "../../src/errors.js";
import type { MemberStorage } from "../../src/proposal/member-storage.js";
import { MAX_IN_FLIGHT_PROPOSALS, type Proposer } from "../../src/proposal/proposer.js";
import type { Wal } from "../../src/wal/index.js";
import { openTestMember } from "./member.js";

/** The write path with a real WAL and a real LMDB state machine in a temp dir. */
describe("Proposer", () => {
  let dir: string;
  let wal: Wal;
  let stateMachine: StateMachine;
  let proposer: Proposer;
  let member: MemberStorage;
  let fatal: Error | undefined;

  const put = (key: string, value = "v") =>
    ({
      $case: "put",
      put: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(value) }),
    }) as const;

  async function open(maxInFlightBytes?: number): Promise<void> {
    member = await openTestMember(dir, {
      ...(maxInFlightBytes !== undefined && { maxInFlightBytes }),
      onFatal: (error) => {
        fatal = error;
      },
    });
    ({ wal, stateMachine, proposer } = member);
  }

  async function close(): Promise<void> {
    await member.close();
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "keyway-proposer-"));
    fatal = undefined;
    await open();
  });
  afterEach(async () => {
    await close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies proposals in order, one revision each, and makes them durable before answering", async () => {
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => proposer.propose(put(`k${i}`))));
    expect(outcomes.map((o) => o.ok && (o.response as etcdserverpb.PutResponse).header?.revision)).toEqual(
      Array.from({ length: 50 }, (_, i) => BigInt(i + 2)),
    );
    expect(wal.stats.appends).toBeGreaterThan(0);
    expect(wal.stats.fsyncs).toBeLessThan(50);
    await close();
    await open();
    expect(stateMachine.currentRevision).toBe(51);
  });

  it(`refuses proposals past ${MAX_IN_FLIGHT_PROPOSALS} in flight with etcd's too-many-requests`, async () => {
    const settled = Array.from({ length: MAX_IN_FLIGHT_PROPOSALS + 10 }, (_, i) =>
      proposer.propose(put(`k${i}`)).then(
        () => "ok",
        (error: unknown) => (error instanceof EtcdServerError ? error.reason : "other"),
      ),
    );
    const results = await Promise.all(settled);
    expect(results.filter((r) => r === "ok")).toHaveLength(MAX_IN_FLIGHT_PROPOSALS);
    expect(results.slice(MAX_IN_FLIGHT_PROPOSALS)).toEqual(Array(10).fill("tooManyRequests"));
    // Capacity comes back once the backlog is applied.
    await expect(proposer.propose(put("after"))).resolves.toMatchObject({ ok: true });
  });

  it("refuses a request larger than max-request-bytes before it reaches the WAL", async () => {
    const appends = wal.stats.appends;
    await expect(proposer.propose(put("big", "x".repeat(2048)))).rejects.toMatchObject({
      reason: "requestTooLarge",
    });
    expect(wal.stats.appends).toBe(appends);
  });

  it("stops with `server stopped` and reports a fatal error once the WAL cannot be written", async () => {
    await wal.close();
    await expect(proposer.propose(put("a"))).rejects.toMatchObject({ reason: "stopped" });
    expect(fatal).toBeInstanceOf(Error);
    await expect(proposer.propose(put("b"))).rejects.toMatchObject({ reason: "stopped" });
  });

  it("refuses proposals past the in-flight byte budget with too-many-requests", async () => {
    await close();
    await open(4000);
    const settled = Array.from({ length: 6 }, (_, i) =>
      proposer.propose(put(`k${i}`, "x".repeat(900))).then(
        () => "ok",
        (error: unknown) => (error instanceof EtcdServerError ? error.reason : "other"),
      ),
    );
    expect(await Promise.all(settled)).toEqual([
      "ok",
      "ok",
      "ok",
      "ok",
      "tooManyRequests",
      "tooManyRequests",
    ]);
    await expect(proposer.propose(put("after", "x".repeat(900)))).resolves.toMatchObject({ ok: true });
  });

  it("takes a leader transfer asked for while a Ready is being carried out", async () => {
    // The node takes no call until the Ready is advanced: the WAL write of this put is still out.
    const write = proposer.propose(put("a"));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(proposer.transferLeadership(1n)).resolves.toBeUndefined();
    await expect(write).resolves.toMatchObject({ ok: true });
    expect(fatal).toBeUndefined();
  });

  it("refuses the batch and stops the member when apply throws, without an unhandled rejection", async () => {
    await stateMachine.close();
    const first = proposer.propose(put("a"));
    await expect(first).rejects.toMatchObject({ reason: "stopped" });
    expect(fatal?.message).toBe("apply failed; the member stops");
    expect(fatal?.cause).toBeInstanceOf(Error);
    await expect(proposer.propose(put("b"))).rejects.toMatchObject({ reason: "stopped" });
    await proposer.drain();
  });
});
