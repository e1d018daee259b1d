import { hex } from "./handshake.js";

interface Pending {
  readonly resolve: (payload: Uint8Array) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/**
 * The requests one outgoing connection is waiting on, by request id. Each settles exactly once:
 * by its response, its timeout, its signal, or the connection's loss.
 */
export class PendingRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly peer: bigint) {}

  /** Registers a request; returns its id and the promise the caller awaits. */
  add(
    kind: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): { id: number; result: Promise<Uint8Array> } {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    const result = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(
          id,
          new Error(`peer request ${kind} to ${hex(this.peer)} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onAbort = () =>
        this.settle(id, new Error(`peer request ${kind} to ${hex(this.peer)} was aborted`));
      signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(id, { resolve, reject, cleanup });
      if (signal?.aborted === true) onAbort();
    });
    return { id, result };
  }

  /** Settles request `id` with a payload or an error; unknown ids (late answers) are ignored. */
  settle(id: number, outcome: Uint8Array | Error): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    entry.cleanup();
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  /** Rejects every pending request (the connection was lost or the transport closed). */
  rejectAll(reason: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new Error(reason));
  }
}
