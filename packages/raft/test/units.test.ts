/**
 * Unit tests of the small pieces: MemoryStorage against a model (fast-check), the inflights window,
 * the conf-change codec, the seeded RNG, and the Ready protocol's guard rails.
 */
import type { Entry } from "@keyway/raft";
import {
  decodeConfChange,
  encodeConfChange,
  MemoryStorage,
  RaftInvariantError,
  RawNode,
  SeededRng,
} from "@keyway/raft";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Inflights } from "../src/inflights.js";
import { bytes, TestNetwork } from "./support/network.js";

function entry(index: number, term: number): Entry {
  return { index, term, type: "normal", data: new Uint8Array([index & 0xff]) };
}

describe("MemoryStorage", () => {
  it("behaves like a plain array of entries under appends, snapshots and compaction", () => {
    type Op = { kind: "append"; at: number; count: number; term: number } | { kind: "compact"; back: number };
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("append" as const),
        at: fc.nat(40),
        count: fc.integer({ min: 1, max: 5 }),
        term: fc.integer({ min: 1, max: 9 }),
      }),
      fc.record({ kind: fc.constant("compact" as const), back: fc.nat(10) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops: Op[]) => {
        const storage = new MemoryStorage();
        let model: Entry[] = []; // model[i] is the entry at index i + 1
        let compacted = 0;
        for (const o of ops) {
          const last = storage.lastIndex();
          if (o.kind === "append") {
            // Appends start anywhere after the compacted prefix and at most right after the end.
            const start = Math.max(compacted + 1, Math.min(last + 1, compacted + 1 + o.at));
            const entries = Array.from({ length: o.count }, (_, i) => entry(start + i, o.term));
            storage.append(entries);
            model = model.slice(0, start - 1).concat(entries);
          } else {
            const to = Math.max(compacted, last - o.back);
            if (to > compacted) {
              storage.compact(to);
              compacted = to;
            }
          }
          expect(storage.lastIndex()).toBe(model.length);
          expect(storage.firstIndex()).toBe(compacted + 1);
          if (storage.lastIndex() >= storage.firstIndex()) {
            const got = storage.entries(
              storage.firstIndex(),
              storage.lastIndex() + 1,
              Number.MAX_SAFE_INTEGER,
            );
            expect(got).toEqual(model.slice(compacted));
          }
          if (compacted > 0) expect(storage.term(compacted)).toBe(model[compacted - 1]!.term);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("limits entries by size but always returns at least one", () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    expect(storage.entries(1, 4, 0).length).toBe(1);
    expect(storage.entries(1, 4, 34).length).toBe(2); // 17 bytes each
    expect(storage.entries(1, 4, 1000).length).toBe(3);
  });

  it("refuses snapshots older than the one it has", () => {
    const storage = new MemoryStorage();
    const cs = { voters: [1n], learners: [] };
    expect(
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: 5, term: 2, confState: cs } }),
    ).toBe(true);
    expect(
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: 4, term: 2, confState: cs } }),
    ).toBe(false);
    expect(storage.firstIndex()).toBe(6);
    expect(storage.term(5)).toBe(2);
  });
});

describe("Inflights", () => {
  it("is a bounded window freed by acknowledgements", () => {
    const w = new Inflights(3);
    w.add(5);
    w.add(7);
    w.add(9);
    expect(w.full()).toBe(true);
    expect(() => w.add(11)).toThrow(RaftInvariantError);
    w.freeLE(7);
    expect(w.count).toBe(1);
    w.add(11);
    w.add(12);
    w.freeFirstOne();
    expect(w.count).toBe(2);
    w.freeLE(100);
    expect(w.count).toBe(0);
  });
});

describe("conf change codec", () => {
  it("round-trips every change type and 64-bit ids", () => {
    for (const type of ["addNode", "addLearner", "removeNode"] as const) {
      for (const nodeId of [1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0001n]) {
        expect(decodeConfChange(encodeConfChange({ type, nodeId }))).toEqual({ type, nodeId });
        const context = new Uint8Array([1, 2, 3]);
        expect(decodeConfChange(encodeConfChange({ type, nodeId, context }))).toEqual({
          type,
          nodeId,
          context,
        });
      }
    }
    expect(() => decodeConfChange(new Uint8Array(3))).toThrow(RaftInvariantError);
  });
});

