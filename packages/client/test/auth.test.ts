import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeywayClient } from "../src/index.js";
import { eventually, openStreams, take } from "./support/collect.js";
import { expectUnimplemented, pending, startTarget, type Target } from "./support/target.js";

let target: Target;

beforeAll(async () => {
  // Tokens live one second, so the suite sees etcd reject a stale token.
  target = await startTarget({ etcdArgs: ["--auth-token-ttl=1"] });
  if (pending("auth")) return;
  await using admin = new KeywayClient({ endpoints: target.endpoints });
  await admin.auth.userAdd("root", "rootpw");
  await admin.auth.userGrantRole("root", "root");
  await admin.auth.roleAdd("app");
  await admin.auth.roleGrantPermission("app", "readwrite", "app/", { prefix: true });
  await admin.auth.userAdd("alice", "alicepw");
  await admin.auth.userGrantRole("alice", "app");
  await admin.auth.enable();
});
afterAll(async () => {
  await target?.close();
});

describe("auth", () => {
  it("attaches the token, enforces permissions and reports typed auth errors", async () => {
    if (pending("auth"))
      return expectUnimplemented(() => new KeywayClient({ endpoints: target.endpoints }).auth.userList());
    await using alice = new KeywayClient({
      endpoints: target.endpoints,
      auth: { username: "alice", password: "alicepw" },
    });
    await alice.put("app/x", "1");
    expect((await alice.get("app/x"))?.text()).toBe("1");
    await expect(alice.put("other", "1")).rejects.toMatchObject({ reason: "permissionDenied" });

    await using anonymous = new KeywayClient({ endpoints: target.endpoints });
    await expect(anonymous.get("app/x")).rejects.toMatchObject({ reason: "userEmpty" });
    await using wrong = new KeywayClient({
      endpoints: target.endpoints,
      auth: { username: "alice", password: "no" },
    });
    await expect(wrong.get("app/x")).rejects.toMatchObject({ reason: "authFailed" });
  });

  it("refreshes a token etcd no longer accepts, for calls and for new streams", async () => {
    if (pending("auth"))
      return expectUnimplemented(() => new KeywayClient({ endpoints: target.endpoints }).auth.userList());
    await using alice = new KeywayClient({
      endpoints: target.endpoints,
      auth: { username: "alice", password: "alicepw" },
    });
    await alice.put("app/t", "1");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await alice.get("app/t"))?.text()).toBe("1");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await using watcher = await alice.watch("app/t");
    await alice.put("app/t", "2");
    expect((await take(watcher, 1))[0]?.kv.text()).toBe("2");
  });

  it("runs the auth admin reads", async () => {
    if (pending("auth"))
      return expectUnimplemented(() => new KeywayClient({ endpoints: target.endpoints }).auth.userList());
    await using root = new KeywayClient({
      endpoints: target.endpoints,
      auth: { username: "root", password: "rootpw" },
    });
    expect(await root.auth.userList()).toEqual(["alice", "root"]);
    expect(await root.auth.userGet("alice")).toEqual(["app"]);
    expect(await root.auth.roleList()).toContain("app");
    const [perm] = await root.auth.roleGet("app");
    expect(perm?.type).toBe("readwrite");
    expect(perm?.key.toString()).toBe("app/");
    expect(perm?.rangeEnd.toString()).toBe("app0");
  });

  it("a keep-alive stopped while its stream waits for a token leaves no stream open", async () => {
    if (pending("auth"))
      return expectUnimplemented(() => new KeywayClient({ endpoints: target.endpoints }).auth.userList());
    const endpoint = target.endpoints[0] as string;
    await using root = new KeywayClient({
      endpoints: target.endpoints,
      auth: { username: "root", password: "rootpw" },
    });
    const { id, ttlSeconds } = await root.lease.grant(30);
    const before = await openStreams(endpoint, "LeaseKeepAlive");
    // A fresh client has no token yet: its keep-alive stream first authenticates (a round trip).
    await using alice = new KeywayClient({
      endpoints: target.endpoints,
      auth: { username: "alice", password: "alicepw" },
    });
    const keepAlive = await alice.lease.keepAlive(id, { ttlSeconds });
    keepAlive.close();
    // The token arrives after the close; opening the stream anyway would leak it until exit.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await eventually(async () => (await openStreams(endpoint, "LeaseKeepAlive")) === before, 2_000);
    await root.lease.revoke(id);
  });
});
