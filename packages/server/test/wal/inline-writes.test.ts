import { describe, expect, it } from "vitest";
import { INLINE_MAX_BYTES, INLINE_MAX_WRITE_MS, InlineWrites } from "../../src/wal/inline-writes.js";

describe("inline WAL writes", () => {
  it("are made for small writes on a fast disk, never for large ones", () => {
    const inline = new InlineWrites();
    expect(inline.wanted(300)).toBe(true);
    expect(inline.wanted(INLINE_MAX_BYTES)).toBe(true);
    expect(inline.wanted(INLINE_MAX_BYTES + 1)).toBe(false);
  });

  it("stop while the disk is slow, and resume once it is fast again", () => {
    const inline = new InlineWrites();
    for (let i = 0; i < 5; i++) inline.observed(0.2);
    expect(inline.wanted(300)).toBe(true);
    inline.observed(20 * INLINE_MAX_WRITE_MS);
    expect(inline.wanted(300)).toBe(false);
    let fastWrites = 0;
    while (!inline.wanted(300)) {
      inline.observed(0.2);
      fastWrites++;
    }
    expect(fastWrites).toBeGreaterThan(3);
    expect(fastWrites).toBeLessThan(20);
  });
});
