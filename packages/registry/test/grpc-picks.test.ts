import { describe, expect, it } from "vitest";
import { Balancer } from "../src/balancer.js";
import { UnstartedPicks } from "../src/grpc/picker.js";
import type { Instance } from "../src/index.js";
import { toInstance } from "../src/instance.js";
import { createInstancePicker } from "../src/pickers.js";

const instance = (id: string): Instance => toInstance("s", { id, address: `${id}:1` });

/** A balancer whose only instance failed once and is down for 1 s; the clock is at 2 s. */
function downThenProbing() {
  const time = { now: 0 };
  const clock = () => time.now;
  // One failure puts an instance down for 1 s; then it is probed one call at a time.
  const balancer = new Balancer(
    createInstancePicker("least-outstanding"),
    { failures: 1, downForMs: 1000 },
    clock,
  );
  const only = [instance("a")];
  (balancer.pick(only) ?? expect.unreachable()).report({ ok: false });
  time.now = 2000;
  return { time, balancer, only, unstarted: new UnstartedPicks(clock) };
}

describe("picks grpc-js drops before their call starts", () => {
  it("are given back after the grace time, so down-policy probes resume", () => {
    const { time, balancer, only, unstarted } = downThenProbing();
    // A probe pick whose call never starts (grpc-js picked again elsewhere) blocks other probes...
    unstarted.add(balancer.pick(only) ?? expect.unreachable());
    unstarted.sweep();
    expect(balancer.pick(only)).toBeUndefined();
    // ...until the grace time has passed.
    time.now += 10_000;
    unstarted.sweep();
    expect(balancer.pick(only)).toBeDefined();
  });

  it("a started pick is left to its call's report", () => {
    const { time, balancer, only, unstarted } = downThenProbing();
    const probe = balancer.pick(only) ?? expect.unreachable();
    unstarted.started(unstarted.add(probe));
    time.now += 60_000;
    unstarted.sweep();
    expect(balancer.pick(only)).toBeUndefined(); // the probe call is still running
    probe.report({ ok: true });
    expect(balancer.pick(only)).toBeDefined();
  });
});
