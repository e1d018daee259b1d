/**
 * Properties from the Raft paper ("In Search of an Understandable Consensus Algorithm", Ongaro and
 * Ousterhout, 2014) and Ongaro's thesis, one test per rule, each citing its section.
 */
import type { Message, NodeId } from "@keyway/raft";
import { MemoryStorage, RawNode, SeededRng } from "@keyway/raft";
import { describe, expect, it } from "vitest";
import { bytes, TestNetwork } from "./support/network.js";

function msg(m: Partial<Message> & Pick<Message, "type" | "from" | "to">): Message {
  return { term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m };
}

function leaderOf(net: TestNetwork): NodeId[] {
  return [...net.nodes].filter(([, n]) => n.raft.role === "leader").map(([id]) => id);
}

/** A single node whose storage holds `terms[i]` at index i + 2 after a bootstrap snapshot at 1. */
function nodeWithLog(id: NodeId, voters: NodeId[], terms: number[], term: number): RawNode {
  const storage = new MemoryStorage();
  storage.applySnapshot({
    data: new Uint8Array(0),
    metadata: { index: 1, term: 1, confState: { voters, learners: [] } },
  });
  storage.append(
    terms.map((t, i) => ({ term: t, index: i + 2, type: "normal" as const, data: bytes(`e${i + 2}`) })),
  );
  storage.setHardState({ term, vote: 0n, commit: 1 });
  return new RawNode({ id, storage, rng: new SeededRng(1), preVote: false, checkQuorum: false });
}

/** Carries out a Ready the way an application must: persist, then advance. */
function persistAndAdvance(node: RawNode): void {
  const rd = node.ready();
  (node.raft.log.storage as MemoryStorage).append(rd.entries);
  node.advance(rd);
}

describe("§5.2 leader election", () => {
  it("a follower that hears nothing for an election timeout starts an election at a new term", () => {
    const net = new TestNetwork([1n, 2n, 3n]);
    const n1 = net.node(1n);
    for (let i = 0; i < 20; i++) n1.tick(); // randomized timeout is within [10, 20)
    expect(n1.raft.role).toBe("candidate");
    expect(n1.raft.term).toBe(2);
    expect(n1.raft.vote).toBe(1n);
  });

  it("each server votes for at most one candidate in a given term, first come first served", () => {
    const n3 = nodeWithLog(3n, [1n, 2n, 3n], [], 1);
    n3.step(msg({ type: "MsgVote", from: 1n, to: 3n, term: 2, logTerm: 1, index: 1 }));
    n3.step(msg({ type: "MsgVote", from: 2n, to: 3n, term: 2, logTerm: 1, index: 1 }));
    const votes = n3.ready().messages.filter((m) => m.type === "MsgVoteResp");
    expect(votes.map((m) => [m.to, m.reject])).toEqual([
      [1n, false],
      [2n, true],
    ]);
  });

  it("Election Safety: at most one leader per term, whatever the order of delivery", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = new SeededRng(seed);
      const net = new TestNetwork([1n, 2n, 3n, 4n, 5n]);
      // Two candidates at the same term race for the same voters.
      net.node(1n).campaign();
      net.node(2n).campaign();
      for (let round = 0; round < 20; round++) {
        net.processReadies();
        net.pending.sort(() => rng.int(3) - 1);
        net.deliverAll();
      }
      const leadersByTerm = new Map<number, NodeId[]>();
      for (const id of leaderOf(net)) {
        const term = net.node(id).raft.term;
        leadersByTerm.set(term, [...(leadersByTerm.get(term) ?? []), id]);
      }
      for (const leaders of leadersByTerm.values()) expect(leaders.length).toBeLessThanOrEqual(1);
    }
  });

  it("a candidate that receives AppendEntries from a leader of its term returns to follower", () => {
    const net = new TestNetwork([1n, 2n, 3n]);
    const n2 = net.node(2n);
    n2.campaign(); // candidate at term 2
    n2.step(msg({ type: "MsgApp", from: 1n, to: 2n, term: 2, logTerm: 1, index: 1 }));
    expect(n2.raft.role).toBe("follower");
    expect(n2.raft.lead).toBe(1n);
  });
});

describe("§5.3 log replication", () => {
  it("Log Matching: a follower refuses entries whose predecessor it does not hold", () => {
    const n2 = nodeWithLog(2n, [1n, 2n, 3n], [1], 2);
    // The leader claims entry 3 of term 2 precedes the new one; n2 has no entry 3.
    n2.step(msg({ type: "MsgApp", from: 1n, to: 2n, term: 2, logTerm: 2, index: 3, entries: [] }));
    const [resp] = n2.ready().messages;
    expect(resp?.type).toBe("MsgAppResp");
    expect(resp?.reject).toBe(true);
    expect(n2.raft.log.lastIndex()).toBe(2);
  });

  it("Log Matching: a conflicting entry and all that follow it are replaced by the leader's", () => {
    const n2 = nodeWithLog(2n, [1n, 2n, 3n], [1, 2, 2], 3);
    const entries = [{ term: 3, index: 3, type: "normal" as const, data: bytes("new") }];
    n2.step(msg({ type: "MsgApp", from: 1n, to: 2n, term: 3, logTerm: 1, index: 2, entries }));
    expect(n2.raft.log.lastIndex()).toBe(3);
    expect(n2.raft.log.term(3)).toBe(3);
    const rd = n2.ready();
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[3, 3]]);
  });

  it("the leader retries a follower until their logs match, then the follower has the leader's log", () => {
    const net = new TestNetwork([1n, 2n, 3n]);
    net.node(1n).campaign();
    net.stabilize();
    net.isolate(3n);
    for (const s of ["a", "b", "c"]) net.node(1n).propose(bytes(s));
    net.stabilize();
    net.heal();
    net.node(1n).tick(); // heartbeat: 3 answers, the leader sends what is missing
    net.stabilize();
    const leaderLog = [2, 3, 4, 5].map((i) => net.termAt(1n, i));
    expect([2, 3, 4, 5].map((i) => net.termAt(3n, i))).toEqual(leaderLog);
    expect(net.node(3n).raft.log.committed).toBe(5);
  });
});

