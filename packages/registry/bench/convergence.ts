/**
 * Discovery convergence of @keyway/registry against one etcd-v3 endpoint (Keyway or etcd):
 * `--instances` instances registered by `--registrant-processes` processes (a session, so a lease,
 * per instance) and `--clients` discovering clients (one KeywayClient and Discovery each) spread
 * over `--discoverer-processes` processes. Then it measures:
 * - register: from `register()` returning in this process to every client seeing the new instance
 *   added (`--registrations` probes, one at a time), and from `register()` being called (lease
 *   grant, keep-alive start and put included); each probe is then closed (its lease revoked) and
 *   the time from `close()` to every client dropping it is recorded too;
 * - kill: from SIGKILL of a process holding one instance's session (TTL `--ttl`, the minimum a
 *   registration allows) to every client dropping it (`--kills` victims, one at a time).
 * Prints one JSON line of percentiles (ms). Run: node bench/dist/packages/registry/bench/convergence.js
 * --endpoint http://127.0.0.1:2379 (convergence.sh runs it against Keyway and etcd alternately).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";
import { registry } from "@keyway/registry";
import { type Message, now } from "./roles/protocol.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    endpoint: { type: "string" },
    instances: { type: "string", default: "1000" },
    "registrant-processes": { type: "string", default: "2" },
    clients: { type: "string", default: "100" },
    "discoverer-processes": { type: "string", default: "4" },
    registrations: { type: "string", default: "50" },
    kills: { type: "string", default: "5" },
    ttl: { type: "string", default: "2" },
    "background-ttl": { type: "string", default: "10" },
  },
});
if (values.endpoint === undefined) throw new Error("--endpoint http://host:port is required");
const endpoint = values.endpoint;
const int = (name: keyof typeof values) => Number.parseInt(values[name] as string, 10);
const service = `bench-${process.pid}-${Date.now()}`;
/** Longest wait for one step (set-up, one probe); a run that hangs fails instead. */
const STEP_TIMEOUT_MS = 120_000;

/** A forked role process and the messages it sent. */
class Role {
  readonly proc: ChildProcess;
  private readonly waiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  private readonly inbox: Message[] = [];

  constructor(script: string, args: string[]) {
    const path = fileURLToPath(new URL(`./roles/${script}.js`, import.meta.url));
    this.proc = fork(path, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.proc.on("message", (m: Message) => {
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i < 0) this.inbox.push(m);
      else this.waiters.splice(i, 1)[0]?.resolve(m);
    });
  }

  /** The first message (already received or future) that `match` accepts. */
  next(match: (m: Message) => boolean, what: string): Promise<Message> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS);
      const exited = () => reject(new Error(`role exited while waiting for ${what}`));
      this.proc.once("exit", exited);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.proc.off("exit", exited);
          resolve(m);
        },
      });
    });
  }
}

/** When the last discoverer process saw `id` `type` (added/removed). */
async function lastSeen(discoverers: readonly Role[], type: "added" | "removed", id: string) {
  const seen = await Promise.all(
    discoverers.map((d) => d.next((m) => m.type === type && m.id === id, `${id} ${type}`)),
  );
  return Math.max(...seen.map((m) => (m.type === type ? m.at : Number.NaN)));
}

function registrant(id: string, count: number, ttl: number): Role {
  const args = ["--endpoint", endpoint, "--service", service, "--id-prefix", id, "--count", String(count)];
  return new Role("registrant", [...args, "--ttl", String(ttl)]);
}

async function setUp() {
  const started = now();
  const procs = int("registrant-processes");
  const per = Math.ceil(int("instances") / procs);
  const registrants = Array.from({ length: procs }, (_, p) =>
    registrant(`bg-${p}-`, Math.min(per, int("instances") - p * per), int("background-ttl")),
  );
  await Promise.all(registrants.map((r) => r.next((m) => m.type === "ready", "registrants")));
  const registeredMs = now() - started;
  const dprocs = int("discoverer-processes");
  const discoverers = Array.from({ length: dprocs }, (_, p) => {
    const clients = Math.floor(int("clients") / dprocs) + (p < int("clients") % dprocs ? 1 : 0);
    const args = ["--endpoint", endpoint, "--service", service, "--clients", String(clients)];
    return new Role("discoverer", [...args, "--expect", String(int("instances"))]);
  });
  const ready = await Promise.all(discoverers.map((d) => d.next((m) => m.type === "ready", "discoverers")));
  const seen = ready.flatMap((m) => (m.type === "ready" ? (m.seen ?? []) : []));
  if (seen.length !== int("clients") || seen.some((n) => n !== int("instances")))
    throw new Error(`discoveries listed ${[...new Set(seen)].join("/")} instances, not ${values.instances}`);
  return { registrants, discoverers, registeredMs, discoveredMs: now() - started - registeredMs };
}

