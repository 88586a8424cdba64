/**
 * The Raft consensus core (Ongaro & Ousterhout 2014; Ongaro's thesis), sans-IO: inputs are
 * `tick()`, `step(message)`, `propose`, `proposeConfChange`, `readIndex`, `transferLeadership`
 * and `campaign`; outputs are drained with `ready()` and acknowledged with `advance()`.
 * Randomized election timeouts come from the injected `Rng`; nothing here reads a clock, opens a
 * socket or touches a disk.
 *
 * Features: elections with PreVote (thesis §9.6) and CheckQuorum (§6.2), log replication with
 * fast backtracking and per-follower flow control, the current-term commit rule (§5.4.2),
 * proposal batching, ReadIndex and lease reads (§6.4), leadership transfer (§3.10), joint
 * consensus with learners (§4.3), snapshots sent in chunks (§7), proposal forwarding.
 *
 * Ready contract (drain order; see docs/raft.md):
 *  1. If `snapshot` is set, persist it and restore the state machine from it.
 *  2. Append `entries` to stable storage (replacing any suffix from the first entry's index)
 *     and persist `hardState`; fsync when `mustSync`.
 *     Messages with `afterSync: false` may be sent before or during this step: a leader's
 *     appends, heartbeats, snapshot chunks, TimeoutNow and read-index answers (thesis §10.2.1),
 *     and (pre-)vote requests (thesis §3.8).
 *  3. Send the messages with `afterSync: true`. The core counts its own durable state only at
 *     `advance()`: a leader's own entries toward commitment, a candidate's own vote (so a
 *     candidate becomes leader inside `advance()` at the earliest).
 *  4. Apply `committedEntries` in order.
 *  5. Serve each `readStates` item once the state machine has applied its index.
 *  6. Call `advance(ready)`. Do not call `ready()` again before.
 *
 * Conf-change entries take effect (in this core) when the host advances past them; after a
 * restart the host replays committed entries from the snapshot, which replays configuration too.
 *
 * Leaves out: storage writes and message transport (the host's), log entry encoding.
 */
import { assert, unreachable } from '../../core/assert.ts';
import { DefiniteError, InvalidArgumentError } from '../../core/errors.ts';
import type { NodeId } from '../../core/ids.ts';
import type { Rng } from '../../core/rng.ts';
import { type RaftConfig, resolveRaftConfig } from './config.ts';
import { RaftLog } from './log.ts';
import { Progress } from './progress.ts';
import { hasJointQuorum, jointCommitted, jointVoteResult, majoritySize } from './quorum.ts';
import type { RaftStorage } from './storage.ts';
import {
  type AppendMessage,
  type AppendResponseMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  entrySizeBytes,
  type HardState,
  type HeartbeatMessage,
  type HeartbeatResponseMessage,
  type Message,
  NONE,
  type ReadState,
  type Role,
  type Snapshot,
  type SnapshotAckMessage,
  type SnapshotChunkMessage,
  type SoftState,
  type VoteMessage,
} from './types.ts';

/**
 * Fatal: this server's durable log lost entries it had acknowledged or committed (a disk that
 * acknowledged an fsync it did not do, a truncated or replaced file). Raft's safety rests on
 * acknowledged entries surviving a crash (§5.6, thesis §3.8), so the server must not go on: the
 * host stops it and an operator restores its data directory (or removes the member and adds it
 * back empty). Thrown by `step()` when a leader's heartbeat says an index beyond the log's end is
 * committed here, and by the constructor when the stored commit index is beyond the stored log;
 * once thrown, every later `step()` and `tick()` throws it again.
 */
export class RaftLogLostError extends DefiniteError {
  override name = 'RaftLogLostError';
  readonly node: NodeId;
  /** The committed index this server is told (or had recorded) it holds. */
  readonly commit: number;
  /** The last index actually in its log. */
  readonly lastIndex: number;
  /** The leader whose heartbeat revealed it (NONE when found at start). */
  readonly leader: NodeId;
  constructor(node: NodeId, commit: number, lastIndex: number, leader: NodeId, term: number) {
    const source =
      leader === NONE
        ? `its stored commit index is ${commit}`
        : `leader ${leader} (term ${term}) has index ${commit} committed with this server's acknowledgement`;
    super(
      'corruption',
      `raft log of ${node} lost entries: ${source}, but the log ends at index ${lastIndex}. ` +
        'Was the log corrupted, truncated, or lost (a disk that did not keep an fsynced write)?',
    );
    this.node = node;
    this.commit = commit;
    this.lastIndex = lastIndex;
    this.leader = leader;
  }
}

export interface RaftOptions {
  id: NodeId;
  storage: RaftStorage;
  rng: Rng;
  config?: Partial<RaftConfig>;
}

