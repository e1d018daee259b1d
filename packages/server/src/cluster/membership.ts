import type { etcdserverpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import type { Backend } from "../mvcc/index.js";

/** One member of the cluster, as MemberList shows it. */
export interface Member {
  /** etcd's member id (cluster/member-id.ts), never 0. */
  readonly id: bigint;
  /** Empty until the member has started and published its name (etcd: "unstarted"). */
  readonly name: string;
  /** URLs the other members reach it on (sorted when added, as given by a MemberUpdate). */
  readonly peerUrls: readonly string[];
  /** URLs it serves clients on; empty until it published them. */
  readonly clientUrls: readonly string[];
  /** A non-voting member that receives the log (etcd 3.4 learner). */
  readonly isLearner: boolean;
}

/** A Raft configuration change as the member table applies it (etcd's ConfChange + its context). */
export type MemberChange =
  | { type: "add"; member: Member }
  | { type: "remove"; id: bigint }
  | { type: "promote"; id: bigint }
  | { type: "update"; id: bigint; peerUrls: readonly string[] };

/** etcd's maxLearners: at most one learner at a time. */
export const MAX_LEARNERS = 1;

/** How a member record is stored (etcd stores its Member as JSON too); the id as hex, since JSON has no uint64. */
interface StoredMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** What etcd writes as the value of a removed id. */
const REMOVED_VALUE = Buffer.from("removed");

/**
 * The cluster's member table (etcd's RaftCluster members and removed ids), part of the
 * replicated state: every change comes from apply (a conf change entry, an attribute update, or
 * the bootstrap of a new cluster) and is written to the backend's `members` / `members_removed`
 * tables in the same transaction as the applied index that covers it.
 */
export class MemberTable {
  private readonly members = new Map<bigint, Member>();
  private readonly removed = new Set<bigint>();

  /** Loads the members and removed ids from the backend. */
  static load(backend: Backend): MemberTable {
    const table = new MemberTable();
    for (const { value } of backend.records("members")) {
      const member = decodeMember(value);
      table.members.set(member.id, member);
    }
    for (const { key } of backend.records("members_removed")) table.removed.add(key.readBigUInt64BE(0));
    return table;
  }

  /** Every member, by ascending id (etcd's MemberList order). */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** A member, or undefined. */
  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  /** Whether `id` was removed from the cluster (a removed member may never come back). */
  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** How many members there are. */
  get size(): number {
    return this.members.size;
  }

  /**
   * Writes the initial members of a new cluster. Every member of the cluster does so
   * identically on its first start, outside the log; the table must be empty.
   */
  bootstrap(backend: Backend, members: readonly Member[]): void {
    if (this.members.size > 0 || this.removed.size > 0)
      throw new Error("membership: bootstrap of a table that is not empty");
    for (const member of members) {
      if (member.id === 0n) throw new Error("membership: member id 0 is not allowed");
      if (this.members.has(member.id))
        throw new Error(`membership: duplicate member id ${member.id.toString(16)}`);
      this.save(backend, member);
    }
  }

  /**
   * etcd's ValidateConfigurationChange: the error the change would meet, or undefined. A removed
   * id and an unknown one are both `member not found`, as etcd's gRPC layer maps them.
   */
  validate(change: MemberChange): EtcdServerError | undefined {
    const id = change.type === "add" ? change.member.id : change.id;
    if (this.removed.has(id)) return new EtcdServerError("memberNotFound");
    const existing = this.members.get(id);
    switch (change.type) {
      case "add": {
        if (existing !== undefined) return new EtcdServerError("memberExist");
        if (this.peerUrlTaken(change.member.peerUrls, undefined)) return new EtcdServerError("peerURLExist");
        const learners = [...this.members.values()].filter((m) => m.isLearner).length;
        if (change.member.isLearner && learners + 1 > MAX_LEARNERS)
          return new EtcdServerError("tooManyLearners");
        return undefined;
      }
      case "remove":
        return existing === undefined ? new EtcdServerError("memberNotFound") : undefined;
      case "promote":
        if (existing === undefined) return new EtcdServerError("memberNotFound");
        return existing.isLearner ? undefined : new EtcdServerError("memberNotLearner");
      case "update":
        if (existing === undefined) return new EtcdServerError("memberNotFound");
        return this.peerUrlTaken(change.peerUrls, id) ? new EtcdServerError("peerURLExist") : undefined;
    }
  }

  /** Validates then applies a conf change, writing it to the backend; throws the etcd error it meets. */
  apply(backend: Backend, change: MemberChange): void {
    const error = this.validate(change);
    if (error !== undefined) throw error;
    switch (change.type) {
      case "add":
        this.save(backend, { ...change.member, peerUrls: [...change.member.peerUrls].sort() });
        return;
      case "remove": {
        this.members.delete(change.id);
        this.removed.add(change.id);
        backend.removeRecord("members", idKey(change.id));
        backend.putRecord("members_removed", idKey(change.id), REMOVED_VALUE);
        return;
      }
      case "promote":
        this.save(backend, { ...this.mustGet(change.id), isLearner: false });
        return;
      case "update":
        // etcd keeps an update's URLs in the order given (an added member's are sorted).
        this.save(backend, { ...this.mustGet(change.id), peerUrls: [...change.peerUrls] });
        return;
    }
  }

  /**
   * etcd's UpdateAttributes: a started member publishes its name and client URLs. An unknown or
   * removed member is ignored, as etcd ignores a publish that raced with the member's removal.
   * Returns whether the table changed.
   */
  setAttributes(backend: Backend, id: bigint, name: string, clientUrls: readonly string[]): boolean {
    const member = this.members.get(id);
    if (member === undefined) return false;
    if (member.name === name && sameUrls(member.clientUrls, clientUrls)) return false;
    this.save(backend, { ...member, name, clientUrls: [...clientUrls] });
    return true;
  }

  private mustGet(id: bigint): Member {
    const member = this.members.get(id);
    if (member === undefined)
      throw new Error(`membership: member ${id.toString(16)} vanished after validation`);
    return member;
  }

  private peerUrlTaken(urls: readonly string[], except: bigint | undefined): boolean {
    for (const member of this.members.values()) {
      if (member.id === except) continue;
      if (member.peerUrls.some((url) => urls.includes(url))) return true;
    }
    return false;
  }

  private save(backend: Backend, member: Member): void {
    this.members.set(member.id, member);
    backend.putRecord("members", idKey(member.id), encodeMember(member));
  }
}

/** A member as etcd's Member message carries it. */
export function toPbMember(member: Member): etcdserverpb.Member {
  return {
    ID: member.id,
    name: member.name,
    peerURLs: [...member.peerUrls],
    clientURLs: [...member.clientUrls],
    isLearner: member.isLearner,
  };
}

/** Whether two URL lists are the same, in order. */
export function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((url, i) => url === b[i]);
}

function idKey(id: bigint): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(id);
  return key;
}

function encodeMember(member: Member): Buffer {
  const stored: StoredMember = {
    id: member.id.toString(16),
    name: member.name,
    peerURLs: [...member.peerUrls],
    clientURLs: [...member.clientUrls],
    isLearner: member.isLearner,
  };
  return Buffer.from(JSON.stringify(stored));
}

function decodeMember(value: Buffer): Member {
  const stored = JSON.parse(value.toString("utf8")) as StoredMember;
  return {
    id: BigInt(`0x${stored.id}`),
    name: stored.name,
    peerUrls: stored.peerURLs,
    clientUrls: stored.clientURLs,
    isLearner: stored.isLearner,
  };
}
