/** One client under benchmark: the operations the workloads need, in its own API. */
export interface BenchClient {
  readonly name: string;
  put(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown>;
  /** Watches `prefix` from `startRevision` and resolves once `count` events arrived. */
  watchEvents(prefix: string, startRevision: bigint, count: number): Promise<void>;
  close(): Promise<void>;
}

/** Runs `total` calls of `call` with `concurrency` in flight; returns calls per second. */
export async function throughput(
  concurrency: number,
  total: number,
  call: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) await call(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