export interface OutboundMessage {
  message: Message;
  /** True: send only after this Ready's entries and hard state are durable. */
  afterSync: boolean;
}

export interface Ready {
  /** Set when leader or role changed since the last Ready. */
  softState: SoftState | undefined;
  /** Set when term, vote or commit changed. */
  hardState: HardState | undefined;
  /** Entries to append to stable storage. */
  entries: Entry[];
  /** A snapshot received from the leader, to persist and apply. */
  snapshot: Snapshot | undefined;
  /** Entries to apply to the state machine, in order. */
  committedEntries: Entry[];
  messages: OutboundMessage[];
  readStates: ReadState[];
  /** Entries, a snapshot, or a term/vote change must be fsynced before afterSync messages go out. */
  mustSync: boolean;
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: Progress['state'];
  isLearner: boolean;
}

export interface RaftStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  leader: NodeId;
  role: Role;
  commit: number;
  applied: number;
  lastIndex: number;
  confState: ConfState;
  progress: Record<NodeId, ProgressStatus>;
  leadTransferee: NodeId;
}

interface PendingRead {
  context: string;
  from: NodeId;
  index: number;
  acks: Set<NodeId>;
}

interface IncomingSnapshot {
  index: number;
  term: number;
  totalBytes: number;
  parts: Uint8Array[];
  received: number;
}

/**
 * Requests a (pre-)candidate may send before its own fsync (thesis §3.8, as in etcd-raft's
 * asynchronous storage writes): asking for a vote promises nothing. The candidate's own vote is
 * counted only in `advance()` of the Ready that made its term and vote durable, so it never
 * becomes leader on a vote it could forget in a crash.
 */
const CANDIDATE_EARLY: ReadonlySet<Message['type']> = new Set(['vote', 'pre-vote']);

/** Message types a leader may send before its own fsync (thesis §10.2.1). */
const LEADER_EARLY: ReadonlySet<Message['type']> = new Set([
  'append',
  'heartbeat',
  'snapshot',
  'timeout-now',
  'read-index-response',
]);

