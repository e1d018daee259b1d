import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopProcess, waitHealthy } from "./etcd-process.js";
import { freePort } from "./ports.js";

/** The built `keyway` command; the test script builds before running tests. */
export const KEYWAY_BIN = fileURLToPath(new URL("../../packages/cli/bin/keyway.js", import.meta.url));

/** One Keyway member running as a real process on loopback. */
export interface KeywayProcess extends AsyncDisposable {
  readonly endpoint: string;
  readonly endpoints: string[];
  readonly dataDir: string;
  /** The member's process, started by this fixture. */
  readonly child: ChildProcess;
  /** Everything the member wrote to stdout/stderr so far (JSON log lines). */
  output(): string;
  /** SIGKILL: no shutdown path runs. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Stops (if running) and removes the data dir unless it was given. */
  close(): Promise<void>;
}

interface StartOptions {
  /** Reuse a data dir (restart after a crash); default a fresh temp dir, removed on close. */
  dataDir?: string;
  /** Reuse a port (restart at the same endpoint). */
  port?: number;
  extraArgs?: string[];
  /**
   * Wait until the member answers (MemberList) rather than until it is healthy: for a member that
   * cannot have a leader (its peers are not Keyway members).
   */
  answeringOnly?: boolean;
}

/** Starts `keyway serve` on a free loopback port and waits until etcdctl sees it healthy. */
export async function startKeywayProcess(options: StartOptions = {}): Promise<KeywayProcess> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "keyway-data-"));
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      KEYWAY_BIN,
      "serve",
      "--name=test",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      ...(options.extraArgs ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exitedEarly = new Promise<never>((_, reject) =>
    // "close", not "exit": its stdio is drained by then, so the error text is in `output`.
    child.once("close", (code) => reject(new Error(`keyway exited with ${code} before serving:\n${output}`))),
  );
  const probe = options.answeringOnly === true ? ["member", "list"] : undefined;
  try {
    await Promise.race([waitHealthy(endpoint, undefined, undefined, probe), exitedEarly]);
  } catch (error) {
    // A member that never became healthy must not outlive the test that started it.
    await stopProcess(child, "SIGKILL");
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    exitedEarly.catch(() => undefined);
  }

  const member: KeywayProcess = {
    endpoint,
    endpoints: [endpoint],
    dataDir,
    child,
    output: () => output,
    kill: () => stopProcess(child, "SIGKILL"),
    async stop() {
      await stopProcess(child, "SIGTERM");
      return child.exitCode;
    },
    async close() {
      await stopProcess(child, "SIGTERM");
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return member.close();
    },
  };
  return member;
}
