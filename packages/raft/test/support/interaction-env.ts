/**
 * The interaction-test environment: several Raft nodes on an in-memory network driven one step at a
 * time by script commands, printing every Ready, message and log line so the expected output reads
 * as a story of the protocol.
 */
import type { ConfChange, ConfState, Message, NodeId, Ready, Snapshot } from "@keyway/raft";
import {
  decodeConfChange,
  describeEntry,
  describeMessage,
  describeReady,
  MemoryStorage,
  RawNode,
} from "@keyway/raft";
import type { Command } from "./datadriven.js";

/** Election jitter is zero here so `tick-election` always triggers exactly one timeout. */
const ZERO_RNG = { int: () => 0 };

type Level = "debug" | "info" | "warn" | "none";
const LEVELS: Record<Level, number> = { debug: 0, info: 1, warn: 2, none: 3 };

/** One node of the environment: its durable storage and what it applied. */
export interface EnvNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raw: RawNode | undefined;
  config: NodeConfig;
  applied: number;
  /** The membership as of `applied`, as the application tracks it. */
  confState: ConfState;
}

interface NodeConfig {
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightMsgs: number;
  readonly maxMsgBytes: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly disableProposalForwarding: boolean;
  readonly maxUncommittedBytes: number;
}

/** The environment; `handle` runs one script command and returns its output. */
export class InteractionEnv {
  readonly nodes = new Map<NodeId, EnvNode>();
  /** Messages sent and not yet delivered, in send order. */
  messages: Message[] = [];
  private groups = new Map<NodeId, number>();
  private out: string[] = [];
  private level: Level = "info";

  /** Appends a line to the command's output. */
  print(line: string): void {
    this.out.push(line);
  }

  private logger() {
    const at = (level: Level) => (line: string) => {
      if (LEVELS[level] >= LEVELS[this.level]) this.print(`${level.toUpperCase()} ${line}`);
    };
    return { debug: at("debug"), info: at("info"), warn: at("warn") };
  }

  /** Runs one command; unknown commands and bad arguments throw. */
  handle(cmd: Command): string {
    this.out = [];
    const handler = COMMANDS[cmd.name];
    if (handler === undefined) throw new Error(`unknown command: ${cmd.line}`);
    handler(this, cmd);
    return this.out.join("\n");
  }

