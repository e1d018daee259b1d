import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Member } from "../../src/cluster/membership.js";
import { decodeHello, encodeHello, helloRefusal } from "../../src/peer/handshake.js";
import { queryMembers } from "../../src/peer/members-query.js";
import { logged, startMember, type TestMember } from "./members.js";

const started: TestMember[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.transport.close()));
});

const MEMBERS: Member[] = [
  {
    id: 0x1n,
    name: "a",
    peerUrls: ["http://127.0.0.1:1"],
    clientUrls: ["http://127.0.0.1:2"],
    isLearner: false,
  },
  {
    id: 0xffff_ffff_ffff_fff0n,
    name: "",
    peerUrls: ["http://x:1", "http://x:2"],
    clientUrls: [],
    isLearner: true,
  },
];

describe("members query (a joining member's first question)", () => {
  it("answers with the cluster id and the member table, over real TCP, then closes", async () => {
    let asked = 0;
    const member = await startMember(1n, {
      clusterId: 0xc1a5_7e40_0000_0001n,
      onMembersQuery: () => {
        asked++;
        return { clusterId: 0xc1a5_7e40_0000_0001n, members: MEMBERS };
      },
    });
    started.push(member);
    const answer = await queryMembers([member.url], 2000);
    expect(answer).toEqual({ clusterId: 0xc1a5_7e40_0000_0001n, members: MEMBERS });
    expect(asked).toBe(1);
  });

  it("tries each URL in turn: a dead URL and a member that refuses are skipped", async () => {
    const refusing = await startMember(2n);
    const answering = await startMember(3n, { onMembersQuery: () => ({ clusterId: 7n, members: MEMBERS }) });
    started.push(refusing, answering);
    const answer = await queryMembers(["http://127.0.0.1:1", refusing.url, answering.url], 2000);
    expect(answer.clusterId).toBe(7n);
    expect(logged(refusing, "warn", "this member answers no members query")).toBe(true);
  });

  it("rejects with the last failure when no URL answers, and bounds the wait", async () => {
    const refusing = await startMember(2n);
    started.push(refusing);
    await expect(queryMembers([refusing.url], 2000)).rejects.toThrow(/refused the members query/);
    // A listener that accepts and never answers: the timeout, not a hang.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const began = performance.now();
    await expect(queryMembers([`http://127.0.0.1:${port}`], 300)).rejects.toThrow(/timed out/);
    expect(performance.now() - began).toBeLessThan(2000);
    silent.close();
    await expect(queryMembers([], 300)).rejects.toThrow("no peer URLs to query");
  });

  it("a join hello carries no ids; no other purpose may be id-less", () => {
    const join = { purpose: "join" as const, clusterId: 0n, from: 0n, to: 0n };
    expect(decodeHello(encodeHello(join).subarray(5))).toEqual(join);
    expect(helloRefusal(join, 1n, 0xc1n)).toBeUndefined();
    expect(helloRefusal({ ...join, clusterId: 0xc1n, to: 1n }, 1n, 0xc1n)).toBe(
      "a members query carries no ids",
    );
    expect(helloRefusal({ ...join, purpose: "stream" }, 1n, 0xc1n)).toMatch(/cluster id mismatch/);
  });
});
