import { etcdserverpb } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import { READ_CHUNK_REVISIONS } from "../../src/apply/state-machine.js";
import { b, Harness, plain, req } from "./harness.js";

const KEYS = READ_CHUNK_REVISIONS * 4 + 7;
const all = etcdserverpb.RangeRequest.fromPartial({ key: b("\0"), rangeEnd: b("\0") });

/** A pause that runs `onFirst` at the first pause of a chunked read, then yields as usual. */
function pauseWith(onFirst: () => void) {
  let pauses = 0;
  let fired = false;
  const pause = async () => {
    pauses++;
    if (!fired) {
      fired = true;
      onFirst();
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return { pause, pauses: () => pauses };
}

function fill(h: Harness, value: string): void {
  h.applyAll(...Array.from({ length: KEYS }, (_, i) => req.put(`k${String(i).padStart(5, "0")}`, value)));
}

describe("chunked reads (large Range and HashKV)", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("a large Range lets the event loop run between chunks and equals the one-shot read", async () => {
    let ticks = 0;
    const { pause, pauses } = pauseWith(() => undefined);
    h = Harness.open(undefined, { yieldToEventLoop: pause });
    fill(h, "v1");
    const expected = h.sm.range(all);
    const ticker = setInterval(() => ticks++, 0);
    const chunked = await h.sm.rangeChunked(all);
    clearInterval(ticker);
    expect(chunked).toEqual(expected);
    expect(chunked.kvs).toHaveLength(KEYS);
    expect(pauses()).toBe(Math.ceil(KEYS / READ_CHUNK_REVISIONS) - 1);
    expect(ticks).toBeGreaterThan(0);
  });

  it("stays a read of one revision while writes and a physical compaction happen between its chunks", async () => {
    let compactedTo = 0;
    const { pause } = pauseWith(() => {
      // Overwrite every key and compact past the revision the read chose: without the read gate,
      // physical compaction would delete the values the read has yet to fetch.
      fill(h, "v2");
      compactedTo = h.sm.currentRevision;
      h.ok(req.compact(compactedTo, true));
    });
    h = Harness.open(undefined, { yieldToEventLoop: pause });
    fill(h, "v1");
    const before = h.sm.range(all).kvs.map(plain);
    const chunked = await h.sm.rangeChunked(all);
    expect(chunked.kvs.map(plain)).toEqual(before);
    await h.sm.compacted(compactedTo);
    expect(h.range("k00000").kvs.map(plain)[0]?.value).toBe("v2");
  });

  it("HashKV in chunks hashes one state while writes and compaction run between its chunks", async () => {
    let hashRevision = 0;
    const { pause } = pauseWith(() => {
      fill(h, "v2");
      h.ok(req.compact(h.sm.currentRevision, true));
    });
    h = Harness.open(undefined, { yieldToEventLoop: pause });
    fill(h, "v1");
    hashRevision = h.sm.currentRevision;
    const reference = Harness.open();
    try {
      fill(reference, "v1");
      const expected = await reference.sm.hashKV(0);
      const hashed = await h.sm.hashKV(hashRevision);
      expect(hashed).toEqual(expected);
      expect(hashed.hashRevision).toBe(hashRevision);
    } finally {
      await reference.close();
    }
  });
});
