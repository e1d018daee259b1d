import { setTimeout as sleep } from "node:timers/promises";
import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl } from "../support/etcdctl.js";
import { type KeywayProcess, startKeywayProcess } from "../support/keyway-process.js";

let member: KeywayProcess;

beforeAll(async () => {
  member = await startKeywayProcess({ extraArgs: ["--log-level=debug"] });
});
afterAll(() => member.close());

/** The routes the member logged (`client connection`) for connections made by `act`. */
async function routesOf(act: () => Promise<void> | void): Promise<string[]> {
  const routes = () =>
    member
      .output()
      .split("\n")
      .filter((line) => line.includes('"client connection"'))
      .map((line) => (JSON.parse(line) as { route: string }).route);
  const before = routes().length;
  await act();
  // Log lines reach our pipe a moment after the connection was routed.
  let seen = routes();
  for (let i = 0; i < 20 && seen.length === before; i++) {
    await sleep(50);
    seen = routes();
  }
  await sleep(100);
  return routes().slice(before);
}

describe("a real member routes each client's connections (native socket unless :authority needs repair)", () => {
  it("etcd3 (npm, grpc-js): native", async () => {
    const routes = await routesOf(async () => {
      const client = new Etcd3({ hosts: member.endpoint });
      try {
        await client.put("routes/etcd3").value("v");
        expect(await client.get("routes/etcd3").string()).toBe("v");
      } finally {
        client.close();
      }
    });
    // grpc-js may open more than one connection (one per channel); each goes native.
    expect(new Set(routes)).toEqual(new Set(["native"]));
  });

  it("etcdctl 3.4: per-endpoint calls with an http:// endpoint repaired, the rest native", async () => {
    const put = await routesOf(() => {
      expect(etcdctl(member.endpoint, ["put", "routes/ctl", "v"]).stdout).toBe("OK\n");
    });
    expect(new Set(put)).toEqual(new Set(["native"]));
    const status = await routesOf(() => {
      expect(etcdctl(member.endpoint, ["endpoint", "status"]).status).toBe(0);
    });
    expect(status).toContain("repair");
    const bare = await routesOf(() => {
      expect(etcdctl(member.endpoint.replace("http://", ""), ["endpoint", "status"]).status).toBe(0);
    });
    expect(new Set(bare)).toEqual(new Set(["native"]));
  });

  it("HTTP/1.1 /health: http1", async () => {
    const routes = await routesOf(async () => {
      const response = await fetch(`${member.endpoint}/health`);
      expect(JSON.parse(await response.text())).toEqual({ health: "true" });
    });
    expect(routes).toEqual(["http1"]);
  });
});
