import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCertificates, type TestCertificates } from "../../../test/support/certs.js";
import { type EtcdCluster, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { type ClientOptions, KeywayClient, KeywayError, type TlsOptions } from "../src/index.js";

// Real etcd 3.4 members serving https:// with certificates generated for this run: one with
// server TLS only, one that also requires client certificates (--client-cert-auth).
let certs: TestCertificates;
/** A second, unrelated CA with its own client certificate: what a misconfigured client holds. */
let stranger: TestCertificates;
let tlsEtcd: EtcdCluster;
let mtlsEtcd: EtcdCluster;

beforeAll(async () => {
  certs = generateCertificates();
  stranger = generateCertificates();
  const server = { certFile: certs.server.certFile, keyFile: certs.server.keyFile };
  [tlsEtcd, mtlsEtcd] = await Promise.all([
    startEtcdCluster({ tls: server }),
    startEtcdCluster({ tls: { ...server, trustedCaFile: certs.ca.certFile, clientCertAuth: true } }),
  ]);
});
afterAll(async () => {
  await Promise.all([tlsEtcd?.close(), mtlsEtcd?.close()]);
  certs?.remove();
  stranger?.remove();
});

/** Bound of a refused connection: far below a TCP or gRPC default timeout. */
const FAIL_FAST_MS = 1_000;
/** The `timeoutMs` given to reads that cannot connect, and the slack allowed past it. */
const READ_TIMEOUT_MS = 800;
const SLACK_MS = 700;
/** Per test: a watch that never delivers fails here instead of at vitest's one-minute default. */
const TEST_TIMEOUT_MS = 10_000;

/** Put, get and a watch event through `client`, under a key prefix of its own. */
async function expectKvAndWatch(client: KeywayClient, prefix: string): Promise<void> {
  const put = await client.put(`${prefix}/a`, "1");
  expect((await client.get(`${prefix}/a`))?.text()).toBe("1");
  await using watcher = await client.watch(`${prefix}/`, { prefix: true });
  await client.put(`${prefix}/b`, "2");
  for await (const event of watcher) {
    expect([event.type, event.kv.keyText(), event.kv.text()]).toEqual(["put", `${prefix}/b`, "2"]);
    expect(event.kv.modRevision).toBe(put.revision + 1n);
    break;
  }
}

/**
 * What a client that cannot finish the TLS handshake reports: a write fails at once with the
 * documented transport failure (`unavailable`, gRPC UNAVAILABLE) and is never sent; a read, which
 * is retried, ends at its `timeoutMs` as `timeout`. Neither hangs.
 */
async function expectRefused(options: ClientOptions, key: string): Promise<void> {
  await using client = new KeywayClient(options);
  let started = Date.now();
  const write = await client.put(key, "must not be applied").catch((err: unknown) => err);
  expect(write).toBeInstanceOf(KeywayError);
  expect(write).toMatchObject({ reason: "unavailable", code: status.UNAVAILABLE });
  expect((write as KeywayError).message).toContain(options.endpoints[0]);
  expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);

  started = Date.now();
  const read = await client.get(key, { timeoutMs: READ_TIMEOUT_MS }).catch((err: unknown) => err);
  expect(read).toBeInstanceOf(KeywayError);
  expect(read).toMatchObject({ reason: "timeout", code: status.DEADLINE_EXCEEDED });
  expect(Date.now() - started).toBeLessThan(READ_TIMEOUT_MS + SLACK_MS);
}

/** Checks with a working client that a refused client's write never reached etcd. */
async function expectAbsent(endpoints: string[], tls: TlsOptions, key: string): Promise<void> {
  await using client = new KeywayClient({ endpoints, tls });
  expect(await client.get(key)).toBeUndefined();
}

describe("TLS against etcd 3.4 (https:// client URLs)", { timeout: TEST_TIMEOUT_MS }, () => {
  it("a client trusting the CA does put, get and watch", async () => {
    await using client = new KeywayClient({ endpoints: tlsEtcd.endpoints, tls: { ca: certs.ca.cert } });
    await expectKvAndWatch(client, "tls");
  });

  it("verifies the DNS name too: https://localhost works with the same certificate", async () => {
    const endpoint = (tlsEtcd.endpoints[0] as string).replace("127.0.0.1", "localhost");
    await using client = new KeywayClient({ endpoints: [endpoint], tls: { ca: certs.ca.cert } });
    await client.put("tls-dns/a", "1");
    expect((await client.get("tls-dns/a"))?.text()).toBe("1");
  });

  it("a client using the system roots is refused quickly, and its write is not applied", async () => {
    await expectRefused({ endpoints: tlsEtcd.endpoints }, "tls-refused/system-roots");
    await expectAbsent(tlsEtcd.endpoints, { ca: certs.ca.cert }, "tls-refused/system-roots");
  });

  it("a client trusting another CA is refused quickly, and its write is not applied", async () => {
    const options = { endpoints: tlsEtcd.endpoints, tls: { ca: stranger.ca.cert } };
    await expectRefused(options, "tls-refused/other-ca");
    await expectAbsent(tlsEtcd.endpoints, { ca: certs.ca.cert }, "tls-refused/other-ca");
  });
});

describe("mutual TLS against etcd 3.4 (--client-cert-auth)", { timeout: TEST_TIMEOUT_MS }, () => {
  const trusted = (): TlsOptions => ({ ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });

  it("a client with a certificate signed by the trusted CA does put, get and watch", async () => {
    await using client = new KeywayClient({ endpoints: mtlsEtcd.endpoints, tls: trusted() });
    await expectKvAndWatch(client, "mtls");
  });

  it("a client without a certificate is refused quickly, and its write is not applied", async () => {
    await expectRefused({ endpoints: mtlsEtcd.endpoints, tls: { ca: certs.ca.cert } }, "mtls-refused/none");
    await expectAbsent(mtlsEtcd.endpoints, trusted(), "mtls-refused/none");
  });

  it("a client whose certificate another CA signed is refused quickly", async () => {
    const tls = { ca: certs.ca.cert, cert: stranger.client.cert, key: stranger.client.key };
    await expectRefused({ endpoints: mtlsEtcd.endpoints, tls }, "mtls-refused/other-ca");
    await expectAbsent(mtlsEtcd.endpoints, trusted(), "mtls-refused/other-ca");
  });

  it("refuses a certificate without its key before connecting", () => {
    const tls = { ca: certs.ca.cert, cert: certs.client.cert };
    expect(() => new KeywayClient({ endpoints: mtlsEtcd.endpoints, tls })).toThrow(
      expect.objectContaining({ reason: "badRequest", message: "tls.cert and tls.key go together" }),
    );
  });
});