export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  private readonly rng: Rng;

  term = 0;
  vote: NodeId = NONE;
  leader: NodeId = NONE;
  role: Role = 'follower';

  private voters: NodeId[] = [];
  private votersOutgoing: NodeId[] = [];
  private learners: NodeId[] = [];
  private learnersNext: NodeId[] = [];
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Ticks since this core was created (the leader's logical clock for leases). */
  private ticks = 0;

  private leadTransferee: NodeId = NONE;
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;
  private needBroadcast = false;

  private msgs: OutboundMessage[] = [];
  private readStates: ReadState[] = [];
  private pendingReads: PendingRead[] = [];
  private readsAwaitingCommit: { context: string; from: NodeId }[] = [];
  private incoming: IncomingSnapshot | undefined;

  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstandingReady = false;
  /** Set once the log is found to have lost acknowledged entries; the core then refuses inputs. */
  private lostLog: RaftLogLostError | undefined;

  constructor(options: RaftOptions) {
    this.id = options.id;
    this.config = resolveRaftConfig(options.config);
    this.rng = options.rng;
    this.log = new RaftLog(options.storage);
    const { hardState, confState } = options.storage.initialState();
    this.setConf(confState);
    if (hardState.term > 0 || hardState.commit > 0) {
      if (hardState.commit > this.log.lastIndex()) throw new RaftLogLostError(this.id, hardState.commit, this.log.lastIndex(), NONE, hardState.term);
      // A snapshot covers only committed entries, so it may be ahead of a lazily persisted commit.
      this.log.committed = Math.max(this.log.committed, hardState.commit);
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    this.becomeFollower(this.term, NONE);
    this.vote = hardState.vote;
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  // ---------------------------------------------------------------- public inputs

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.lostLog) throw this.lostLog;
    this.ticks++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Starts an election now (as if the election timeout had fired). */
  campaign(): void {
    this.hup(false);
  }

  /** Proposes an application entry. Throws a DefiniteError when it cannot be accepted. */
  propose(data: Uint8Array): void {
    this.proposeEntries([{ type: 'normal', term: 0, index: 0, data }]);
  }

  /** Proposes several entries at once (one append for all of them). */
  proposeBatch(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    this.proposeEntries(datas.map((data) => ({ type: 'normal', term: 0, index: 0, data })));
  }

  /**
   * Proposes a membership change. Voter changes go through a joint configuration, left
   * automatically once it is applied. One change may be pending at a time.
   */
  proposeConfChange(change: ConfChange): void {
    for (const c of change.changes) {
      if (typeof c.node !== 'string' || c.node === NONE) throw new InvalidArgumentError('conf change names an empty node id');
    }
    this.proposeEntries([{ type: 'conf-change', term: 0, index: 0, change }]);
  }

  /**
   * Requests a linearizable read. When confirmed, a ReadState with this context and a read
   * index appears in a Ready; the host serves the read once it has applied that index.
   * Contexts must be unique among pending reads.
   */
  readIndex(context: string): void {
    if (context === '') throw new InvalidArgumentError('readIndex context must be a non-empty string');
    if (this.role === 'leader') {
      this.handleReadIndex(context, this.id, true);
      return;
    }
    if (this.leader === NONE) throw new DefiniteError('no-leader', 'no leader is known: retry the read later');
    this.send({ type: 'read-index', from: this.id, to: this.leader, term: this.term, context });
  }

  /** Hands leadership to `target` (thesis §3.10); forwarded to the leader from a follower. */
  transferLeadership(target: NodeId): void {
    if (this.role === 'leader') {
      this.handleTransfer(target, true);
      return;
    }
    if (this.leader === NONE) throw new DefiniteError('no-leader', 'no leader is known to transfer leadership from');
    this.send({ type: 'transfer-leader', from: this.id, to: this.leader, term: this.term, target });
  }

  /** Feeds a message received from a peer. */
  step(m: Message): void {
    if (this.lostLog) throw this.lostLog;
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        if (!m.transfer && this.inLease()) return; // §6 disruptive servers: a live leader exists
      }
      if (m.type === 'pre-vote') {
        // A pre-vote does not change our term.
      } else if (m.type === 'pre-vote-response' && !m.reject) {
        // Granted pre-votes carry the future term; counted below.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'timeout-now') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // Tell a stale leader about the newer term so it steps down.
        this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'pre-vote') {
        this.send({ type: 'pre-vote-response', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'pre-vote') {
      this.handleVote(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
      default:
        unreachable(this.role, 'role');
    }
  }

  // ---------------------------------------------------------------- Ready / advance

  hasReady(): boolean {
    if (this.outstandingReady) return false;
    const ss = this.softState();
    if (ss.leader !== this.prevSoft.leader || ss.role !== this.prevSoft.role) return true;
    if (!sameHardState(this.hardState(), this.prevHard)) return true;
    return (
      this.log.unstable.length > 0 ||
      this.log.unstableSnapshot !== undefined ||
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.log.hasNextCommittedEntries() ||
      this.needBroadcast
    );
  }

  ready(): Ready {
    assert(!this.outstandingReady, 'ready() called again before advance()');
    if (this.needBroadcast) {
      this.needBroadcast = false;
      if (this.role === 'leader') this.bcastAppend();
    }
    const ss = this.softState();
    const hs = this.hardState();
    const softChanged = ss.leader !== this.prevSoft.leader || ss.role !== this.prevSoft.role;
    const hardChanged = !sameHardState(hs, this.prevHard);
    const entries = this.log.unstable.slice();
    const snapshot = this.log.unstableSnapshot;
    const rd: Ready = {
      softState: softChanged ? ss : undefined,
      hardState: hardChanged ? hs : undefined,
      entries,
      snapshot,
      committedEntries: this.log.nextCommittedEntries(this.config.maxCommittedSizePerReadyBytes),
      messages: this.msgs,
      readStates: this.readStates,
      mustSync: entries.length > 0 || snapshot !== undefined || hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote,
    };
    this.msgs = [];
    this.readStates = [];
    this.outstandingReady = true;
    return rd;
  }

  /** The host has done everything the Ready asked (see the drain order above). */
  advance(rd: Ready): void {
    assert(this.outstandingReady, 'advance() without an outstanding ready()');
    this.outstandingReady = false;
    if (rd.softState) this.prevSoft = rd.softState;
    if (rd.hardState) this.prevHard = rd.hardState;
    if (rd.snapshot) {
      this.log.stableSnapTo(rd.snapshot.metadata.index);
      this.log.applied = Math.max(this.log.applied, rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1] as Entry;
      this.log.stableTo(last.index, last.term);
      if (this.role === 'leader' && this.log.term(last.index) === last.term) {
        const self = this.progress.get(this.id);
        if (self?.maybeUpdate(last.index) && this.maybeCommit()) this.onCommitAdvanced();
      }
    }
    if (rd.committedEntries.length > 0) {
      for (const e of rd.committedEntries) {
        if (e.index <= this.log.applied) continue;
        this.log.applied = e.index;
        if (this.role === 'leader') this.uncommittedBytes = Math.max(0, this.uncommittedBytes - entrySizeBytes(e));
        if (e.type === 'conf-change') this.applyConfChange(e.change);
      }
    }
    if (rd.hardState && this.role === 'candidate' && rd.hardState.term === this.term && rd.hardState.vote === this.id) {
      // Our term and self-vote are durable now: count the vote (thesis §3.8).
      const result = this.poll(this.id, true);
      if (result === 'won') this.becomeLeader();
      else if (result === 'lost') this.becomeFollower(this.term, NONE);
    }
    this.maybeAutoLeaveJoint();
  }

  // ---------------------------------------------------------------- observation

  softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return {
      voters: [...this.voters],
      learners: [...this.learners],
      votersOutgoing: [...this.votersOutgoing],
      learnersNext: [...this.learnersNext],
    };
  }

  status(): RaftStatus {
    const progress: Record<NodeId, ProgressStatus> = {};
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) progress[id] = { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner };
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      role: this.role,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      confState: this.confState(),
      progress,
      leadTransferee: this.leadTransferee,
    };
  }

  /** True when this node may campaign (a voter in the current or outgoing configuration). */
  promotable(): boolean {
    return this.voters.includes(this.id) || this.votersOutgoing.includes(this.id);
  }

  // ---------------------------------------------------------------- roles

  private resetTerm(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.leader = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTimeoutTicks + this.rng.int(this.config.electionTimeoutRandomTicks + 1);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.uncommittedBytes = 0;
    this.pendingConfIndex = 0;
    this.needBroadcast = false;
    const last = this.log.lastIndex();
    const stableLast = Math.min(last, this.log.unstableOffset - 1);
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(last + 1, this.config.maxInflightMsgs, pr.isLearner);
      if (id === this.id) fresh.match = stableLast;
      this.progress.set(id, fresh);
    }
  }

  private becomeFollower(term: number, leader: NodeId): void {
    this.resetTerm(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    this.votes.clear();
    this.role = 'pre-candidate';
    this.leader = NONE;
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.resetTerm(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', `only a candidate can become leader (was ${this.role})`);
    this.resetTerm(this.term);
    this.leader = this.id;
    this.role = 'leader';
    for (const [id, pr] of this.progress) {
      if (id === this.id) pr.becomeReplicate();
      pr.recentActive = id === this.id;
    }
    const self = this.progress.get(this.id);
    if (self) self.next = this.log.lastIndex() + 1;
    this.pendingConfIndex = this.log.lastIndex();
    // A no-op entry of the new term lets the leader commit earlier entries (§5.4.2) and serve reads (§6.4).
    this.appendEntries([{ type: 'normal', term: 0, index: 0, data: new Uint8Array(0) }]);
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChange()) return;
    if (this.config.preVote && !transfer) this.startCampaign('pre', false);
    else this.startCampaign('election', transfer);
  }

  private startCampaign(kind: 'pre' | 'election', transfer: boolean): void {
    let voteTerm: number;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    // A pre-vote changes nothing durable: count our own at once. A real vote is counted only
    // when advance() reports the term and vote persisted (see CANDIDATE_EARLY).
    if (kind === 'pre' && this.poll(this.id, true) === 'won') {
      this.startCampaign('election', transfer);
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.allVoters()) {
      if (id === this.id) continue;
      this.send({ type: kind === 'pre' ? 'pre-vote' : 'vote', from: this.id, to: id, term: voteTerm, lastIndex, lastTerm, transfer });
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return jointVoteResult(this.voters, this.votersOutgoing, this.votes);
  }

  private inLease(): boolean {
    if (!this.config.checkQuorum) return false;
    if (this.leader !== NONE && this.electionElapsed < this.config.electionTimeoutTicks) return true;
    // After a restart we do not remember a lease we may have granted: wait one timeout.
    return this.config.readOnlyOption === 'lease-based' && this.ticks < this.config.electionTimeoutTicks;
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      if (this.leadTransferee !== NONE) this.leadTransferee = NONE; // transfer timed out
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
      for (const [id, pr] of this.progress) {
        const t = pr.transfer;
        if (id === this.id || pr.state !== 'snapshot' || !t) continue;
        if (this.ticks - t.lastProgressTick >= this.config.electionTimeoutTicks) {
          t.sentChunks = t.ackedChunks;
          t.lastProgressTick = this.ticks;
          this.sendSnapshotChunks(id, pr);
        }
      }
    }
  }

  private quorumActive(): boolean {
    const active = new Set<NodeId>();
    for (const [id, pr] of this.progress) {
      if (id === this.id || pr.recentActive) active.add(id);
      if (id !== this.id) pr.recentActive = false;
    }
    return hasJointQuorum(this.voters, this.votersOutgoing, active);
  }

  // ---------------------------------------------------------------- step by role

  private handleVote(m: VoteMessage): void {
    const canVote =
      this.vote === m.from || (this.vote === NONE && this.leader === NONE) || (m.type === 'pre-vote' && m.term > this.term);
    const respType = m.type === 'vote' ? 'vote-response' : 'pre-vote-response';
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'append-response':
        this.handleAppendResponse(m);
        return;
      case 'heartbeat-response':
        this.handleHeartbeatResponse(m);
        return;
      case 'snapshot-ack':
        this.handleSnapshotAck(m);
        return;
      case 'propose':
        try {
          this.proposeEntries(m.entries);
        } catch {
          // Forwarded proposals that cannot be accepted are dropped; the client times out.
        }
        return;
      case 'read-index':
        this.handleReadIndex(m.context, m.from, false);
        return;
      case 'transfer-leader':
        this.handleTransfer(m.target, false);
        return;
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        assert(false, `leader ${this.id} got ${m.type} from ${m.from} in its own term ${this.term}: two leaders in one term`);
        return;
      case 'vote-response':
      case 'pre-vote-response':
      case 'timeout-now':
      case 'read-index-response':
      case 'vote':
      case 'pre-vote':
        return;
      default:
        unreachable(m, 'message');
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        return;
      case 'vote-response':
      case 'pre-vote-response': {
        const expected = this.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
        if (m.type !== expected) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.role === 'pre-candidate') this.startCampaign('election', false);
          // Even with a quorum of other votes, a candidate leads only once its own vote is durable.
          else if (this.votes.has(this.id)) this.becomeLeader();
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      case 'append-response':
      case 'heartbeat-response':
      case 'snapshot-ack':
      case 'propose':
      case 'read-index':
      case 'read-index-response':
      case 'transfer-leader':
      case 'timeout-now':
      case 'vote':
      case 'pre-vote':
        return;
      default:
        unreachable(m, 'message');
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshotChunk(m);
        return;
      case 'timeout-now':
        this.hup(true);
        return;
      case 'propose':
        if (this.leader !== NONE && !this.config.disableProposalForwarding) {
          this.send({ type: 'propose', from: this.id, to: this.leader, term: this.term, entries: m.entries });
        }
        return;
      case 'read-index':
        if (this.leader !== NONE) this.send({ type: 'read-index', from: m.from, to: this.leader, term: this.term, context: m.context });
        return;
      case 'read-index-response':
        if (m.index > 0) this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'transfer-leader':
        if (this.leader !== NONE) this.send({ ...m, from: this.id, to: this.leader, term: this.term });
        return;
      case 'append-response':
      case 'heartbeat-response':
      case 'snapshot-ack':
      case 'vote-response':
      case 'pre-vote-response':
      case 'vote':
      case 'pre-vote':
        return;
      default:
        unreachable(m, 'message');
    }
  }

  // ---------------------------------------------------------------- follower handlers

  private handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      this.sendAppendResponse(m.from, this.log.committed, false, 0, 0);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.entries);
    if (lastNew !== undefined) {
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.sendAppendResponse(m.from, lastNew, false, 0, 0);
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.sendAppendResponse(m.from, m.index, true, hint.index, hint.term);
  }

  private sendAppendResponse(to: NodeId, index: number, reject: boolean, hintIndex: number, hintTerm: number): void {
    this.send({ type: 'append-response', from: this.id, to, term: this.term, index, reject, hintIndex, hintTerm });
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(our acknowledged match, its commit): beyond our last index means
    // entries we acknowledged are gone (etcd: "tocommit is out of range").
    if (m.commit > this.log.lastIndex()) {
      this.lostLog = new RaftLogLostError(this.id, m.commit, this.log.lastIndex(), m.from, m.term);
      throw this.lostLog;
    }
    this.log.commitTo(m.commit);
    this.send({ type: 'heartbeat-response', from: this.id, to: m.from, term: this.term, context: m.context, sentTick: m.sentTick });
  }

  private handleSnapshotChunk(m: SnapshotChunkMessage): void {
    const meta = m.metadata;
    if (meta.index <= this.log.committed) {
      this.incoming = undefined;
      this.sendAppendResponse(m.from, this.log.committed, false, 0, 0);
      return;
    }
    let a = this.incoming;
    const same = a !== undefined && a.index === meta.index && a.term === meta.term && a.totalBytes === m.totalBytes;
    if (m.offset === 0 && (!same || (a && a.received === 0))) {
      a = { index: meta.index, term: meta.term, totalBytes: m.totalBytes, parts: [], received: 0 };
      this.incoming = a;
    } else if (!same) {
      a = undefined;
    }
    const ack = (offset: number) =>
      this.send({ type: 'snapshot-ack', from: this.id, to: m.from, term: this.term, snapshotIndex: meta.index, offset });
    if (!a || m.offset !== a.received) {
      ack(a ? a.received : 0);
      return;
    }
    a.parts.push(m.data);
    a.received += m.data.byteLength;
    if (a.received < a.totalBytes) {
      ack(a.received);
      return;
    }
    this.incoming = undefined;
    const data = new Uint8Array(a.received);
    let off = 0;
    for (const p of a.parts) {
      data.set(p, off);
      off += p.byteLength;
    }
    this.restore({ metadata: meta, data });
    this.sendAppendResponse(m.from, this.log.lastIndex(), false, 0, 0);
  }

  /** Installs a leader's snapshot unless the log already contains its last entry (§7). */
  private restore(snap: Snapshot): boolean {
    if (snap.metadata.index <= this.log.committed) return false;
    if (this.log.matchTerm(snap.metadata.index, snap.metadata.term)) {
      this.log.commitTo(snap.metadata.index);
      return false;
    }
    this.log.restore(snap);
    this.setConf(snap.metadata.confState);
    return true;
  }

  // ---------------------------------------------------------------- leader handlers

  private handleAppendResponse(m: AppendResponseMessage): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.reject) {
      let hint = m.hintIndex;
      if (m.hintTerm > 0) hint = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.transfer && pr.match >= pr.transfer.snapshot.metadata.index) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
      if (this.maybeCommit()) this.onCommitAdvanced();
      else if (wasPaused) this.sendAppend(m.from, true);
      while (this.sendAppend(m.from, false)) {
        // Fill the inflight window.
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (m.sentTick > pr.leaseAckTick) pr.leaseAckTick = m.sentTick;
    // The follower is alive; if the window is full its appends may be lost: let one through.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
    if (m.context !== '') this.ackRead(m.context, m.from);
  }

  private handleSnapshotAck(m: SnapshotAckMessage): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    const t = pr.transfer;
    if (pr.state !== 'snapshot' || !t || t.snapshot.metadata.index !== m.snapshotIndex) return;
    const chunks = Math.floor(m.offset / this.config.snapshotChunkBytes);
    if (chunks < t.ackedChunks) {
      t.ackedChunks = chunks; // the follower lost its partial snapshot: resend from there
      t.sentChunks = chunks;
    } else if (chunks > t.ackedChunks) {
      t.ackedChunks = chunks;
      t.lastProgressTick = this.ticks;
    }
    this.sendSnapshotChunks(m.from, pr);
  }

  private maybeCommit(): boolean {
    const idx = jointCommitted(this.voters, this.votersOutgoing, (id) => this.progress.get(id)?.match ?? 0);
    // §5.4.2: only entries of the current term are committed by counting replicas.
    if (idx > this.log.committed && this.log.term(idx) === this.term) return this.log.commitTo(idx);
    return false;
  }

  private onCommitAdvanced(): void {
    this.bcastAppend();
    if (this.readsAwaitingCommit.length > 0 && this.committedInCurrentTerm()) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const r of waiting) this.handleReadIndex(r.context, r.from, false);
    }
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** Sends an append to `to` if its progress allows; returns whether one was sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || to === this.id || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const lastIndex = this.log.lastIndex();
    const entries = prevTerm === undefined ? undefined : this.log.slice(pr.next, lastIndex + 1, this.config.maxSizePerMsgBytes);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'append', from: this.id, to, term: this.term, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed });
    if (entries.length > 0) {
      const last = (entries[entries.length - 1] as Entry).index;
      if (pr.state === 'replicate') {
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
      } else {
        pr.probeSent = true;
      }
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snap = this.log.storage.snapshot();
    if (snap.metadata.index === 0) return false;
    pr.becomeSnapshot(snap, this.ticks);
    this.sendSnapshotChunks(to, pr);
    return true;
  }

  private sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const t = pr.transfer;
    if (!t) return;
    const total = t.snapshot.data.byteLength;
    const chunk = this.config.snapshotChunkBytes;
    const chunksTotal = Math.max(1, Math.ceil(total / chunk));
    while (t.sentChunks < chunksTotal && t.sentChunks - t.ackedChunks < this.config.maxInflightMsgs) {
      const offset = t.sentChunks * chunk;
      const end = Math.min(total, offset + chunk);
      this.send({
        type: 'snapshot',
        from: this.id,
        to,
        term: this.term,
        metadata: t.snapshot.metadata,
        offset,
        totalBytes: total,
        data: t.snapshot.data.subarray(offset, end),
      });
      t.sentChunks++;
    }
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) {
      if (id === this.id) continue;
      this.sendAppend(id, true);
      while (this.sendAppend(id, false)) {
        // Fill the inflight window.
      }
    }
  }

  private bcastHeartbeat(): void {
    const last = this.pendingReads[this.pendingReads.length - 1];
    const context = last ? last.context : '';
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send({
        type: 'heartbeat',
        from: this.id,
        to: id,
        term: this.term,
        commit: Math.min(pr.match, this.log.committed),
        context,
        sentTick: this.ticks,
      });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term });
  }

  private proposeEntries(entries: readonly Entry[]): void {
    if (this.role !== 'leader') {
      if (this.leader === NONE) throw new DefiniteError('no-leader', 'no leader is known: retry the proposal later');
      if (this.config.disableProposalForwarding) {
        throw new DefiniteError('not-leader', `this node is not the leader (leader: ${this.leader}) and proposal forwarding is disabled`);
      }
      this.send({ type: 'propose', from: this.id, to: this.leader, term: this.term, entries: entries.slice() });
      return;
    }
    if (this.leadTransferee !== NONE) {
      throw new DefiniteError('unavailable', `leadership is being transferred to ${this.leadTransferee}: retry on the new leader`);
    }
    let bytes = 0;
    for (const e of entries) {
      bytes += entrySizeBytes(e);
      if (e.type === 'conf-change') {
        if (this.pendingConfIndex > this.log.applied) {
          throw new DefiniteError('conflict', 'a membership change is already in progress: retry once it is applied');
        }
        this.validateConfChange(e.change);
      }
    }
    const limit = this.config.maxUncommittedEntriesBytes;
    if (limit > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > limit) {
      throw new DefiniteError(
        'overloaded',
        `uncommitted log would exceed maxUncommittedEntriesBytes (${this.uncommittedBytes} + ${bytes} > ${limit}): retry later`,
      );
    }
    this.uncommittedBytes += bytes;
    const before = this.log.lastIndex();
    this.appendEntries(entries);
    entries.forEach((e, i) => {
      if (e.type === 'conf-change') this.pendingConfIndex = before + i + 1;
    });
  }

  private appendEntries(entries: readonly Entry[]): void {
    let index = this.log.lastIndex();
    const stamped: Entry[] = entries.map((e) => {
      index++;
      return { ...e, term: this.term, index };
    });
    this.log.append(stamped);
    if (this.config.batchAppends) this.needBroadcast = true;
    else this.bcastAppend();
  }

  private handleReadIndex(context: string, from: NodeId, local: boolean): void {
    const reply = (index: number) => {
      if (from === this.id) this.readStates.push({ index, context });
      else this.send({ type: 'read-index-response', from: this.id, to: from, term: this.term, context, index });
    };
    if (!this.committedInCurrentTerm()) {
      // §6.4 step 1: a new leader must first commit an entry of its term.
      if (this.readsAwaitingCommit.length >= this.config.maxPendingReads) {
        if (local) throw new DefiniteError('overloaded', 'too many pending reads (maxPendingReads): retry later');
        reply(0);
        return;
      }
      this.readsAwaitingCommit.push({ context, from });
      return;
    }
    const index = this.log.committed;
    if (this.allVoters().length === 1 && this.allVoters()[0] === this.id) {
      reply(index);
      return;
    }
    if (this.config.readOnlyOption === 'lease-based' && this.leaseValid()) {
      reply(index);
      return;
    }
    if (this.pendingReads.length >= this.config.maxPendingReads) {
      if (local) throw new DefiniteError('overloaded', 'too many pending reads (maxPendingReads): retry later');
      reply(0);
      return;
    }
    this.pendingReads.push({ context, from, index, acks: new Set([this.id]) });
    this.bcastHeartbeat();
  }

  private ackRead(context: string, from: NodeId): void {
    const i = this.pendingReads.findIndex((r) => r.context === context);
    if (i < 0) return;
    const r = this.pendingReads[i] as PendingRead;
    r.acks.add(from);
    if (!hasJointQuorum(this.voters, this.votersOutgoing, r.acks)) return;
    const released = this.pendingReads.splice(0, i + 1);
    for (const x of released) {
      if (x.from === this.id) this.readStates.push({ index: x.index, context: x.context });
      else this.send({ type: 'read-index-response', from: this.id, to: x.from, term: this.term, context: x.context, index: x.index });
    }
  }

  /**
   * The leader lease (thesis §6.4.1): followers that acknowledged a heartbeat sent at leader tick
   * t refuse votes until their own election timeout elapses, so no other leader can exist before
   * t + electionTimeoutTicks on their clocks; the margin absorbs bounded tick-rate drift.
   */
  private leaseValid(): boolean {
    if (this.leadTransferee !== NONE) return false;
    const acked = (id: NodeId) => (id === this.id ? this.ticks : (this.progress.get(id)?.leaseAckTick ?? Number.NEGATIVE_INFINITY));
    const oldest = (voters: readonly NodeId[]) => {
      if (voters.length === 0) return Number.POSITIVE_INFINITY;
      const xs = voters.map(acked).sort((a, b) => b - a);
      return xs[majoritySize(voters.length) - 1] ?? Number.NEGATIVE_INFINITY;
    };
    const quorumTick = Math.min(oldest(this.voters), oldest(this.votersOutgoing));
    return this.ticks < quorumTick + this.config.electionTimeoutTicks - this.config.leaseMarginTicks;
  }

  private handleTransfer(target: NodeId, local: boolean): void {
    const pr = this.progress.get(target);
    if (!pr || pr.isLearner) {
      if (local) throw new InvalidArgumentError(`cannot transfer leadership to ${target}: not a voter`);
      return;
    }
    if (target === this.id || target === this.leadTransferee) return;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    this.leadTransferee = target;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.sendAppend(target, true);
  }

  // ---------------------------------------------------------------- membership

  private allVoters(): NodeId[] {
    const out = [...this.voters];
    for (const v of this.votersOutgoing) if (!out.includes(v)) out.push(v);
    return out;
  }

  private isJoint(): boolean {
    return this.votersOutgoing.length > 0;
  }

  private setConf(cs: ConfState): void {
    this.voters = [...cs.voters];
    this.votersOutgoing = [...cs.votersOutgoing];
    this.learners = [...cs.learners];
    this.learnersNext = [...cs.learnersNext];
    this.syncProgress();
  }

  private syncProgress(): void {
    const members = new Set([...this.voters, ...this.votersOutgoing, ...this.learners, ...this.learnersNext]);
    const voting = new Set([...this.voters, ...this.votersOutgoing]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      let pr = this.progress.get(id);
      if (!pr) {
        pr = new Progress(this.log.lastIndex() + 1, this.config.maxInflightMsgs, !voting.has(id));
        pr.recentActive = true;
        this.progress.set(id, pr);
        if (this.role === 'leader' && id !== this.id) this.sendAppend(id, true);
      }
      pr.isLearner = !voting.has(id);
    }
  }

  private validateConfChange(cc: ConfChange): void {
    if (cc.changes.length === 0) {
      if (!this.isJoint()) throw new InvalidArgumentError('an empty conf change leaves a joint configuration, but the configuration is not joint');
      return;
    }
    if (this.isJoint()) throw new DefiniteError('conflict', 'the configuration is joint: wait until it is left before another change');
    const next = nextConfig(this.confState(), cc);
    if (next.voters.length === 0) throw new InvalidArgumentError('the conf change would leave no voters');
  }

  private applyConfChange(cc: ConfChange): void {
    if (cc.changes.length === 0) {
      if (!this.isJoint()) return;
      this.votersOutgoing = [];
      for (const l of this.learnersNext) if (!this.learners.includes(l)) this.learners.push(l);
      this.learnersNext = [];
    } else {
      // Changes that the leader would not have accepted are ignored identically on every server.
      if (this.isJoint()) return;
      const next = nextConfig(this.confState(), cc);
      if (next.voters.length === 0) return;
      this.voters = next.voters;
      this.votersOutgoing = next.votersOutgoing;
      this.learners = next.learners;
      this.learnersNext = next.learnersNext;
    }
    this.syncProgress();
    if (this.role === 'leader') {
      if (!this.promotable()) {
        // A removed (or demoted) leader steps down once the configuration without it is applied.
        this.becomeFollower(this.term, NONE);
        return;
      }
      if (this.maybeCommit()) this.onCommitAdvanced();
    }
  }

  private maybeAutoLeaveJoint(): void {
    if (this.role !== 'leader' || !this.isJoint() || this.pendingConfIndex > this.log.applied || this.leadTransferee !== NONE) return;
    const before = this.log.lastIndex();
    this.appendEntries([{ type: 'conf-change', term: 0, index: 0, change: { changes: [] } }]);
    this.pendingConfIndex = before + 1;
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const ents = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
    return ents.some((e) => e.type === 'conf-change');
  }

  // ---------------------------------------------------------------- output

  private send(m: Message): void {
    const afterSync = !(CANDIDATE_EARLY.has(m.type) || (this.role === 'leader' && LEADER_EARLY.has(m.type)));
    this.msgs.push({ message: m, afterSync });
  }
}

/** The configuration after applying a (non-empty) conf change to a non-joint configuration. */
export function nextConfig(cs: ConfState, cc: ConfChange): ConfState {
  const incoming = new Set(cs.voters);
  const learners = new Set(cs.learners);
  const learnersNext = new Set<NodeId>();
  for (const c of cc.changes) {
    switch (c.type) {
      case 'add-voter':
        incoming.add(c.node);
        learners.delete(c.node);
        learnersNext.delete(c.node);
        break;
      case 'add-learner':
        if (incoming.has(c.node)) {
          incoming.delete(c.node);
          if (cs.voters.includes(c.node)) learnersNext.add(c.node);
          else learners.add(c.node);
        } else {
          learners.add(c.node);
        }
        break;
      case 'remove':
        incoming.delete(c.node);
        learners.delete(c.node);
        learnersNext.delete(c.node);
        break;
      default:
        unreachable(c, 'conf change');
    }
  }
  const voters = [...incoming];
  const sameVoters = voters.length === cs.voters.length && voters.every((v) => cs.voters.includes(v));
  return {
    voters,
    learners: [...learners],
    votersOutgoing: sameVoters ? [] : [...cs.voters],
    learnersNext: sameVoters ? [] : [...learnersNext],
  };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