  node(id: NodeId): EnvNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    const raw = this.node(id).raw;
    if (raw === undefined) throw new Error(`node ${id} is down`);
    return raw;
  }

  addNodes(count: number, cmd: Command): void {
    const voters = ids(cmd.kv.get("voters"));
    const learners = ids(cmd.kv.get("learners"));
    const index = Number(str(cmd.kv.get("index")) ?? (voters.length > 0 ? 1 : 0));
    const config: NodeConfig = {
      preVote: str(cmd.kv.get("prevote")) !== "false",
      checkQuorum: str(cmd.kv.get("checkquorum")) !== "false",
      maxInflightMsgs: Number(str(cmd.kv.get("max-inflight")) ?? 256),
      maxMsgBytes: Number(str(cmd.kv.get("max-msg-bytes")) ?? 1024 * 1024),
      electionTicks: Number(str(cmd.kv.get("election")) ?? 3),
      heartbeatTicks: Number(str(cmd.kv.get("heartbeat")) ?? 1),
      disableProposalForwarding: str(cmd.kv.get("forwarding")) === "false",
      maxUncommittedBytes: Number(str(cmd.kv.get("max-uncommitted")) ?? 64 * 1024 * 1024),
    };
    for (let i = 0; i < count; i++) {
      const id = BigInt(this.nodes.size + 1);
      const storage = new MemoryStorage();
      if (voters.length > 0) {
        storage.applySnapshot({
          data: new Uint8Array(0),
          metadata: { index, term: 1, confState: { voters, learners } },
        });
        storage.setHardState({ term: 1, vote: 0n, commit: index });
      }
      const node: EnvNode = {
        id,
        storage,
        raw: undefined,
        config,
        applied: index,
        confState: { voters, learners },
      };
      this.nodes.set(id, node);
      this.start(node);
    }
  }

  /** (Re)starts a node from its durable storage. */
  start(node: EnvNode): void {
    const snap = node.storage.snapshot();
    node.applied = snap.metadata.index;
    node.confState = snap.metadata.confState;
    node.raw = new RawNode({
      id: node.id,
      storage: node.storage,
      rng: ZERO_RNG,
      applied: node.applied,
      logger: this.logger(),
      ...node.config,
    });
  }

  /** Carries out one Ready of `id`, printing it. */
  processReady(id: NodeId): void {
    const node = this.node(id);
    const raw = this.raw(id);
    if (!raw.hasReady()) return;
    const rd = raw.ready();
    this.print(`> ${id} handling Ready`);
    for (const line of describeReady(rd)) this.print(`  ${line}`);
    this.persist(node, rd);
    // Messages across a partition or to a crashed node are lost on the way out (older ones are
    // dropped on delivery).
    for (const m of rd.messages) {
      if (!this.partitioned(m.from, m.to) && this.nodes.get(m.to)?.raw !== undefined)
        this.messages.push(m.type === "MsgSnap" ? this.freshSnapshot(node, m) : m);
    }
    for (const e of rd.committedEntries) {
      node.applied = e.index;
      if (e.type !== "confChange") continue;
      const cs = raw.applyConfChange(decodeConfChange(e.data));
      node.confState = cs;
      this.print(
        `  applied conf change: voters=(${cs.voters.join(" ")}) learners=(${cs.learners.join(" ")})`,
      );
    }
    raw.advance(rd);
  }

  /**
   * Like etcd's transport, send the sender's current applied state rather than its stored snapshot,
   * so the recipient gets a membership that includes it.
   */
  private freshSnapshot(node: EnvNode, m: Message): Message {
    const index = node.applied;
    const snapshot: Snapshot = {
      data: encoder.encode(`snap@${index}`),
      metadata: { index, term: node.storage.term(index), confState: node.confState },
    };
    return { ...m, snapshot };
  }

  private persist(node: EnvNode, rd: Ready): void {
    if (rd.snapshot !== undefined) {
      node.storage.applySnapshot(rd.snapshot);
      node.applied = rd.snapshot.metadata.index;
      node.confState = rd.snapshot.metadata.confState;
    }
    node.storage.append(rd.entries);
    if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
  }

  /** Delivers (or with `drop`, discards) every pending message addressed to `to`. */
  deliver(to: NodeId, drop: boolean): number {
    const mine = this.messages.filter((m) => m.to === to);
    if (mine.length === 0) return 0;
    this.messages = this.messages.filter((m) => m.to !== to);
    this.print(drop ? `> ${to} dropping messages` : `> ${to} receiving messages`);
    for (const m of mine) {
      const node = this.node(to);
      if (drop || node.raw === undefined || this.partitioned(m.from, m.to)) {
        const why = drop ? "dropped" : node.raw === undefined ? "dropped (down)" : "dropped (partitioned)";
        this.print(`  ${describeMessage(m)} [${why}]`);
        if (m.type === "MsgSnap") this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, false);
        continue;
      }
      this.print(`  ${describeMessage(m)}`);
      const refused = node.raw.step(m);
      if (refused !== undefined) this.print(`  refused: ${refused}`);
      if (m.type === "MsgSnap") this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, true);
    }
    return mine.length;
  }

  partitioned(a: NodeId, b: NodeId): boolean {
    return this.groups.size > 0 && (this.groups.get(a) ?? -1) !== (this.groups.get(b) ?? -1);
  }

  setPartition(groups: readonly (readonly NodeId[])[]): void {
    this.groups = new Map();
    groups.forEach((g, i) => {
      for (const id of g) this.groups.set(id, i);
    });
  }

  /** Processes Readys and delivers messages until nothing moves. */
  stabilize(only: readonly NodeId[]): void {
    const targets = only.length > 0 ? only : [...this.nodes.keys()];
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const id of targets) {
        if (this.node(id).raw?.hasReady()) {
          this.processReady(id);
          moved = true;
        }
      }
      for (const id of targets) if (this.deliver(id, false) > 0) moved = true;
      if (!moved) return;
    }
    throw new Error("stabilize did not converge");
  }

  setLevel(level: string): void {
    if (!(level in LEVELS)) throw new Error(`unknown level ${level}`);
    this.level = level as Level;
  }

  /** Creates a snapshot of `id` at its applied index and compacts its log up to `index`. */
  compact(id: NodeId, index: number): void {
    const node = this.node(id);
    node.storage.createSnapshot(node.applied, node.confState, encoder.encode(`snap@${node.applied}`));
    node.storage.compact(index);
  }

  logOf(id: NodeId): string[] {
    const storage = this.node(id).storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last < first) return [`log is empty: first index=${first}, last index=${last}`];
    return storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER).map(describeEntry);
  }
}

