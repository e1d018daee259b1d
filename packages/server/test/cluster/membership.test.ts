import { afterEach, describe, expect, it } from "vitest";
import type { MemberChangeOutcome } from "../../src/apply/index.js";
import { initialMembers } from "../../src/cluster/bootstrap.js";
import type { Member } from "../../src/cluster/membership.js";
import { Harness } from "../apply/harness.js";

const TOKEN = "membership-test";
const initial = () =>
  initialMembers(
    [
      { name: "a", peerUrls: ["http://127.0.0.1:2380"] },
      { name: "b", peerUrls: ["http://127.0.0.1:2381"] },
      { name: "c", peerUrls: ["http://127.0.0.1:2382"] },
    ],
    TOKEN,
  );
const learner = (id: bigint, url: string): Member => ({
  id,
  name: "",
  peerUrls: [url],
  clientUrls: [],
  isLearner: true,
});
const reason = (outcome: MemberChangeOutcome) => (outcome.ok ? "ok" : outcome.error.reason);

describe("membership: the member table in the state machine", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** The log point of the next entry, as the Raft wiring would pass it. */
  const next = (term = 1) => ({ index: h.sm.appliedIndex + 1, term });

  it("bootstraps the initial members outside the log and restores them after a restart", async () => {
    h = Harness.open();
    const heard: (readonly Member[])[] = [];
    h.sm.onMembersChanged((members) => heard.push(members));
    const members = initial();
    h.sm.bootstrapMembers(members);
    const sorted = [...members].sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(h.sm.members()).toEqual(sorted);
    expect(heard).toEqual([sorted]);
    expect(h.sm.appliedIndex).toBe(0);
    expect(() => h.sm.bootstrapMembers(members)).toThrow(/not empty/);
    await h.reopen();
    expect(h.sm.members()).toEqual(sorted);
    expect(() => h.sm.bootstrapMembers(members)).toThrow(/not empty/);
  });

  it("applies conf changes with etcd's checks and errors, each at its log index, and keeps them across a restart", async () => {
    h = Harness.open();
    const [a, b] = initial() as [Member, Member, Member];
    h.sm.bootstrapMembers(initial());
    const add = (member: Member) => reason(h.sm.applyMemberAdd(next(), member));

    expect(add({ ...a, name: "again" })).toBe("memberExist");
    expect(add(learner(7n, a.peerUrls[0] as string))).toBe("peerURLExist");
    expect(add(learner(7n, "http://127.0.0.1:2390"))).toBe("ok");
    expect(add(learner(8n, "http://127.0.0.1:2391"))).toBe("tooManyLearners");
    expect(reason(h.sm.applyMemberPromote(next(), a.id))).toBe("memberNotLearner");
    expect(reason(h.sm.applyMemberPromote(next(), 99n))).toBe("memberNotFound");
    expect(reason(h.sm.applyMemberPromote(next(), 7n))).toBe("ok");
    expect(h.sm.members().find((m) => m.id === 7n)?.isLearner).toBe(false);
    expect(reason(h.sm.applyMemberUpdate(next(), 7n, [b.peerUrls[0] as string]))).toBe("peerURLExist");
    expect(
      reason(h.sm.applyMemberUpdate(next(), 7n, ["http://127.0.0.1:2399", "http://127.0.0.1:2398"])),
    ).toBe("ok");
    expect(h.sm.members().find((m) => m.id === 7n)?.peerUrls).toEqual([
      "http://127.0.0.1:2399",
      "http://127.0.0.1:2398",
    ]);
    // Updating a member to its own URLs is no conflict.
    expect(reason(h.sm.applyMemberUpdate(next(), a.id, a.peerUrls))).toBe("ok");

    expect(reason(h.sm.applyMemberRemove(next(), b.id))).toBe("ok");
    expect(h.sm.isRemoved(b.id)).toBe(true);
    expect(reason(h.sm.applyMemberRemove(next(), b.id))).toBe("memberNotFound");
    // A removed id never comes back, even with fresh URLs.
    expect(add({ ...b, peerUrls: ["http://127.0.0.1:2450"], isLearner: false })).toBe("memberNotFound");
    // A removed member's peer URL is free again.
    expect(add({ id: 9n, name: "", peerUrls: b.peerUrls, clientUrls: [], isLearner: false })).toBe("ok");

    // Refused changes were applied as no-ops: every entry moved the applied index.
    expect(h.sm.appliedIndex).toBe(14);
    // An entry at or below the applied index (replayed after a restart) changes nothing.
    expect(reason(h.sm.applyMemberRemove({ index: 3, term: 1 }, a.id))).toBe("timeout");
    expect(h.sm.validateMemberChange({ type: "remove", id: a.id })).toBeUndefined();

    const before = h.sm.members();
    expect(before.map((m) => m.id)).toContain(9n);
    await h.reopen();
    expect(h.sm.members()).toEqual(before);
    expect(h.sm.isRemoved(b.id)).toBe(true);
    expect(h.sm.isRemoved(a.id)).toBe(false);
    expect(h.sm.appliedIndex).toBe(14);
  });

  it("applies a member's published name and client URLs from the log; an unknown member is ignored", async () => {
    h = Harness.open();
    h.sm.bootstrapMembers(initial());
    const [a] = h.sm.members() as [Member];
    const heard: (readonly Member[])[] = [];
    h.sm.onMembersChanged((members) => heard.push(members));
    const attrs = (memberId: bigint, name: string, clientUrls: string[]) =>
      h.applyAll({ $case: "memberAttrSet", memberAttrSet: { memberId, name, clientUrls } });

    expect(attrs(a.id, "renamed", ["http://127.0.0.1:2379"])[0]?.ok).toBe(true);
    expect(attrs(12345n, "ghost", ["http://127.0.0.1:1"])[0]?.ok).toBe(true);
    // Publishing the same attributes again changes nothing, so no listener hears of it.
    attrs(a.id, "renamed", ["http://127.0.0.1:2379"]);
    expect(heard).toHaveLength(1);
    expect(h.sm.members().map((m) => m.name)).not.toContain("ghost");
    expect(h.sm.appliedIndex).toBe(3);

    await h.reopen();
    const restored = h.sm.members().find((m) => m.id === a.id);
    expect(restored).toEqual({ ...a, name: "renamed", clientUrls: ["http://127.0.0.1:2379"] });
    expect(h.sm.members()).toHaveLength(3);
  });
});
