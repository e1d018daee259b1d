import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Path of the `openssl` command used to generate test certificates. */
export const OPENSSL_BIN = process.env.OPENSSL_BIN ?? "openssl";

/** A PEM certificate with its private key, as files (for etcd flags) and as buffers (for the client). */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A throwaway CA with one server and one client certificate it signed, in a temp dir. */
export interface TestCertificates extends Disposable {
  /** The directory holding every generated file; removed by `remove()`. */
  readonly dir: string;
  /** The self-signed CA (its `certFile` is what `--trusted-ca-file` and `--cacert` take). */
  readonly ca: CertificatePair;
  /** For 127.0.0.1 and localhost (IP and DNS subject alternative names); serverAuth and clientAuth. */
  readonly server: CertificatePair;
  /** A client certificate (clientAuth) for mutual TLS. */
  readonly client: CertificatePair;
  /** Deletes the temp dir and every key in it. */
  remove(): void;
}

/** Validity of generated certificates: tests only need them for minutes. */
const VALIDITY_DAYS = "2";

/**
 * Generates a fresh CA, a server certificate for 127.0.0.1 / localhost and a client certificate
 * with `openssl`, at test time, so no key is ever committed. P-256 keys keep it fast (tens of ms).
 */
export function generateCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "keyway-certs-"));
  try {
    const ca = selfSignedCa(dir);
    const server = signedLeaf(dir, ca, "server", [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // clientAuth too: etcd's gRPC gateway and the fixture's etcdctl health probe present this
      // certificate as their client certificate to a member that requires one.
      "extendedKeyUsage=serverAuth,clientAuth",
    ]);
    const client = signedLeaf(dir, ca, "client", ["extendedKeyUsage=clientAuth"]);
    const remove = () => rmSync(dir, { recursive: true, force: true });
    return { dir, ca, server, client, remove, [Symbol.dispose]: remove };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function selfSignedCa(dir: string): CertificatePair {
  const certFile = join(dir, "ca.crt");
  const keyFile = join(dir, "ca.key");
  openssl(
    ["req", "-x509", "-nodes", ...newP256Key(keyFile), "-out", certFile],
    ["-subj", "/CN=keyway-test-ca", "-days", VALIDITY_DAYS],
    ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  return readPair(certFile, keyFile);
}

/** A key and CSR for `name`, then a certificate signed by `ca` with the given v3 extensions. */
function signedLeaf(dir: string, ca: CertificatePair, name: string, extensions: string[]): CertificatePair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  openssl(["req", "-new", "-nodes", ...newP256Key(keyFile), "-out", csrFile, "-subj", `/CN=keyway-${name}`]);
  writeFileSync(extFile, `${["basicConstraints=CA:FALSE", ...extensions].join("\n")}\n`);
  // A random serial: certificates of two test CAs must not look like one certificate reissued.
  openssl(
    ["x509", "-req", "-in", csrFile, "-out", certFile, "-days", VALIDITY_DAYS, "-extfile", extFile],
    ["-CA", ca.certFile, "-CAkey", ca.keyFile, "-set_serial", `0x${randomBytes(8).toString("hex")}`],
  );
  return readPair(certFile, keyFile);
}

function newP256Key(keyFile: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", keyFile];
}

function openssl(...argGroups: string[][]): void {
  execFileSync(OPENSSL_BIN, argGroups.flat(), { stdio: ["ignore", "ignore", "pipe"] });
}

function readPair(certFile: string, keyFile: string): CertificatePair {
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
