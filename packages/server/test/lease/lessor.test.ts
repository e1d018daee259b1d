import { describe, expect, it } from "vitest";
import { DEFAULTS, minLeaseTtlSeconds } from "../../src/config.js";
import { ExpiryQueue } from "../../src/lease/expiry-queue.js";
import { Lessor } from "../../src/lease/lessor.js";
import { IdGenerator } from "../../src/member/id-generator.js";
import { FakeClock } from "./fake-clock.js";

/** A lessor on a fake clock whose revokes are recorded and settled by the test. */
function setup(maxRevokesInFlight?: number) {
  const clock = new FakeClock();
  const proposed: bigint[] = [];
  const settle = new Map<bigint, { resolve(): void; reject(error: Error): void }>();
  const lessor = new Lessor({
    clock,
    ...(maxRevokesInFlight === undefined ? {} : { maxRevokesInFlight }),
    revoke: (id) =>
      new Promise<void>((resolve, reject) => {
        proposed.push(id);
        settle.set(id, { resolve, reject });
      }),
  });
  /** What apply does when a revoke commits: the lessor hears of it, then the proposal resolves. */
  const commitRevoke = async (id: bigint) => {
    lessor.apply([{ type: "revoke", id }]);
    settle.get(id)?.resolve();
    await Promise.resolve();
  };
  return { clock, lessor, proposed, settle, commitRevoke };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("lessor (fake clock)", () => {
  it("proposes a revoke once when a lease runs out, not before", () => {
    const { clock, lessor, proposed } = setup();
    lessor.apply([{ type: "grant", id: 1n, ttlSeconds: 2 }]);
    clock.advance(1_999);
    expect(proposed).toEqual([]);
    expect(lessor.remainingSeconds(1n)).toBe(0);
    clock.advance(1);
    expect(proposed).toEqual([1n]);
    clock.advance(10_000);
    expect(proposed).toEqual([1n]);
  });

  it("renews on keep-alive and answers TTL 0 for unknown, expired and revoked leases", async () => {
    const { clock, lessor, proposed, commitRevoke } = setup();
    lessor.apply([{ type: "grant", id: 1n, ttlSeconds: 5 }]);
    clock.advance(4_000);
    expect(lessor.renew(1n)).toBe(5);
    expect(lessor.remainingSeconds(1n)).toBe(5);
    clock.advance(4_500);
    expect(proposed).toEqual([]);
    expect(lessor.remainingSeconds(1n)).toBe(0);
    clock.advance(500);
    expect(proposed).toEqual([1n]);
    // Expired, revoke in flight: a keep-alive does not bring it back.
    expect(lessor.renew(1n)).toBe(0);
    expect(lessor.list()).toEqual([1n]);
    await commitRevoke(1n);
    expect([lessor.renew(1n), lessor.remainingSeconds(1n), lessor.list()]).toEqual([0, undefined, []]);
    expect(lessor.renew(77n)).toBe(0);
  });

  it("a keep-alive that arrives after the expiry but before the timer fires gets TTL 0 and starts the revoke", () => {
    const { clock, lessor, proposed } = setup();
    lessor.apply([{ type: "grant", id: 3n, ttlSeconds: 2 }]);
    // Move the clock without firing timers: now() is past the expiry.
    (clock as unknown as { nowMs: number }).nowMs += 2_000;
    expect(lessor.renew(3n)).toBe(0);
    expect(proposed).toEqual([3n]);
  });

  it("keeps at most maxRevokesInFlight revokes proposed; the rest wait for a slot", async () => {
    const { clock, lessor, proposed, commitRevoke } = setup(4);
    for (let id = 1n; id <= 10n; id++) {
      lessor.apply([{ type: "grant", id, ttlSeconds: 2 }]);
      clock.advance(1);
    }
    clock.advance(2_000);
    expect(proposed).toEqual([1n, 2n, 3n, 4n]);
    await commitRevoke(1n);
    await commitRevoke(2n);
    await flush();
    expect(proposed).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    // A lease a client revoked while it waited is skipped.
    lessor.apply([{ type: "revoke", id: 7n }]);
    await commitRevoke(3n);
    await flush();
    expect(proposed.slice(6)).toEqual([8n]);
  });

  it("retries a revoke that failed, after a pause", async () => {
    const { clock, lessor, proposed, settle } = setup();
    lessor.apply([{ type: "grant", id: 9n, ttlSeconds: 2 }]);
    clock.advance(2_000);
    settle.get(9n)?.reject(new Error("too many requests"));
    await flush();
    expect(proposed).toEqual([9n]);
    clock.advance(499);
    expect(proposed).toEqual([9n]);
    clock.advance(1);
    expect(proposed).toEqual([9n, 9n]);
    expect(lessor.renew(9n)).toBe(0);
  });

  it("promote gives existing leases their full TTL plus the extension; list is by expiry", () => {
    const { clock, lessor, proposed } = setup();
    lessor.promote(
      [
        { id: 1n, ttlSeconds: 10 },
        { id: 2n, ttlSeconds: 3 },
      ],
      1_000,
    );
    lessor.apply([{ type: "grant", id: 3n, ttlSeconds: 5 }]);
    expect(lessor.list()).toEqual([2n, 3n, 1n]);
    expect(lessor.remainingSeconds(1n)).toBe(11);
    clock.advance(3_999);
    expect(proposed).toEqual([]);
    clock.advance(1);
    expect(proposed).toEqual([2n]);
  });

  it("arms one timer at a time and none after close", () => {
    const { clock, lessor, proposed } = setup();
    lessor.apply([{ type: "grant", id: 1n, ttlSeconds: 100 }]);
    for (let i = 0; i < 1_000; i++) {
      clock.advance(10);
      lessor.renew(1n);
    }
    expect(clock.pendingTimers).toBe(1);
    lessor.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000_000);
    expect(proposed).toEqual([]);
  });
});

