import type { Background } from "../../../lock/test/support/background.js";

/** Resolves with how a background process ended (at once if it already has). */
export function exitOf(p: Background): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      resolve({ code: p.child.exitCode, signal: p.child.signalCode });
    else p.child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}
