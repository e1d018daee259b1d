import { type etcdserverpb, mvccpb } from "@keyway/api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WatchSession } from "../../src/watch/index.js";
import { type KeyRange, rangeContains, watchRange } from "../../src/watch/key-range.js";
import { Harness, op, req } from "../apply/harness.js";
import { create, hubOver, settle, TestSink } from "./support.js";

const b = (text: string) => Buffer.from(text, "latin1");
const KEYS = ["a", "b", "c", "d", "e"];

type Step =
  | { kind: "put"; key: string }
  | { kind: "del"; key: string; end: string }
  | { kind: "txn"; puts: string[]; dels: string[] }
  | { kind: "compact"; back: number }
  | { kind: "leasePut"; key: string; lease: bigint }
  | { kind: "revoke"; lease: bigint }
  | {
      kind: "watch";
      stream: number;
      key: string;
      end: string;
      start: number;
      noPut: boolean;
      noDelete: boolean;
      prevKv: boolean;
    }
  | { kind: "slow"; stream: number; paused: boolean }
  | { kind: "settle" };

const key = fc.constantFrom(...KEYS);
const end = fc.constantFrom("", "\x00", "c", "e", "z");
const lease = fc.constantFrom(1n, 2n);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: key.map((k) => ({ kind: "put" as const, key: k })) },
  { weight: 2, arbitrary: fc.tuple(key, end).map(([k, e]) => ({ kind: "del" as const, key: k, end: e })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.uniqueArray(key, { maxLength: 3 }), fc.uniqueArray(key, { maxLength: 2 }))
      .map(([puts, dels]) => ({ kind: "txn" as const, puts, dels: dels.filter((d) => !puts.includes(d)) })),
  },
  { weight: 1, arbitrary: fc.nat(6).map((back) => ({ kind: "compact" as const, back })) },
  {
    weight: 3,
    arbitrary: fc.tuple(key, lease).map(([k, l]) => ({ kind: "leasePut" as const, key: k, lease: l })),
  },
  { weight: 1, arbitrary: lease.map((l) => ({ kind: "revoke" as const, lease: l })) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("watch" as const),
      stream: fc.nat(3),
      key: fc.constantFrom("", ...KEYS),
      end,
      start: fc.oneof(fc.constant(0), fc.integer({ min: -1, max: 40 })),
      noPut: fc.boolean(),
      noDelete: fc.boolean(),
      prevKv: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("slow" as const), stream: fc.nat(3), paused: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "settle" as const }) },
);

interface WatchRecord {
  id: bigint;
  stream: number;
  range: KeyRange;
  start: number;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
}

/** Everything applied: per revision its events, each with the key's previous version. */
type History = Map<number, { event: mvccpb.Event; prev: mvccpb.KeyValue | undefined }[]>;

function recordHistory(h: Harness): History {
  const history: History = new Map();
  const latest = new Map<string, mvccpb.KeyValue>();
  h.sm.onEvents((revision, events) => {
    history.set(
      revision,
      events.map((event) => {
        const k = event.kv?.key.toString("latin1") as string;
        const prev = latest.get(k);
        if (event.type === mvccpb.Event_EventType.PUT) latest.set(k, event.kv as mvccpb.KeyValue);
        else latest.delete(k);
        return { event, prev };
      }),
    );
  });
  return history;
}

/** Applies one write step; `granted` tracks the live leases (a revoke deletes all their keys in one revision). */
function apply(h: Harness, s: Step, granted: Set<bigint>): void {
  if (s.kind === "put") h.applyAll(req.put(s.key, `v${h.sm.currentRevision}`));
  else if (s.kind === "leasePut") {
    if (!granted.has(s.lease)) h.ok(req.grant(s.lease));
    granted.add(s.lease);
    h.applyAll(req.put(s.key, `l${h.sm.currentRevision}`, { lease: s.lease }));
  } else if (s.kind === "revoke") {
    if (granted.delete(s.lease)) h.ok(req.revoke(s.lease));
  } else if (s.kind === "del") h.applyAll(req.del(s.key, s.end));
  else if (s.kind === "txn")
    h.applyAll(req.txn({ success: [...s.puts.map((k) => op.put(k, "t")), ...s.dels.map((k) => op.del(k))] }));
  else if (s.kind === "compact") {
    const target = h.sm.currentRevision - s.back;
    if (target > Math.max(h.sm.compactRevision, 0)) h.applyAll(req.compact(target));
  }
}

