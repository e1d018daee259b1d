import type { Message } from "@keyway/raft";
import type { StateMachine } from "../apply/index.js";
import type { MemberIdentity } from "../member/identity.js";
import type { PeerLogger } from "../peer/options.js";
import { PeerTransport } from "../peer/transport.js";
import type { MessageSink, Proposer } from "../proposal/proposer.js";
import type { Member } from "./membership.js";

/** How long a forwarded request (a lease keep-alive to the leader) may take. */
const PEER_REQUEST_TIMEOUT_MS = 3_000;

/** What connects a member's Raft node to the other members. */
export interface PeerLinkOptions {
  identity: MemberIdentity;
  listenPeerUrls: readonly string[];
  stateMachine: StateMachine;
  proposer: Proposer;
  /** Serves the other members' requests (forwarded lease keep-alives and TimeToLive). */
  serve(kind: string, payload: Uint8Array): Promise<Uint8Array>;
  logger: PeerLogger;
}

/**
 * The member's side of the peer network: Raft messages from the node go to the transport and
 * received ones to the node; the transport's peers follow the member table; messages from a
 * removed member are dropped, as etcd does.
 */
export class PeerLink implements MessageSink {
  /** Members a snapshot is being exported for. */
  private readonly snapshotting = new Set<bigint>();

  private constructor(
    private readonly transport: PeerTransport,
    private readonly options: PeerLinkOptions,
    private readonly self: bigint,
    /** The peers the transport knows. */
    private known: Set<bigint>,
  ) {}

  /** Listens on the peer URLs and connects to every other member in the table. */
  static async start(options: PeerLinkOptions): Promise<PeerLink> {
    const { identity, stateMachine, proposer } = options;
    const self = identity.memberId;
    const peers = peerMap(stateMachine.members(), self);
    const transport = await PeerTransport.start({
      self,
      clusterId: identity.clusterId,
      listenUrls: options.listenPeerUrls,
      peers,
      onMessage: (message: Message) => {
        if (!stateMachine.isRemoved(message.from)) proposer.receive(message);
      },
      onUnreachable: (id) => proposer.reportUnreachable(id),
      onSnapshotStatus: (id, delivered) => proposer.reportSnapshot(id, delivered),
      onRequest: (_from, kind, payload) => options.serve(kind, payload),
      // A member joining this cluster learns the ids and the member table from any member.
      onMembersQuery: () => ({ clusterId: identity.clusterId, members: stateMachine.members() }),
      logger: options.logger,
    });
    const link = new PeerLink(transport, options, self, new Set(peers.keys()));
    stateMachine.onMembersChanged((members) => link.follow(members));
    return link;
  }

  /** The addresses the peer listeners are bound to. */
  get boundAddresses(): readonly string[] {
    return this.transport.boundAddresses;
  }

  send(messages: readonly Message[]): void {
    const snapshots = messages.filter((message) => message.type === "MsgSnap");
    if (snapshots.length === 0) {
      this.transport.send(messages);
      return;
    }
    this.transport.send(messages.filter((message) => message.type !== "MsgSnap"));
    for (const message of snapshots) void this.sendSnapshot(message);
  }

  /**
   * Sends a snapshot with the state machine's current data, as etcd sends its whole backend:
   * Raft's snapshot names only a log point, the data is taken now (it is at least that recent).
   * One at a time per member; a failure goes back to Raft, which tries again later.
   */
  private async sendSnapshot(message: Message): Promise<void> {
    const snapshot = message.snapshot;
    if (snapshot === undefined || this.snapshotting.has(message.to)) return;
    this.snapshotting.add(message.to);
    try {
      const { data } = await this.options.stateMachine.exportSnapshot();
      this.transport.send([{ ...message, snapshot: { ...snapshot, data } }]);
    } catch (error) {
      this.options.logger.warn({ err: error, to: message.to.toString(16) }, "snapshot export failed");
      this.options.proposer.reportSnapshot(message.to, false);
    } finally {
      this.snapshotting.delete(message.to);
    }
  }

  /** Asks `to` (the leader) to serve a request. */
  request(to: bigint, kind: string, payload: Uint8Array): Promise<Uint8Array> {
    return this.transport.request(to, kind, payload, { timeoutMs: PEER_REQUEST_TIMEOUT_MS });
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** Adds, re-addresses and drops peers as the member table changes. */
  private follow(members: readonly Member[]): void {
    const wanted = peerMap(members, this.self);
    for (const [id, urls] of wanted) this.transport.updatePeer(id, urls);
    for (const id of this.known) if (!wanted.has(id)) this.transport.removePeer(id);
    this.known = new Set(wanted.keys());
  }
}

function peerMap(members: readonly Member[], self: bigint): Map<bigint, readonly string[]> {
  return new Map(
    members.filter((member) => member.id !== self).map((member) => [member.id, member.peerUrls]),
  );
}
