import { type ChildProcess, spawn } from "node:child_process";
import { ETCDCTL_BIN } from "./etcd-process.js";

/** An etcdctl command that keeps running (`lock`, `elect`, `watch`): its output so far, and a way to stop it. */
export interface BackgroundCtl {
  readonly child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves once stdout matches `pattern`; rejects after `timeoutMs` with what was printed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGINT (etcdctl releases what it holds) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

/** Starts etcdctl 3.4 against `endpoint` in the background. */
export function startCtl(endpoint: string, args: readonly string[]): BackgroundCtl {
  const child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, ...args], {
    env: { ...process.env, ETCDCTL_API: "3" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(
            `etcdctl ${args.join(" ")}: no ${pattern} in stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return out;
    },
    async interrupt() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}
