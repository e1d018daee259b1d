import { describe, expect, it } from "vitest";
import { compare, KeywayError, listAndWatch, op, type WatchEvent } from "../src/index.js";
import { eventually, metric, take } from "./support/collect.js";
import { expectUnimplemented, pending, useTarget } from "./support/target.js";

// Progress every 200 ms and a small request limit (so large watch responses get fragmented).
const env = useTarget({
  etcdArgs: ["--experimental-watch-progress-notify-interval=200ms", "--max-request-bytes=100000"],
  proxy: true,
});

const summary = (events: WatchEvent[]) =>
  events.map((e) => `${e.type} ${e.kv.keyText()} ${e.kv.modRevision}`);

describe("watch", () => {
  it("delivers puts and deletes in order, with prevKv and filters", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    await using all = await env.client.watch("w1/", { prefix: true, prevKv: true });
    await using noPut = await env.client.watch("w1/", { prefix: true, noPut: true });
    const a = await env.client.put("w1/a", "1");
    const b = await env.client.put("w1/a", "2");
    const d = await env.client.delete("w1/a");
    const events = await take(all, 3);
    expect(summary(events)).toEqual([
      `put w1/a ${a.revision}`,
      `put w1/a ${b.revision}`,
      `delete w1/a ${d.revision}`,
    ]);
    expect(events[1]?.prevKv?.text()).toBe("1");
    expect(events[2]?.prevKv?.text()).toBe("2");
    expect(summary(await take(noPut, 1))).toEqual([`delete w1/a ${d.revision}`]);
  });

  it("replays history from startRevision and ends iteration on close", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const first = await env.client.put("w2/k", "1");
    await env.client.put("w2/k", "2");
    const watcher = await env.client.watch("w2/k", { startRevision: first.revision });
    const events = await take(watcher, 2);
    expect(events.map((e) => e.kv.text())).toEqual(["1", "2"]);
    const done = (async () => {
      for await (const _ of watcher) return "event";
      return "ended";
    })();
    await watcher.close();
    expect(await done).toBe("ended");
  });

  it("multiplexes many watchers on one stream per connection", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const endpoint = env.target.endpoints[0] as string;
    const watchersBefore = await metric(endpoint, "etcd_debugging_mvcc_watcher_total");
    const watchers = [await env.client.watch("w3/0")];
    const streams = await metric(endpoint, "etcd_debugging_mvcc_watch_stream_total");
    watchers.push(
      ...(await Promise.all(Array.from({ length: 19 }, (_, i) => env.client.watch(`w3/${i + 1}`)))),
    );
    expect(await metric(endpoint, "etcd_debugging_mvcc_watch_stream_total")).toBe(streams);
    expect(await metric(endpoint, "etcd_debugging_mvcc_watcher_total")).toBe(watchersBefore + 20);
    await env.client
      .txn()
      .then(...watchers.map((_, i) => op.put(`w3/${i}`, String(i))))
      .commit();
    for (const [i, w] of watchers.entries()) expect((await take(w, 1))[0]?.kv.text()).toBe(String(i));
    await Promise.all(watchers.map((w) => w.close()));
    await eventually(
      async () => (await metric(endpoint, "etcd_debugging_mvcc_watcher_total")) === watchersBefore,
    );
  });

  it("resumes after a broken connection from the last event + 1: nothing lost, nothing repeated", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const watcher = await env.proxied.watch("w4/", { prefix: true });
    const statuses: string[] = [];
    watcher.on("disconnected", () => statuses.push("disconnected"));
    watcher.on("resumed", () => statuses.push("resumed"));
    const revisions: bigint[] = [];
    for (let i = 0; i < 150; i++) {
      if (i === 50 || i === 100) env.proxy.cut();
      revisions.push((await env.client.put(`w4/${i % 7}`, String(i))).revision);
    }
    const events = await take(watcher, 150);
    expect(events.map((e) => e.kv.modRevision)).toEqual(revisions);
    expect(statuses).toContain("resumed");
    await watcher.close();
  });

  it("does not skip events when the connection breaks during a large catch-up", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const revisions: bigint[] = [];
    for (let batch = 0; batch < 25; batch++) {
      const puts = Array.from({ length: 100 }, (_, i) => env.client.put(`w5/${(batch * 100 + i) % 50}`, "x"));
      for (const p of await Promise.all(puts)) revisions.push(p.revision);
    }
    revisions.sort((x, y) => (x < y ? -1 : 1));
    const watcher = await env.proxied.watch("w5/", {
      prefix: true,
      startRevision: revisions[0] as bigint,
      // A small buffer pauses the watch, so the cut lands while etcd still has batches to send.
      maxBufferedEvents: 100,
    });
    const seen = await take(watcher, 600);
    env.proxy.cut();
    seen.push(...(await take(watcher, revisions.length - 600)));
    expect(seen.map((e) => e.kv.modRevision)).toEqual(revisions);
    await watcher.close();
  });

  it("fails with a typed compacted error carrying compactRevision", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const old = await env.client.put("w6/k", "1");
    const latest = await env.client.put("w6/k", "2");
    await env.client.compact(latest.revision);
    const watcher = await env.client.watch("w6/k", { startRevision: old.revision });
    const error = await take(watcher, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeywayError);
    expect(error).toMatchObject({ reason: "compacted", compactRevision: latest.revision });
  });

  it("re-lists after a compaction with listAndWatch", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    await env.client.put("w7/a", "1");
    const items = listAndWatch(env.proxied, "w7/", { prefix: true })[Symbol.asyncIterator]();
    const first = await items.next();
    expect(first.value).toMatchObject({ type: "snapshot" });
    env.proxy.setDown(true);
    await env.client.put("w7/b", "2");
    const last = await env.client.put("w7/c", "3");
    await env.client.compact(last.revision);
    const next = items.next();
    env.proxy.setDown(false);
    const item = (await next).value as { type: string; kvs?: { keyText(): string }[] };
    expect(item.type).toBe("snapshot");
    expect(item.kvs?.map((kv) => kv.keyText())).toEqual(["w7/a", "w7/b", "w7/c"]);
    await items.return?.();
  });

  it("reassembles fragmented responses", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const big = "x".repeat(90_000);
    for (let i = 0; i < 8; i++) await env.client.put(`w8/${i}`, big);
    await using watcher = await env.client.watch("w8/", { prefix: true, prevKv: true, fragment: true });
    const deleted = await env.client.delete("w8/", { prefix: true });
    const events = await take(watcher, 8);
    expect(events.every((e) => e.type === "delete" && e.kv.modRevision === deleted.revision)).toBe(true);
    expect(events.every((e) => e.prevKv?.value.length === 90_000)).toBe(true);
  });

  it("reports progress notifications as status events", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    await using watcher = await env.client.watch("w9/", { prefix: true, progressNotify: true });
    const revision = await new Promise<bigint>((resolve) => watcher.once("progress", resolve));
    expect(revision).toBeGreaterThan(0n);
  });

  it("pauses the stream for a slow consumer and delivers everything afterwards", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    await using watcher = await env.client.watch("w10/", { prefix: true, maxBufferedEvents: 10 });
    const writes = await env.client
      .txn()
      .if(compare.version("w10/none", "==", 0n))
      .commit()
      .then(async () => {
        const revs: bigint[] = [];
        for (let i = 0; i < 100; i++) revs.push((await env.client.put(`w10/${i}`, "v")).revision);
        return revs;
      });
    const events = await take(watcher, 100);
    expect(events.map((e) => e.kv.modRevision)).toEqual(writes);
  });

  it("a consumer that does not read its watcher does not hold up the others on the stream", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    // Both share the client's one stream to the endpoint (see "multiplexes many watchers").
    await using idle = await env.client.watch("w12/", { prefix: true, maxBufferedEvents: 10 });
    await using busy = await env.client.watch("w12/", { prefix: true });
    const revisions: bigint[] = [];
    for (let i = 0; i < 100; i++) revisions.push((await env.client.put(`w12/${i % 9}`, String(i))).revision);
    // Nobody reads `idle`; `busy` still gets every event at once.
    expect((await take(busy, 100, 3_000)).map((e) => e.kv.modRevision)).toEqual(revisions);
    // `idle` paused itself and resumes from where its buffer ended: nothing lost or repeated.
    expect((await take(idle, 100)).map((e) => e.kv.modRevision)).toEqual(revisions);
  });

  it("resumes an idle filtered watch after its last progress notification, past a compaction", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    await using watcher = await env.proxied.watch("w13/", {
      prefix: true,
      noPut: true,
      progressNotify: true,
    });
    await env.client.put("w13/a", "1"); // filtered out: the watch stays idle
    let last = 0n;
    for (let i = 0; i < 5; i++) last = (await env.client.put(`w13-other/${i}`, "x")).revision;
    await env.client.compact(last);
    await new Promise<void>((resolve) => {
      const onProgress = (revision: bigint) => {
        if (revision < last) return;
        watcher.off("progress", onProgress);
        resolve();
      };
      watcher.on("progress", onProgress);
    });
    const resumed = new Promise<{ revision: bigint }>((resolve) => watcher.once("resumed", resolve));
    env.proxy.cut();
    // Resuming from its creation revision would now fail as compacted.
    expect((await resumed).revision).toBeGreaterThan(last);
    const deleted = await env.client.delete("w13/a");
    expect((await take(watcher, 1))[0]?.kv.modRevision).toBe(deleted.revision);
  });

  it("closes on abort and emits connected once", async () => {
    if (pending("watch")) return expectUnimplemented(() => env.client.watch("x"));
    const controller = new AbortController();
    const watcher = await env.client.watch("w11/", { prefix: true, signal: controller.signal });
    controller.abort();
    const ended = await (async () => {
      for await (const _ of watcher) return false;
      return true;
    })();
    expect(ended).toBe(true);
    expect(watcher.isDone).toBe(true);
  });
});
