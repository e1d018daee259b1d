import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { stopProcess } from "../../../../test/support/etcd-process.js";
import { sleep } from "./env.js";

/** A process started by a test, with its stdout collected line by line. */
export interface Background {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (from the start) matching `test`; fails after `timeoutMs`. */
  waitLine(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends `signal` to the process (by its PID) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `command args` in the background; stderr is kept for failure messages. */
export function background(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Background {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => lines.push(line));
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return {
    child,
    lines,
    async waitLine(test, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(test);
        if (found !== undefined) return found;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(
            `${command} ${args.join(" ")}: no matching line; stdout ${JSON.stringify(lines)}, stderr ${stderr}`,
          );
        await sleep(20);
      }
    },
    stop: (signal = "SIGINT") => stopProcess(child, signal),
  };
}
