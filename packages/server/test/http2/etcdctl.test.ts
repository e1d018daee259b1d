import { execFile } from "node:child_process";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { ETCDCTL_BIN } from "../../../../test/support/etcd-process.js";
import { STATUS, startStatusServer } from "./status-server.js";

/** Runs etcdctl without blocking the event loop (the server under test runs in this process). */
function etcdctl(
  endpoint: string,
  ...args: string[]
): Promise<{ status: number; stdout: string; stderr: string }> {
  const argv = [`--endpoints=${endpoint}`, "--command-timeout=5s", ...args];
  return new Promise((resolve) => {
    execFile(ETCDCTL_BIN, argv, { env: { ...process.env, ETCDCTL_API: "3" } }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : Number(error.code ?? -1), stdout, stderr });
    });
  });
}

describe("etcdctl 3.4 through the authority repair", () => {
  it("endpoint status -w json works with an http:// endpoint and with a bare host:port", async () => {
    await using server = await startStatusServer();
    for (const endpoint of [`http://127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]) {
      const result = await etcdctl(endpoint, "endpoint", "status", "-w", "json");
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const [entry] = JSON.parse(result.stdout) as { Endpoint: string; Status: Record<string, unknown> }[];
      expect(entry?.Endpoint).toBe(endpoint);
      expect(entry?.Status).toMatchObject({
        header: { cluster_id: 17, member_id: 42, revision: 7, raft_term: 3 },
        version: "3.4.0",
        dbSize: 4096,
        leader: 42,
        raftIndex: 9,
        raftTerm: 3,
      });
    }
    expect(server.authorities).toEqual([`127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]);
    // etcdctl also opens its balancer's connection (bare authority) for each command.
    expect(server.routes.filter((route) => route === "repair")).toHaveLength(1);
  });

  it("endpoint hashkv -w json works with an http:// endpoint", async () => {
    await using server = await startStatusServer();
    const endpoint = `http://127.0.0.1:${server.port}`;
    const result = await etcdctl(endpoint, "endpoint", "hashkv", "-w", "json");
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toMatchObject([
      { Endpoint: endpoint, HashKV: { hash: 1234, compact_revision: 2 } },
    ]);
    expect(server.authorities).toEqual([`127.0.0.1:${server.port}`]);
  });

  it("fails without the repair (the control: Node's HTTP/2 resets the stream)", async () => {
    const grpc = new Server();
    grpc.addService(etcdserverpb.MaintenanceService, {
      status: (_call: unknown, done: (e: null, r: typeof STATUS) => void) => done(null, STATUS),
    });
    const port = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    try {
      const result = await etcdctl(`http://127.0.0.1:${port}`, "endpoint", "status");
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("RST_STREAM with error code: PROTOCOL_ERROR");
    } finally {
      grpc.forceShutdown();
    }
  });
});
