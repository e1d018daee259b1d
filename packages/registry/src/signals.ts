import { badRequest } from "./errors.js";
import type { Registration } from "./registration.js";

/** Options of {@link deregisterOnSignals}. */
export interface DeregisterOnSignalsOptions {
  /** Signals that deregister; default `SIGTERM` and `SIGINT`. */
  signals?: readonly NodeJS.Signals[];
  /**
   * Time (ms, 0..600 000, default 0) between marking the instances `draining` (discoverers stop
   * picking them) and revoking them, for calls already under way to finish.
   */
  drainMs?: number;
  /** Bound (ms, 1..60 000, default 5000) on each of the draining update and the revoke. */
  timeoutMs?: number;
  /**
   * Called once deregistered, instead of re-raising the signal; the process then exits only
   * when this hook makes it (e.g. after closing a server and calling `process.exit()`).
   */
  onDeregistered?: (signal: NodeJS.Signals) => unknown;
}

/** What {@link deregisterOnSignals} installed; dispose to remove the signal handlers. */
export interface SignalHandlers extends Disposable {
  /** Removes the handlers (a signal after this is handled as if they were never installed). */
  remove(): void;
}

const SIGNAL = /^SIG[A-Z0-9]+$/;

function checkOptions(
  options: DeregisterOnSignalsOptions,
): Required<Omit<DeregisterOnSignalsOptions, "onDeregistered">> {
  const { signals = ["SIGTERM", "SIGINT"], drainMs = 0, timeoutMs = 5000 } = options;
  if (
    !Array.isArray(signals) ||
    signals.length === 0 ||
    signals.some((s) => typeof s !== "string" || !SIGNAL.test(s))
  )
    throw badRequest("signals must be a non-empty list of signal names such as SIGTERM");
  if (!Number.isFinite(drainMs) || drainMs < 0 || drainMs > 600_000)
    throw badRequest("drainMs must be in 0..600000");
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000)
    throw badRequest("timeoutMs must be in 1..60000");
  return { signals, drainMs, timeoutMs };
}

/** Waits for every promise to settle, or `ms`, whichever comes first. */
async function settleWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}

/**
 * Deregisters `registrations` when the process gets one of `signals`: marks them `draining`,
 * waits `drainMs`, revokes them (so discoverers drop them at once instead of after their TTL),
 * then lets the signal take its course: it is raised again with the handlers removed, so the
 * process ends as the signal would have ended it (or, when other listeners of the signal
 * remain, they decide), unless `onDeregistered` is given. A second signal during the drain is
 * not caught by these handlers.
 */
export function deregisterOnSignals(
  registrations: Registration | readonly Registration[],
  options: DeregisterOnSignalsOptions = {},
): SignalHandlers {
  const { signals, drainMs, timeoutMs } = checkOptions(options);
  const list: readonly Registration[] = Array.isArray(registrations) ? registrations : [registrations];
  const remove = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  const handler = (signal: NodeJS.Signals) => {
    remove();
    void (async () => {
      if (drainMs > 0) {
        await settleWithin(
          list.map((r) => r.update({ status: "draining" })),
          timeoutMs,
        );
        await new Promise((resolve) => setTimeout(resolve, drainMs));
      }
      await settleWithin(
        list.map((r) => r.close()),
        timeoutMs,
      );
      if (options.onDeregistered !== undefined) await options.onDeregistered(signal);
      else process.kill(process.pid, signal);
    })();
  };
  for (const signal of signals) process.on(signal, handler);
  return { remove, [Symbol.dispose]: remove };
}
