import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CtlResult, etcdctl } from "../support/etcdctl.js";
import { type ServerPair, startPair } from "../support/pair.js";

/**
 * Differential checks for the member-level commands. Their outputs carry values that differ by
 * nature (endpoints, ids, db size, version), so the comparison is on shape: the same fields, the
 * same kinds of values, and the same store revision after the same writes.
 */
describe("etcdctl 3.4 member commands against etcd 3.4 and Keyway", () => {
  let pair: ServerPair;
  let etcdEndpoint: string;
  let keywayEndpoint: string;
  beforeAll(async () => {
    pair = await startPair();
    etcdEndpoint = pair.etcd.endpoints[0] as string;
    keywayEndpoint = pair.keyway.endpoint;
    for (const endpoint of [etcdEndpoint, keywayEndpoint]) {
      for (let i = 0; i < 5; i++) etcdctl(endpoint, ["put", `k${i}`, "v"]);
    }
  });
  afterAll(async () => {
    await pair?.close();
  });

  const both = (args: string[]): [CtlResult, CtlResult] => [
    etcdctl(etcdEndpoint, args),
    etcdctl(keywayEndpoint, args),
  ];

  /** The JSON value with every leaf replaced by its type, so two outputs compare by shape. */
  const shape = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(shape);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
    }
    return typeof value;
  };

  it("endpoint health", () => {
    const [e, k] = both(["endpoint", "health"]);
    const strip = (r: CtlResult, endpoint: string) =>
      (r.stdout + r.stderr).replace(endpoint, "<endpoint>").replace(/took = [0-9.]+[µm]?s/, "took = <t>");
    expect(k.status).toBe(0);
    expect(strip(k, keywayEndpoint)).toBe(strip(e, etcdEndpoint));
  });

  it("endpoint status -w json", () => {
    const [e, k] = both(["endpoint", "status", "-w", "json"]);
    expect(k.status).toBe(0);
    const [ej, kj] = [JSON.parse(e.stdout), JSON.parse(k.stdout)];
    expect(shape(kj)).toEqual(shape(ej));
    expect(kj[0].Status.header.revision).toBe(ej[0].Status.header.revision);
    expect(kj[0].Status.leader).toBe(kj[0].Status.header.member_id);
    expect(kj[0].Status.raftAppliedIndex).toBeGreaterThanOrEqual(5);
  });

  it("endpoint status (table)", () => {
    const [, k] = both(["endpoint", "status", "-w", "table"]);
    expect(k.status).toBe(0);
    expect(k.stdout).toContain(keywayEndpoint);
  });

  it("member list -w json", () => {
    const [e, k] = both(["member", "list", "-w", "json"]);
    expect(k.status).toBe(0);
    const [ej, kj] = [JSON.parse(e.stdout), JSON.parse(k.stdout)];
    expect(shape(kj)).toEqual(shape(ej));
    expect(kj.members[0].clientURLs).toEqual([keywayEndpoint]);
    expect(kj.members[0].ID).toBe(kj.header.member_id);
  });

  it("member list (simple)", () => {
    const [, k] = both(["member", "list"]);
    expect(k.status).toBe(0);
    expect(k.stdout).toMatch(
      /^[0-9a-f]+, started, test, http:\/\/localhost:2380, http:\/\/127\.0\.0\.1:\d+, false\n$/,
    );
  });

  it("endpoint hashkv agrees after the same writes", () => {
    const [e, k] = both(["endpoint", "hashkv", "-w", "json"]);
    expect(k.status).toBe(0);
    const [ej, kj] = [JSON.parse(e.stdout), JSON.parse(k.stdout)];
    expect(kj[0].HashKV.hash).toBe(ej[0].HashKV.hash);
  });

  it("defrag", () => {
    const [e, k] = both(["defrag"]);
    expect(k.status).toBe(e.status);
    expect(k.stdout.replace(keywayEndpoint, "<e>")).toBe(e.stdout.replace(etcdEndpoint, "<e>"));
  });

  it("alarm list", () => {
    const [e, k] = both(["alarm", "list"]);
    expect(k).toEqual(e);
  });
});