/** Register → every client sees it; close → every client drops it. */
async function probes(discoverers: readonly Role[]) {
  const client = new KeywayClient({ endpoints: [endpoint] });
  const services = registry(client);
  const added: number[] = [];
  const addedFromCall: number[] = [];
  const closed: number[] = [];
  for (let i = 0; i < int("registrations"); i++) {
    const id = `probe-${i}`;
    const called = now();
    const registration = await services.register({ service, instance: { id, address: "127.0.0.1:1" } });
    const registered = now();
    const seen = await lastSeen(discoverers, "added", id);
    added.push(seen - registered);
    addedFromCall.push(seen - called);
    const closing = now();
    await registration.close();
    closed.push((await lastSeen(discoverers, "removed", id)) - closing);
  }
  await client.close();
  return { added, addedFromCall, closed };
}

/** SIGKILL of a process holding one instance → every client drops it. */
async function kills(discoverers: readonly Role[]) {
  const dropped: number[] = [];
  for (let i = 0; i < int("kills"); i++) {
    const id = `probe-victim-${i}`;
    const victim = registrant(id, 1, int("ttl"));
    await victim.next((m) => m.type === "ready", "victim");
    await lastSeen(discoverers, "added", `${id}0`);
    // Kill at a random point of the keep-alive cycle, as a crash would.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
    const killed = now();
    victim.proc.kill("SIGKILL");
    dropped.push((await lastSeen(discoverers, "removed", `${id}0`)) - killed);
  }
  return dropped;
}

function summary(xs: readonly number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const round = (x: number | undefined) => Math.round((x ?? Number.NaN) * 100) / 100;
  return { n: sorted.length, p50: round(at(50)), p99: round(at(99)), max: round(sorted.at(-1)) };
}

/** Deregisters the background instances; sums how often they were written again during the run. */
async function closeRegistrants(registrants: readonly Role[]) {
  const exited = registrants.map((r) => new Promise((resolve) => r.proc.once("exit", resolve)));
  for (const r of registrants) r.proc.send({ type: "close" });
  const churn = { reRegistrations: 0, causes: {} as Record<string, number>, errors: 0 };
  for (const r of registrants) {
    const m = await r.next((m) => m.type === "churn", "churn");
    if (m.type !== "churn") continue;
    churn.reRegistrations += m.reRegistrations;
    for (const [cause, n] of Object.entries(m.causes)) churn.causes[cause] = (churn.causes[cause] ?? 0) + n;
    churn.errors += m.errors;
  }
  await Promise.all(exited);
  return churn;
}

const { registrants, discoverers, registeredMs, discoveredMs } = await setUp();
try {
  const { added, addedFromCall, closed } = await probes(discoverers);
  const dropped = await kills(discoverers);
  const backgroundChurn = await closeRegistrants(registrants);
  console.log(
    JSON.stringify({
      endpoint,
      instances: int("instances"),
      clients: int("clients"),
      discovererProcesses: discoverers.length,
      registrantProcesses: registrants.length,
      ttlSeconds: int("ttl"),
      setUpMs: { register: Math.round(registeredMs), discover: Math.round(discoveredMs) },
      registerToAllSeen: summary(added),
      registerCallToAllSeen: summary(addedFromCall),
      closeToAllDropped: summary(closed),
      killToAllDropped: summary(dropped),
      // Background instances written again (lease lost under load…): nonzero means churn.
      backgroundChurn,
    }),
  );
} finally {
  for (const r of registrants) if (r.proc.exitCode === null) r.proc.kill("SIGTERM");
  for (const d of discoverers) d.proc.kill("SIGTERM");
}
