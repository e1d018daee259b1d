import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CtlResult, etcdctl, normalise, splitArgs } from "../support/etcdctl.js";
import { type ServerPair, startPair } from "../support/pair.js";

/**
 * Differential suite for leases: each step runs the same etcdctl 3.4 command against real etcd
 * 3.4 and against Keyway, in order, and the outputs must be identical once ids, terms and the
 * lease ids each server chose are blanked. `$A` in a step stands for the id the step named
 * `A` was granted on that server. A remaining TTL can differ by the second that ticks between
 * the two calls, so `remaining(Ns)` and the JSON `ttl` are compared separately, within 1 s.
 */
interface Step {
  line: string;
  /** Names the lease this `lease grant` step creates. */
  grants?: string;
  /** Before running, poll this command (every 100 ms, at most 10 s) until its output matches (lease expiry). */
  until?: { line: string; match: RegExp };
}

const keyGone = (key: string) => ({ line: `get ${key} -w json`, match: /^(?!.*"kvs").*$/s });
const leaseGone = (name: string) => ({ line: `lease timetolive $${name}`, match: /already expired/ });

const steps: Step[] = [
  { line: "lease grant 100", grants: "A" },
  { line: "put k1 v1 --lease=$A" },
  { line: "get k1 -w json" },
  { line: "lease timetolive $A" },
  { line: "lease timetolive $A --keys" },
  { line: "lease timetolive $A --keys -w json" },
  { line: "put k2 v2 --lease=$A" },
  { line: "lease keep-alive --once $A" },
  { line: "lease keep-alive --once $A -w json" },
  { line: "lease grant 5000", grants: "B" },
  { line: "lease grant 300 -w json", grants: "C" },
  { line: "lease list" },
  { line: "lease list -w json" },
  // attach, keep with --ignore-lease, detach by a put without lease and by a delete
  { line: "put k3 v3 --lease=$B" },
  { line: "put k3 v4" },
  { line: "lease timetolive $B --keys -w json" },
  { line: "put k1 v5 --ignore-lease" },
  { line: "put k1 v6 --ignore-lease --lease=$B" },
  { line: "put nokey v --ignore-lease" },
  { line: "get k1 -w json" },
  { line: "put k4 v --lease=$C" },
  { line: "del k4" },
  { line: "lease timetolive $C --keys" },
  { line: "lease revoke $C" },
  // revoke deletes the attached keys in one revision
  { line: "get '' --prefix -w json" },
  { line: "lease revoke $A" },
  { line: "get '' --prefix -w json" },
  { line: "lease revoke $A" },
  { line: "lease timetolive $A" },
  { line: "lease timetolive $A -w json" },
  { line: "put x y --lease=$A" },
  { line: "lease keep-alive --once $A" },
  { line: "lease keep-alive --once 1234" },
  { line: "lease revoke 1234" },
  { line: "lease timetolive 1234 --keys -w json" },
  { line: "lease grant 9000000001" },
  { line: "lease grant -5" },
  // expiry: a 2 s lease (asked for 1 s: below the minimum) without keep-alive goes with its keys
  { line: "lease grant 1", grants: "E" },
  { line: "lease grant 0 -w json", grants: "F" },
  { line: "put e1 v --lease=$E" },
  { line: "put e2 v --lease=$E" },
  { line: "get e --prefix --keys-only", until: keyGone("e1") },
  { line: "get '' --prefix -w json" },
  { line: "lease timetolive $E -w json" },
  { line: "lease keep-alive $E" },
  { line: "lease list", until: leaseGone("F") },
];

/** One server's side of the suite: the lease ids it granted, by step name. */
class Side {
  readonly ids = new Map<string, bigint>();
  constructor(readonly endpoint: string) {}

  async run(step: Step): Promise<CtlResult> {
    if (step.until !== undefined) await this.poll(step.until.line, step.until.match);
    const result = this.ctl(step.line);
    if (step.grants !== undefined) {
      const match = /lease ([0-9a-f]+) granted|"ID":(\d+)/.exec(result.stdout);
      if (match === null) throw new Error(`no lease id in ${result.stdout}`);
      this.ids.set(
        step.grants,
        match[1] !== undefined ? BigInt(`0x${match[1]}`) : BigInt(match[2] as string),
      );
    }
    return result;
  }

  /** Runs a step's command line with `$NAME` replaced by this server's lease id. */
  private ctl(template: string): CtlResult {
    const line = template.replace(/\$(\w+)/g, (_, name: string) => {
      const id = this.ids.get(name);
      if (id === undefined) throw new Error(`no lease ${name} yet`);
      return id.toString(16);
    });
    return etcdctl(this.endpoint, splitArgs(line));
  }

  private async poll(line: string, match: RegExp): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!match.test(this.ctl(line).stdout)) {
      if (Date.now() > deadline) throw new Error(`${line} never matched ${match} on ${this.endpoint}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  normalise(result: CtlResult): CtlResult {
    return normalise(result, new Map([...this.ids].map(([name, id]) => [id, name])));
  }
}

/** Takes remaining TTLs out of an output; returns them separately. */
function splitRemaining(result: CtlResult): { result: CtlResult; remaining: number[] } {
  const remaining: number[] = [];
  const take = (text: string) =>
    text.replace(
      /remaining\((\d+)s\)|"ttl":(\d+)/g,
      (all, text: string | undefined, json: string | undefined) => {
        remaining.push(Number(text ?? json));
        return all.replace(/\d+/, "<ttl>");
      },
    );
  return { result: { ...result, stdout: take(result.stdout) }, remaining };
}

describe("etcdctl 3.4 against etcd 3.4 and Keyway: leases", () => {
  let pair: ServerPair;
  let etcd: Side;
  let keyway: Side;
  beforeAll(async () => {
    pair = await startPair();
    etcd = new Side(pair.etcd.endpoints[0] as string);
    keyway = new Side(pair.keyway.endpoint);
  });
  afterAll(async () => {
    await pair?.close();
  });

  for (const [i, step] of steps.entries()) {
    it(`#${i} etcdctl ${step.line}`, async () => {
      const expected = splitRemaining(etcd.normalise(await etcd.run(step)));
      const actual = splitRemaining(keyway.normalise(await keyway.run(step)));
      expect(actual.result).toEqual(expected.result);
      expect(actual.remaining).toHaveLength(expected.remaining.length);
      for (const [j, ttl] of actual.remaining.entries()) {
        expect(Math.abs(ttl - (expected.remaining[j] as number))).toBeLessThanOrEqual(1);
      }
    });
  }
});