describe("SeededRng", () => {
  it("replays the same sequence for the same seed, stays in range", () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const xs = Array.from({ length: 100 }, () => a.int(10));
    expect(Array.from({ length: 100 }, () => b.int(10))).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 10)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(5);
  });
});

describe("RawNode Ready protocol", () => {
  function single(): RawNode {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      data: new Uint8Array(0),
      metadata: { index: 1, term: 1, confState: { voters: [1n], learners: [] } },
    });
    return new RawNode({ id: 1n, storage, rng: new SeededRng(1) });
  }

  it("refuses to be driven while a Ready is outstanding, and checks the Ready given back", () => {
    const node = single();
    node.campaign();
    const rd = node.ready();
    expect(() => node.tick()).toThrow(RaftInvariantError);
    expect(() => node.propose(new Uint8Array(1))).toThrow(RaftInvariantError);
    expect(() => node.advance({ ...rd })).toThrow(RaftInvariantError);
    node.advance(rd);
    node.tick();
  });

  it("a single voter commits its own entry only after persisting it", () => {
    const node = single();
    const storage = node.raft.log.storage as MemoryStorage;
    node.campaign();
    expect(node.raft.role).toBe("leader");
    const rd = node.ready();
    expect(rd.entries.length).toBe(1);
    expect(rd.committedEntries).toEqual([]);
    expect(node.raft.log.committed).toBe(1);
    storage.append(rd.entries);
    node.advance(rd);
    expect(node.raft.log.committed).toBe(2);
    expect(node.ready().committedEntries.map((e) => e.index)).toEqual([2]);
  });

  it("refuses local-only message types and responses from non-members", () => {
    const node = single();
    const base = {
      to: 1n,
      term: 1,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
    };
    expect(node.step({ ...base, type: "MsgHup", from: 1n })).toBe("stepLocalMessage");
    expect(node.step({ ...base, type: "MsgAppResp", from: 9n })).toBe("stepPeerNotFound");
  });

  it("withdraws an unsent acknowledgement of entries replaced before they were persisted", () => {
    const storage = new MemoryStorage();
    const voters = [1n, 2n, 3n];
    storage.applySnapshot({
      data: new Uint8Array(0),
      metadata: { index: 2, term: 1, confState: { voters, learners: [] } },
    });
    const node = new RawNode({ id: 3n, storage, rng: new SeededRng(1) });
    const base = { logTerm: 1, index: 2, commit: 2, reject: false, rejectHint: 0 };
    const old = [entry(3, 2), entry(4, 2)];
    node.step({ ...base, type: "MsgApp", from: 1n, to: 3n, term: 2, entries: old });
    // Before the Ready is carried out, a leader of term 3 replaces index 3 onwards.
    node.step({ ...base, type: "MsgApp", from: 2n, to: 3n, term: 3, entries: [entry(3, 3)] });
    const rd = node.ready();
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[3, 3]]);
    expect(rd.messages.map((m) => [m.type, m.to, m.index])).toEqual([["MsgAppResp", 2n, 3]]);
  });
});

describe("learners", () => {
  it("receive the log but neither vote nor count toward commit", () => {
    const net = new TestNetwork([1n, 2n, 3n, 4n], {}, [4n]);
    net.node(1n).campaign();
    net.stabilize();
    expect(net.node(1n).raft.role).toBe("leader");
    // Only the leader and the learner are reachable: no quorum of voters.
    net.drop = (m) => m.to === 2n || m.to === 3n || m.from === 2n || m.from === 3n;
    net.node(1n).propose(bytes("x"));
    net.stabilize();
    const last = net.node(1n).raft.log.lastIndex();
    expect(net.node(4n).raft.log.lastIndex()).toBe(last);
    expect(net.node(1n).raft.log.committed).toBeLessThan(last);
    // A learner does not campaign, even after long silence.
    for (let i = 0; i < 50; i++) net.node(4n).tick();
    expect(net.node(4n).raft.role).toBe("follower");
    net.heal();
    net.node(1n).tick();
    net.stabilize();
    expect(net.node(1n).raft.log.committed).toBe(last);
  });
});