function str(v: string | readonly string[] | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function ids(v: string | readonly string[] | undefined): NodeId[] {
  if (v === undefined) return [];
  return (typeof v === "string" ? [v] : v).map((s) => BigInt(s));
}

function arg(cmd: Command, i: number): string {
  const a = cmd.args[i];
  if (a === undefined) throw new Error(`missing argument ${i + 1}: ${cmd.line}`);
  return a;
}

function idArg(cmd: Command, i: number): NodeId {
  return BigInt(arg(cmd, i));
}

function kvId(cmd: Command, key: string): NodeId {
  const v = str(cmd.kv.get(key));
  if (v === undefined) throw new Error(`missing ${key}=: ${cmd.line}`);
  return BigInt(v);
}

const CONF_CHANGE_TYPES: Record<string, ConfChange["type"]> = {
  "add-node": "addNode",
  "add-learner": "addLearner",
  "remove-node": "removeNode",
};

const encoder = new TextEncoder();

/** Script commands. */
const COMMANDS: Record<string, (env: InteractionEnv, cmd: Command) => void> = {
  "add-nodes": (env, cmd) => env.addNodes(Number(arg(cmd, 0)), cmd),
  campaign: (env, cmd) => env.raw(idArg(cmd, 0)).campaign(),
  propose: (env, cmd) => {
    const refused = env.raw(idArg(cmd, 0)).propose(encoder.encode(arg(cmd, 1)));
    if (refused !== undefined) env.print(`refused: ${refused}`);
  },
  "propose-conf-change": (env, cmd) => {
    const type = CONF_CHANGE_TYPES[arg(cmd, 1)];
    if (type === undefined) throw new Error(`unknown conf change ${arg(cmd, 1)}`);
    const refused = env.raw(idArg(cmd, 0)).proposeConfChange({ type, nodeId: idArg(cmd, 2) });
    if (refused !== undefined) env.print(`refused: ${refused}`);
  },
  "read-index": (env, cmd) => env.raw(idArg(cmd, 0)).readIndex(encoder.encode(arg(cmd, 1))),
  "transfer-leadership": (env, cmd) => env.raw(kvId(cmd, "from")).transferLeader(kvId(cmd, "to")),
  tick: (env, cmd) => {
    const raw = env.raw(idArg(cmd, 0));
    for (let i = 0; i < Number(arg(cmd, 1)); i++) raw.tick();
  },
  "tick-election": (env, cmd) => {
    const node = env.node(idArg(cmd, 0));
    for (let i = 0; i < node.config.electionTicks; i++) env.raw(node.id).tick();
  },
  "tick-heartbeat": (env, cmd) => {
    const node = env.node(idArg(cmd, 0));
    for (let i = 0; i < node.config.heartbeatTicks; i++) env.raw(node.id).tick();
  },
  "process-ready": (env, cmd) => {
    for (const a of cmd.args) env.processReady(BigInt(a));
  },
  "deliver-msgs": (env, cmd) => {
    for (const id of ids(cmd.kv.get("drop"))) env.deliver(id, true);
    for (const a of cmd.args) env.deliver(BigInt(a), false);
  },
  stabilize: (env, cmd) => env.stabilize(cmd.args.map((a) => BigInt(a))),
  partition: (env, cmd) => env.setPartition(cmd.args.map((g) => ids(g.slice(1, -1).split(",")))),
  heal: (env) => env.setPartition([]),
  crash: (env, cmd) => {
    // Everything not persisted is gone, including messages still on their way to the node.
    const id = idArg(cmd, 0);
    env.node(id).raw = undefined;
    env.messages = env.messages.filter((m) => m.to !== id);
  },
  restart: (env, cmd) => env.start(env.node(idArg(cmd, 0))),
  compact: (env, cmd) => env.compact(idArg(cmd, 0), Number(arg(cmd, 1))),
  "report-unreachable": (env, cmd) => env.raw(idArg(cmd, 0)).reportUnreachable(idArg(cmd, 1)),
  "log-level": (env, cmd) => env.setLevel(arg(cmd, 0)),
  "raft-log": (env, cmd) => {
    for (const line of env.logOf(idArg(cmd, 0))) env.print(line);
  },
  "raft-state": (env) => {
    for (const node of env.nodes.values()) env.print(describeState(node));
  },
  status: (env, cmd) => {
    const raft = env.raw(idArg(cmd, 0)).raft;
    if (raft.role !== "leader") env.print(`${raft.id} is not the leader`);
    else for (const [id, pr] of raft.prs.progress) env.print(`${id}: ${pr}`);
  },
};

function describeState(node: EnvNode): string {
  if (node.raw === undefined) return `${node.id}: down`;
  const st = node.raw.status();
  const cs = st.confState;
  const kind = cs.voters.includes(node.id)
    ? "Voter"
    : cs.learners.includes(node.id)
      ? "Learner"
      : "NonMember";
  const role = {
    follower: "StateFollower",
    preCandidate: "StatePreCandidate",
    candidate: "StateCandidate",
    leader: "StateLeader",
  }[st.softState.role];
  return `${node.id}: ${role} (${kind}) Term:${st.hardState.term} Lead:${st.softState.lead} Commit:${st.hardState.commit}`;
}
