import { afterAll, beforeAll, expect, it } from "vitest";
import { type ServerPair, startPair } from "./pair.js";
import { type CallOutcome, type RawClients, rawClients, withoutIds } from "./raw-grpc.js";

/** Real etcd 3.4 and Keyway side by side, with raw clients to each; read the fields inside tests. */
export interface RawPair {
  readonly pair: ServerPair;
  readonly etcd: RawClients;
  readonly keyway: RawClients;
}

/** One call made the same way against either server. */
export type Probe = (c: RawClients) => Promise<CallOutcome<unknown>>;

/** Registers the beforeAll/afterAll that start the pair and its raw clients, and close them after the file. */
export function useRawPair(): RawPair {
  let state: RawPair | undefined;
  beforeAll(async () => {
    const pair = await startPair();
    state = {
      pair,
      etcd: rawClients(pair.etcd.endpoints[0] as string),
      keyway: rawClients(pair.keyway.endpoint),
    };
  });
  afterAll(async () => {
    state?.etcd.close();
    state?.keyway.close();
    await state?.pair.close();
  });
  const get = () => {
    if (state === undefined) throw new Error("raw pair: not started (use it inside tests)");
    return state;
  };
  return {
    get pair() {
      return get().pair;
    },
    get etcd() {
      return get().etcd;
    },
    get keyway() {
      return get().keyway;
    },
  };
}

/** One test per probe, in order: etcd first, then Keyway; the outcomes (ids blanked) must be equal. */
export function compareProbes(env: RawPair, probes: Iterable<[string, Probe]>): void {
  for (const [name, probe] of probes) {
    it(name, async () => {
      const expected = withoutIds(await probe(env.etcd));
      const actual = withoutIds(await probe(env.keyway));
      expect(actual).toEqual(expected);
    });
  }
}