/** Checks one watcher's responses against the history. */
function check(w: WatchRecord, sink: TestSink, history: History): void {
  const responses = sink.responses.filter((r) => r.watchId === w.id && !r.created);
  const received = responses.flatMap((r) => r.events);
  const expected: { event: mvccpb.Event; prev: mvccpb.KeyValue | undefined }[] = [];
  for (const [revision, events] of [...history].sort(([a], [c]) => a - c)) {
    if (revision < w.start) continue;
    for (const entry of events) {
      const k = entry.event.kv?.key.toString("latin1") as string;
      const isPut = entry.event.type === mvccpb.Event_EventType.PUT;
      if (!rangeContains(w.range, k) || (isPut ? w.noPut : w.noDelete)) continue;
      expected.push(entry);
    }
  }
  const id = (e: mvccpb.Event) => `${e.type} ${e.kv?.key.toString("latin1")}@${e.kv?.modRevision}`;
  const compacted = responses.find((r) => r.compactRevision !== 0n);
  if (compacted === undefined) {
    expect(received.map(id)).toEqual(expected.map((e) => id(e.event)));
  } else {
    // Cancelled by compaction: what came before is a prefix, and the watcher really was behind it.
    expect(responses.at(-1)).toBe(compacted);
    expect(received.map(id)).toEqual(expected.slice(0, received.length).map((e) => id(e.event)));
    const last = received.at(-1)?.kv?.modRevision;
    const next = last === undefined ? w.start : Number(last) + 1;
    expect(next).toBeLessThan(Number(compacted.compactRevision));
  }
  // A revision never spans two responses.
  const seen = new Map<bigint, etcdserverpb.WatchResponse>();
  for (const r of responses) {
    for (const e of r.events) {
      const rev = e.kv?.modRevision as bigint;
      expect(seen.get(rev) ?? r).toBe(r);
      seen.set(rev, r);
    }
  }
  if (w.prevKv) {
    received.forEach((e, i) => {
      if (e.prevKv !== undefined) expect(e.prevKv).toEqual(expected[i]?.prev);
    });
  }
}

describe("watch property", () => {
  it("every watcher gets exactly its events of the history (lease revokes included), in order, revisions whole", async () => {
    // What the runs went through, so the test fails if the generator stops reaching the hard cases.
    const coverage = {
      watchers: 0,
      backedUpWithUnsynced: 0,
      compactedCancels: 0,
      historyReplays: 0,
      multiKeyRevokes: 0,
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(step, { minLength: 20, maxLength: 100 }),
        async (pausedAtStart, steps) => {
          const h = Harness.open();
          const history = recordHistory(h);
          const granted = new Set<bigint>();
          const hub = hubOver(h.sm, { streamBufferBytes: 200, catchUpRevisions: 3 });
          const sinks = pausedAtStart.map((paused) => {
            const sink = new TestSink();
            if (paused) sink.pause();
            return sink;
          });
          const sessions: WatchSession[] = sinks.map((sink) => hub.open(sink));
          const watchers: WatchRecord[] = [];
          try {
            for (const s of steps) {
              if (s.kind === "watch") {
                const range = watchRange(b(s.key), b(s.end));
                if (range === undefined) continue;
                const sink = sinks[s.stream] as TestSink;
                const filters = [...(s.noPut ? [0] : []), ...(s.noDelete ? [1] : [])];
                (sessions[s.stream] as WatchSession).handle(
                  create({
                    key: b(s.key),
                    rangeEnd: b(s.end),
                    startRevision: BigInt(s.start),
                    filters,
                    prevKv: s.prevKv,
                  }),
                );
                const created = sink.responses.at(-1) as etcdserverpb.WatchResponse;
                const start = s.start === 0 ? h.sm.currentRevision + 1 : s.start;
                watchers.push({ ...s, id: created.watchId, range, start });
                if (start <= h.sm.currentRevision) coverage.historyReplays++;
              } else if (s.kind === "slow") {
                if (s.paused) sinks[s.stream]?.pause();
                else sinks[s.stream]?.resume();
              } else if (s.kind === "settle") {
                await settle(3);
              } else {
                const before = h.sm.currentRevision;
                apply(h, s, granted);
                const deletes = history.get(h.sm.currentRevision)?.length ?? 0;
                if (s.kind === "revoke" && h.sm.currentRevision > before && deletes > 1)
                  coverage.multiKeyRevokes++;
              }
              if (sessions.some((x) => x.isBackedUp && x.unsynced.size > 0)) coverage.backedUpWithUnsynced++;
            }
            for (const sink of sinks) sink.resume();
            await settle(200);
            for (const session of sessions) expect(session.unsynced.size).toBe(0);
            for (const w of watchers) check(w, sinks[w.stream] as TestSink, history);
            coverage.watchers += watchers.length;
            for (const sink of sinks)
              coverage.compactedCancels += sink.responses.filter((r) => r.compactRevision !== 0n).length;
          } finally {
            hub.close();
            await h.close();
          }
        },
      ),
      { seed: 20261127, numRuns: 100 },
    );
    expect(coverage.backedUpWithUnsynced).toBeGreaterThan(20);
    expect(coverage.compactedCancels).toBeGreaterThan(5);
    expect(coverage.historyReplays).toBeGreaterThan(20);
    expect(coverage.multiKeyRevokes).toBeGreaterThan(5);
  });
});
