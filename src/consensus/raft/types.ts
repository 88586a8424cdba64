/**
 * Raft data types: log entries, the durable hard state, cluster configuration (voters, learners
 * and the outgoing voters of a joint configuration), snapshots, and the messages servers
 * exchange, as one discriminated union. Raft paper (Ongaro & Ousterhout 2014) Figure 2 and
 * §5-§7; Ongaro's thesis §4 (membership), §6.4 (reads), §3.10 (leadership transfer), §9.6
 * (PreVote). Seed section 04.6.4.
 *
 * Leaves out: any wire encoding (hosts encode messages as they like; the simulator passes
 * objects, the runtime uses its own codec).
 */
import type { NodeId } from '../../core/ids.ts';

/** The "no node" id, used for "no leader known" and "voted for nobody". */
export const NONE: NodeId = '';

/** One membership change inside a conf-change entry. */
export type ConfChangeItem =
  | { type: 'add-voter'; node: NodeId }
  | { type: 'add-learner'; node: NodeId }
  | { type: 'remove'; node: NodeId };

/**
 * A membership change. A change that touches the voter set always goes through a joint
 * configuration (thesis §4.3): the entry moves the cluster into C(old,new), and the leader
 * proposes the empty change (`changes: []`, "leave joint") once that entry is applied.
 * Learner-only changes apply directly.
 */
export interface ConfChange {
  changes: ConfChangeItem[];
}

export type Entry =
  | { type: 'normal'; term: number; index: number; data: Uint8Array }
  | { type: 'conf-change'; term: number; index: number; change: ConfChange };

/** State that must be on stable storage before a server answers an RPC (Figure 2). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** The membership a server uses. `votersOutgoing` is non-empty only in a joint configuration. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  votersOutgoing: NodeId[];
  /** Voters demoted to learners when the joint configuration is left. */
  learnersNext: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state the host may want to observe (leadership changes). */
export interface SoftState {
  leader: NodeId;
  role: Role;
}

/** A linearizable read that can be served once the state machine has applied `index`. */
export interface ReadState {
  index: number;
  context: string;
}

interface Base {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** Leader -> follower: AppendEntries (Figure 2). `index`/`logTerm` identify the preceding entry. */
export interface AppendMessage extends Base {
  type: 'append';
  index: number;
  logTerm: number;
  entries: Entry[];
  commit: number;
}

/**
 * Follower -> leader. On success `index` is the follower's last matching index. On rejection,
 * `index` echoes the rejected probe and (`hintIndex`, `hintTerm`) is the follower's best guess of
 * the last entry that may match: the largest index <= the probe whose term is <= the probe's
 * term, letting the leader skip a whole term per round trip (§5.3, "fast backtracking").
 */
export interface AppendResponseMessage extends Base {
  type: 'append-response';
  index: number;
  reject: boolean;
  hintIndex: number;
  hintTerm: number;
}

export interface VoteMessage extends Base {
  type: 'vote' | 'pre-vote';
  lastIndex: number;
  lastTerm: number;
  /** Set when the campaign was started by a leadership transfer: bypasses the leader lease. */
  transfer: boolean;
}

export interface VoteResponseMessage extends Base {
  type: 'vote-response' | 'pre-vote-response';
  reject: boolean;
}

export interface HeartbeatMessage extends Base {
  type: 'heartbeat';
  commit: number;
  /** ReadIndex round this heartbeat confirms leadership for ('' for none). */
  context: string;
  /** The leader's tick count when sent, echoed back; used for leader leases. */
  sentTick: number;
}

export interface HeartbeatResponseMessage extends Base {
  type: 'heartbeat-response';
  context: string;
  sentTick: number;
}

/** One chunk of InstallSnapshot (§7). Chunks are sent in order; `offset` is in bytes. */
export interface SnapshotChunkMessage extends Base {
  type: 'snapshot';
  metadata: SnapshotMetadata;
  offset: number;
  totalBytes: number;
  data: Uint8Array;
}

/** Follower -> leader: bytes of the snapshot received in order so far. */
export interface SnapshotAckMessage extends Base {
  type: 'snapshot-ack';
  snapshotIndex: number;
  offset: number;
}

/** Leader -> transfer target: start an election now (thesis §3.10). */
export interface TimeoutNowMessage extends Base {
  type: 'timeout-now';
}

/** Follower -> leader: forwarded proposals. */
export interface ProposeMessage extends Base {
  type: 'propose';
  entries: Entry[];
}

/** Follower -> leader: forwarded ReadIndex request. */
export interface ReadIndexMessage extends Base {
  type: 'read-index';
  context: string;
}

export interface ReadIndexResponseMessage extends Base {
  type: 'read-index-response';
  context: string;
  /** The read index; 0 when the leader could not serve the read (the host should retry). */
  index: number;
}

/** Follower -> leader: forwarded leadership transfer request. */
export interface TransferLeaderMessage extends Base {
  type: 'transfer-leader';
  target: NodeId;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotChunkMessage
  | SnapshotAckMessage
  | TimeoutNowMessage
  | ProposeMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | TransferLeaderMessage;

export type MessageType = Message['type'];

/** Approximate size of an entry in bytes (payload plus a fixed header), for the byte limits. */
export function entrySizeBytes(e: Entry): number {
  if (e.type === 'normal') return e.data.byteLength + 16;
  let n = 16;
  for (const c of e.change.changes) n += c.node.length + 2;
  return n;
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [] };
}

export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
  };
}