describe("expiry queue", () => {
  it("pops in expiry order after random sets, moves and deletes", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const queue = new ExpiryQueue();
    const model = new Map<bigint, number>();
    for (let i = 0; i < 5_000; i++) {
      const id = BigInt(Math.floor(random() * 300));
      if (random() < 0.2) {
        queue.delete(id);
        model.delete(id);
      } else {
        const at = Math.floor(random() * 10_000);
        queue.set(id, at);
        model.set(id, at);
      }
    }
    expect(queue.size).toBe(model.size);
    const popped: number[] = [];
    for (let due = queue.popDue(Infinity); due !== undefined; due = queue.popDue(Infinity)) {
      expect(model.get(due.id)).toBe(due.atMs);
      popped.push(due.atMs);
    }
    expect(popped).toEqual([...model.values()].sort((a, b) => a - b));
  });
});

describe("lease id generator", () => {
  it("makes positive, distinct ids from member bits, start time and a counter; a later start never repeats", () => {
    const memberId = 0xfedc_ba98_7654_3210n;
    const first = new IdGenerator(memberId, 1_700_000_000_000);
    const ids = Array.from({ length: 1_000 }, () => first.next());
    expect(new Set(ids).size).toBe(1_000);
    expect(ids.every((id) => id > 0n && id < 1n << 63n)).toBe(true);
    expect((ids[0] as bigint) >> 48n).toBe(0x3210n);
    const restarted = new IdGenerator(memberId, 1_700_000_000_000 + 10);
    expect(ids).not.toContain(restarted.next());
  });
});

describe("minimum lease TTL", () => {
  it("is ceil(1.5 election timeouts) counted in whole heartbeats, as etcd computes it", () => {
    expect(minLeaseTtlSeconds(DEFAULTS)).toBe(2);
    expect(minLeaseTtlSeconds({ heartbeatIntervalMs: 100, electionTimeoutMs: 500 })).toBe(1);
    expect(minLeaseTtlSeconds({ heartbeatIntervalMs: 50, electionTimeoutMs: 3000 })).toBe(5);
    // 1050 ms is 10 whole ticks of 100 ms: etcd's tick arithmetic drops the rest.
    expect(minLeaseTtlSeconds({ heartbeatIntervalMs: 100, electionTimeoutMs: 1050 })).toBe(2);
  });
});
