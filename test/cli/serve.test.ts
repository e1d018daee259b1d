import { etcdserverpb } from "@keyway/api";
import { afterAll, describe, expect, it } from "vitest";
import { etcdctl } from "../support/etcdctl.js";
import { type KeywayProcess, startKeywayProcess } from "../support/keyway-process.js";
import { call, rawClients } from "../support/raw-grpc.js";

describe("keyway serve", () => {
  const started: KeywayProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((member) => member.close()));
  });

  it("logs JSON lines and answers etcdctl", async () => {
    const member = await startKeywayProcess();
    started.push(member);
    expect(etcdctl(member.endpoint, ["put", "k", "v"]).stdout).toBe("OK\n");
    expect(etcdctl(member.endpoint, ["get", "k"]).stdout).toBe("k\nv\n");
    await expect.poll(() => member.output()).toContain('"msg":"serving client requests"');
    const lines = member.output().trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it("SIGTERM during writes: in-flight writes finish, exit 0; data and ids kept across restart, term bumped", async () => {
    const member = await startKeywayProcess();
    started.push(member);
    const header = (endpoint: string) =>
      JSON.parse(etcdctl(endpoint, ["endpoint", "status", "-w", "json"]).stdout)[0].Status.header;
    const before = header(member.endpoint);
    const clients = rawClients(member.endpoint);
    const acked: string[] = [];
    const writes = Array.from({ length: 200 }, (_, i) =>
      call<etcdserverpb.PutResponse>((cb) =>
        clients.kv.put(
          etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(`t${i}`), value: Buffer.from("v") }),
          cb,
        ),
      ).then((outcome) => {
        if (outcome.ok) acked.push(`t${i}`);
      }),
    );
    const code = await member.stop();
    await Promise.all(writes);
    clients.close();
    expect(code).toBe(0);
    expect(member.output()).toContain('"msg":"stopped"');

    const port = Number(new URL(member.endpoint).port);
    const again = await startKeywayProcess({ dataDir: member.dataDir, port });
    started.push(again);
    for (const key of acked)
      expect(etcdctl(again.endpoint, ["get", key, "--print-value-only"]).stdout).toBe("v\n");
    const after = header(again.endpoint);
    expect([after.member_id, after.cluster_id]).toEqual([before.member_id, before.cluster_id]);
    expect(after.raft_term).toBe(before.raft_term + 1);
  });

  it("refuses a bad listen URL with a clear error and a non-zero exit", async () => {
    await expect(startKeywayProcess({ extraArgs: ["--listen-client-urls=unix:///tmp/x"] })).rejects.toThrow(
      /only http:\/\/ is supported/,
    );
  });

  it("takes --experimental-watch-progress-notify-interval as a Go duration and refuses anything else", async () => {
    await expect(
      startKeywayProcess({ extraArgs: ["--experimental-watch-progress-notify-interval=10 minutes"] }),
    ).rejects.toThrow(/must be a duration such as 10m0s, 5s or 100ms/);
    const member = await startKeywayProcess({
      extraArgs: ["--experimental-watch-progress-notify-interval=1m0.1s"],
    });
    started.push(member);
    expect(etcdctl(member.endpoint, ["put", "k", "v"]).stdout).toBe("OK\n");
  });
});
