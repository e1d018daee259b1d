// The whole registry example in one command: a Keyway member (`keyway serve`, unless --endpoint
// points at a running etcd or Keyway), three greeter (gRPC) and two hello (HTTP) instances
// that register themselves, and a client balancing over them. Once the client has had answers
// from every instance, one instance of each service is killed with kill -9: the greeter calls
// move off at once (its connection breaks), and both disappear from discovery within the TTL.
//
//   pnpm build && node examples/registry/run-all.mjs
//
// Options: --endpoint <url> (default: start `keyway serve` on a free port), --ttl <seconds>
// (default 3), --kill-after-ms <ms> after every instance answered (default 3000; -1: never),
// --duration-ms <ms> (default: until Ctrl-C), --interval-ms <ms> between client calls (default 200).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string" },
    ttl: { type: "string", default: "3" },
    "kill-after-ms": { type: "string", default: "3000" },
    "duration-ms": { type: "string", default: "0" },
    "interval-ms": { type: "string", default: "200" },
  },
});
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const log = (message) => console.log(`[run-all] ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = [];

/** Starts a node script; its output lines are printed as they come (and given to `onLine`). */
function start(script, args, onLine = () => undefined) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  createInterface({ input: child.stdout }).on("line", (line) => {
    console.log(line);
    onLine(line);
  });
  children.push(child);
  return child;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The `keyway serve` member this script started, if it started one. */
let keyway;

/** Starts `keyway serve` on a free loopback port with a temporary data dir. */
async function startKeyway() {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const dataDir = mkdtempSync(join(tmpdir(), "keyway-example-"));
  const member = spawn(
    process.execPath,
    [
      here("../../packages/cli/bin/keyway.js"),
      "serve",
      "--name=example",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
    ],
    { stdio: "ignore" },
  );
  keyway = { endpoint, member, dataDir };
  const probe = new KeywayClient({ endpoints: [endpoint] });
  for (let attempt = 0; ; attempt++) {
    try {
      await probe.get("examples/ping", { timeoutMs: 1000 });
      break;
    } catch (err) {
      if (attempt > 100 || member.exitCode !== null) throw err;
      await sleep(100);
    }
  }
  await probe.close();
  log(`keyway serve is up on ${endpoint} (pid ${member.pid})`);
}

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  log("stopping: SIGTERM to the client and every instance (they deregister)");
  const exits = children
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => new Promise((resolve) => c.once("exit", resolve)));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  await Promise.all(exits);
  if (keyway !== undefined && keyway.member.exitCode === null) {
    const exited = new Promise((resolve) => keyway.member.once("exit", resolve));
    keyway.member.kill("SIGTERM");
    await exited;
    rmSync(keyway.dataDir, { recursive: true, force: true });
  }
  log("stopped");
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, shutdown);
// Whatever ends this process, no child outlives it.
process.on("exit", () => {
  for (const child of [...children, keyway?.member]) if (child?.exitCode === null) child.kill("SIGKILL");
  if (keyway !== undefined) rmSync(keyway.dataDir, { recursive: true, force: true });
});

if (values.endpoint === undefined) await startKeyway();
const endpoint = values.endpoint ?? keyway.endpoint;
const common = ["--endpoint", endpoint, "--ttl", values.ttl];
const greeters = ["g1", "g2", "g3"];
const hellos = ["h1", "h2"];
const instances = new Map();
const ready = [];
for (const id of greeters)
  instances.set(
    id,
    start(
      here("greeter-server.mjs"),
      [...common, "--id", id],
      (l) => l.includes("serving") && ready.push(id),
    ),
  );
for (const id of hellos)
  instances.set(
    id,
    start(here("http-server.mjs"), [...common, "--id", id], (l) => l.includes("serving") && ready.push(id)),
  );
while (ready.length < instances.size) {
  if ([...instances.values()].some((c) => c.exitCode !== null))
    throw new Error("an instance failed to start");
  await sleep(50);
}

const answered = new Set();
const client = start(
  here("client.mjs"),
  ["--endpoint", endpoint, "--interval-ms", values["interval-ms"]],
  (line) => {
    const match = /^\[client\] \w+ <- (\S+)$/.exec(line);
    if (match) answered.add(match[1]);
  },
);

const durationMs = Number(values["duration-ms"]);
if (durationMs > 0) setTimeout(shutdown, durationMs);

const killAfterMs = Number(values["kill-after-ms"]);
if (killAfterMs >= 0) {
  while (![...instances.keys()].every((id) => answered.has(id))) await sleep(50);
  log(`every instance answered; kill -9 of g2 and h2 in ${killAfterMs} ms`);
  await sleep(killAfterMs);
  if (!stopping) {
    for (const id of ["g2", "h2"]) instances.get(id).kill("SIGKILL");
    log(`killed g2 and h2 with SIGKILL; they leave discovery within the ${values.ttl} s TTL`);
  }
}
client.once("exit", shutdown);