describe("§5.4 safety", () => {
  it("§5.4.1 election restriction: a voter denies a candidate whose log is less up to date", () => {
    // The voter's log ends with an entry of term 3 at index 3.
    const cases: Array<[string, number, number, boolean]> = [
      ["lower last term, longer log", 2, 9, true],
      ["same last term, shorter log", 3, 2, true],
      ["same last term, same length", 3, 3, false],
      ["higher last term, shorter log", 4, 2, false],
    ];
    for (const [name, logTerm, index, rejected] of cases) {
      const voter = nodeWithLog(2n, [1n, 2n, 3n], [2, 3], 3);
      voter.step(msg({ type: "MsgVote", from: 1n, to: 2n, term: 5, logTerm, index }));
      const resp = voter.ready().messages.find((m) => m.type === "MsgVoteResp");
      expect(resp?.reject, name).toBe(rejected);
    }
  });

  it("§5.4.2 (Figure 8): a leader commits an entry of an earlier term only through one of its own", () => {
    // The leader's log: index 2 of term 1, index 3 of term 2; it wins term 3 and appends index 4.
    const leader = nodeWithLog(1n, [1n, 2n, 3n], [1, 2], 2);
    leader.campaign();
    for (const from of [2n, 3n]) leader.step(msg({ type: "MsgVoteResp", from, to: 1n, term: 3 }));
    expect(leader.raft.role).toBe("leader");
    persistAndAdvance(leader); // the leader's own entry is durable now
    expect(leader.raft.log.lastIndex()).toBe(4);
    // A majority (1 and 2) now holds index 3, of term 2: it must not commit by counting.
    leader.step(msg({ type: "MsgAppResp", from: 2n, to: 1n, term: 3, index: 3 }));
    expect(leader.raft.log.committed).toBe(1);
    // Once the entry of the current term (index 4) is on a majority, everything up to it commits.
    leader.step(msg({ type: "MsgAppResp", from: 2n, to: 1n, term: 3, index: 4 }));
    expect(leader.raft.log.committed).toBe(4);
  });

  it("§5.4.3 Leader Completeness: a member missing a committed entry cannot become leader", () => {
    const net = new TestNetwork([1n, 2n, 3n]);
    net.node(1n).campaign();
    net.stabilize();
    net.isolate(3n);
    net.node(1n).propose(bytes("x"));
    net.stabilize();
    const committed = net.node(1n).raft.log.committed;
    expect(net.termAt(2n, committed)).toBe(net.termAt(1n, committed));
    // The leader vanishes; 3 (which missed x) campaigns but 2 refuses; 2 can win.
    net.isolate(1n);
    net.node(3n).campaign();
    net.stabilize();
    expect(net.node(3n).raft.role).not.toBe("leader");
    net.node(2n).campaign();
    net.stabilize();
    expect(net.node(2n).raft.role).toBe("leader");
    expect(net.termAt(2n, committed)).toBe(net.termAt(1n, committed));
    expect(net.node(3n).raft.log.committed).toBeGreaterThanOrEqual(committed);
  });

  it("§5.4.3 State Machine Safety: members apply the same entries in the same order", () => {
    const net = new TestNetwork([1n, 2n, 3n]);
    net.node(1n).campaign();
    net.stabilize();
    for (const s of ["a", "b"]) net.node(1n).propose(bytes(s));
    net.stabilize();
    net.isolate(1n);
    net.node(2n).campaign();
    net.stabilize();
    net.node(2n).propose(bytes("c"));
    net.stabilize();
    net.heal();
    net.node(2n).tick();
    net.stabilize();
    const text = (id: NodeId) => net.applied.get(id)!.map((b) => new TextDecoder().decode(b));
    expect(text(1n)).toEqual(["a", "b", "c"]);
    expect(text(2n)).toEqual(text(1n));
    expect(text(3n)).toEqual(text(1n));
  });
});

describe("§8 client interaction (thesis §6.4: read-only queries)", () => {
  it("a deposed leader cannot answer a linearizable read; the new leader's read index covers new writes", () => {
    const net = new TestNetwork([1n, 2n, 3n]);
    net.node(1n).campaign();
    net.stabilize();
    net.isolate(1n);
    net.node(1n).readIndex(bytes("stale?"));
    net.node(2n).campaign();
    net.stabilize();
    net.node(2n).propose(bytes("w"));
    net.stabilize();
    // 1 still believes it leads, but its heartbeat round never reaches a quorum: no ReadState.
    expect(net.node(1n).raft.role).toBe("leader");
    expect(net.node(1n).raft.readStates).toEqual([]);
    const written = net.node(2n).raft.log.committed;
    net.node(2n).readIndex(bytes("fresh"));
    const states: number[] = [];
    for (let i = 0; i < 10; i++) {
      for (const n of [net.node(2n)]) if (n.hasReady()) states.push(...n.raft.readStates.map((r) => r.index));
      net.processReadies();
      net.deliverAll();
    }
    expect(states.length).toBe(1);
    expect(states[0]).toBeGreaterThanOrEqual(written);
  });
});
