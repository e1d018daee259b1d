import type { Operation, OperationRecord, Outcome, WatchRecord } from "../history/types.js";

/** Collects the operations and watches of a run; ids are unique in the order calls were made. */
export class Recorder {
  readonly operations: OperationRecord[] = [];
  readonly watches: WatchRecord[] = [];
  private nextId = 0;

  /** Runs `call`, timing it with the monotonic clock, and records it. */
  async record(client: number, operation: Operation, call: () => Promise<Outcome>): Promise<Outcome> {
    const id = this.nextId++;
    const invokeNs = process.hrtime.bigint();
    const outcome = await call();
    const returnNs = process.hrtime.bigint();
    this.operations.push({ id, client, invokeNs, returnNs, operation, outcome });
    return outcome;
  }
}
