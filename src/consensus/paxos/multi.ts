/**
 * Multi-Paxos replica as a sans-IO core ("Paxos Made Moderately Complex", van Renesse and
 * Altinbuken 2015; "Paxos Made Simple" §3): every replica is acceptor and learner, and one of
 * them is the distinguished proposer (the leader). A leader runs phase 1 once, for every slot
 * from its first unchosen slot onwards, with one ballot; after Q1 promises it re-proposes, per
 * slot, the value accepted with the highest ballot, fills gaps with no-ops, and then runs only
 * phase 2 per slot (batches of client commands per slot, several slots per accept message, a
 * bounded window of slots in flight). Acceptors answer a refused prepare or accept with a `nack`
 * carrying their promise, so the proposer skips ahead and steps down.
 *
 * Failure detection is lease-like with ticks: the leader heartbeats every `heartbeatTicks` with
 * its commit point; a follower that hears nothing for `leaderTimeoutTicks` plus a random extra
 * starts phase 1 with the next ballot above everything it has seen. Followers learn slots below
 * the leader's commit point whose accepted ballot equals the leader's (one value per ballot and
 * slot), and fetch the rest with `catchup-req`.
 *
 * Linearizable reads use a read barrier: a read is tagged with the highest slot assigned so far
 * and a heartbeat sequence number; once Q2 replicas (this one included) acknowledge a heartbeat
 * at or after that sequence without having promised a higher ballot, no newer leader can have
 * completed phase 1 before the read began (its Q1 meets those Q2), and the read is served after
 * that slot is applied.
 *
 * Quorums: majorities or Flexible Paxos Q1/Q2 (config.ts).
 *
 * Output contract (`ready()`): first `persist` (promised ballot, accepted slots, learned slots)
 * is written; `messages` (prepare, accept, heartbeat, catch-up: the proposer's and learner's)
 * may go at once, in parallel with the fsync, as Raft §10.2.1 lets a leader do; when `mustSync`
 * is true the host fsyncs before sending `afterSync` (acceptor replies, which report durable
 * state; the ones addressed to this node are its own votes, handed back with `handle`, so a
 * leader counts itself only once its vote is durable); then it applies `committed` slots in
 * slot order and serves `reads` whose barrier passed. The host takes the next Ready only after
 * the previous one is synced.
 *
 * Leaves out: log compaction and snapshots (the log grows for the life of the group),
 * reconfiguration, and client sessions (the host de-duplicates by client and request id).
 */
import { assert, unreachable } from '../../core/assert.ts';
import { DefiniteError } from '../../core/errors.ts';
import type { NodeId } from '../../core/ids.ts';
import type { Rng } from '../../core/rng.ts';
import { type Ballot, ballotEquals, compareBallots, nextBallot, ZERO_BALLOT } from './ballot.ts';
import { type PaxosConfig, quorumSizes, validatePaxosConfig } from './config.ts';

export type PaxosValue = { kind: 'noop' } | { kind: 'cmds'; cmds: string[] };

export interface SlotValue {
  slot: number;
  value: PaxosValue;
}

export interface AcceptedSlot {
  slot: number;
  ballot: Ballot;
  value: PaxosValue;
}

export type PaxosMsg =
  | { type: 'prepare'; ballot: Ballot; fromSlot: number }
  | { type: 'promise'; ballot: Ballot; accepted: AcceptedSlot[] }
  | { type: 'nack'; ballot: Ballot; promised: Ballot }
  | { type: 'accept'; ballot: Ballot; entries: SlotValue[]; chosenBelow: number }
  | { type: 'accepted'; ballot: Ballot; slots: number[] }
  | { type: 'heartbeat'; ballot: Ballot; chosenBelow: number; seq: number }
  | { type: 'heartbeat-ack'; ballot: Ballot; seq: number }
  | { type: 'catchup-req'; fromSlot: number }
  | { type: 'catchup'; entries: SlotValue[] };

export interface PaxosOutgoing {
  to: NodeId;
  msg: PaxosMsg;
}

export interface PaxosPersist {
  /** New promised ballot, when it changed. */
  promised: Ballot | undefined;
  accepted: AcceptedSlot[];
  /** Learned (chosen) slots; these need no fsync (they can be learned again). */
  chosen: SlotValue[];
}

export interface PaxosReady {
  persist: PaxosPersist;
  /** True when `persist` holds acceptor state that must be durable before `afterSync` is sent. */
  mustSync: boolean;
  /** Proposer and learner messages: send now, in parallel with the fsync. */
  messages: PaxosOutgoing[];
  /**
   * Acceptor replies (promise, accepted, nack, heartbeat-ack): send after the fsync. Some are
   * addressed to this node itself (its own vote): hand those back with `handle(id, msg)`.
   */
  afterSync: PaxosOutgoing[];
  /** Chosen slots in order, each exactly once per incarnation. */
  committed: SlotValue[];
  /** Reads whose barrier passed: serve once `slot` is applied. */
  reads: { context: string; slot: number }[];
  /**
   * Commands that were queued but never given a slot when this node stopped leading: this node
   * never proposed them. (The same client request may still have been proposed by another
   * leader, if it was duplicated or re-sent, so a host redirects rather than fails it.)
   */
  dropped: string[];
}

/** Durable state read back at restart. */
export interface PaxosDurableState {
  promised: Ballot;
  accepted: Map<number, { ballot: Ballot; value: PaxosValue }>;
  chosen: Map<number, PaxosValue>;
}

export type PaxosRole = 'follower' | 'candidate' | 'leader';

export interface PaxosOptions {
  id: NodeId;
  config: Partial<PaxosConfig> & { nodes: readonly NodeId[] };
  rng: Rng;
  restored?: PaxosDurableState;
}

interface PendingRead {
  context: string;
  slot: number;
  seq: number;
}

export class MultiPaxos {
  readonly id: NodeId;
  readonly config: PaxosConfig;
  readonly q1: number;
  readonly q2: number;
  private readonly rng: Rng;
  private readonly peers: NodeId[];

  // Acceptor (durable).
  private promisedBallot: Ballot;
  private readonly acceptedSlots: Map<number, { ballot: Ballot; value: PaxosValue }>;
  // Learner.
  private readonly chosenSlots: Map<number, PaxosValue>;
  private firstUnchosen = 1;
  private deliveredBelow = 1;

  role: PaxosRole = 'follower';
  /** The ballot this node leads or campaigns with. */
  ballot: Ballot = ZERO_BALLOT;
  /** Highest ballot seen anywhere. */
  private highestSeen: Ballot;
  leader: NodeId = '';
  private ticksSinceLeader = 0;
  private timeoutTicks: number;
  private heartbeatElapsed = 0;

  // Candidate.
  private prepareFrom = 1;
  private promises = new Map<NodeId, AcceptedSlot[]>();
  private candidateTicks = 0;
  private candidateTimeoutTicks = 0;

  // Leader.
  private nextSlot = 1;
  private readonly inflight = new Map<number, { value: PaxosValue; votes: Set<NodeId>; sentTick: number }>();
  private ticks = 0;
  private queue: string[] = [];
  private heartbeatSeq = 0;
  private readonly ackSeq = new Map<NodeId, number>();
  private reads: PendingRead[] = [];
  private readonly heardFrom = new Set<NodeId>();
  private quorumCheckTicks = 0;
  private readBeatNeeded = false;

  // Output.
  private persistPromised: Ballot | undefined;
  private persistAccepted: AcceptedSlot[] = [];
  private persistChosen: SlotValue[] = [];
  private out: PaxosOutgoing[] = [];
  private outAfterSync: PaxosOutgoing[] = [];
  private droppedOut: string[] = [];
  private readsOut: { context: string; slot: number }[] = [];

  /** Counters for measurements. */
  readonly stats = { quorumLost: 0, elections: 0, leaderships: 0, nacksReceived: 0, slotsChosen: 0, noopsProposed: 0, batches: 0, commandsProposed: 0 };

  constructor(opts: PaxosOptions) {
    this.config = validatePaxosConfig(opts.config);
    assert(this.config.nodes.includes(opts.id), `node ${opts.id} is not in the paxos group ${this.config.nodes.join(',')}`);
    const q = quorumSizes(this.config.nodes.length, this.config.quorum);
    this.q1 = q.q1;
    this.q2 = q.q2;
    this.id = opts.id;
    this.rng = opts.rng;
    this.peers = this.config.nodes.filter((n) => n !== opts.id);
    this.promisedBallot = opts.restored?.promised ?? ZERO_BALLOT;
    this.acceptedSlots = opts.restored?.accepted ?? new Map();
    this.chosenSlots = opts.restored?.chosen ?? new Map();
    this.highestSeen = this.promisedBallot;
    this.advanceFirstUnchosen();
    this.timeoutTicks = this.randomTimeout();
  }

  // ---- inspection -------------------------------------------------------------------------

  get promised(): Ballot {
    return this.promisedBallot;
  }

  /** Every slot below this one is chosen and known here. */
  get chosenBelow(): number {
    return this.firstUnchosen;
  }

  chosenAt(slot: number): PaxosValue | undefined {
    return this.chosenSlots.get(slot);
  }

  acceptedAt(slot: number): { ballot: Ballot; value: PaxosValue } | undefined {
    return this.acceptedSlots.get(slot);
  }

  get queuedCommands(): number {
    return this.queue.length;
  }

  /** Slots this leader proposed that are not chosen yet. */
  get inflightSlots(): number {
    return this.inflight.size;
  }

  // ---- inputs -----------------------------------------------------------------------------

  /** One logical clock tick (the host calls it every tickMs). */
  tick(): void {
    this.ticks++;
    switch (this.role) {
      case 'leader':
        this.quorumCheckTicks++;
        if (this.config.checkQuorum && this.quorumCheckTicks >= this.config.leaderTimeoutTicks) {
          this.quorumCheckTicks = 0;
          const reached = this.heardFrom.size + 1;
          this.heardFrom.clear();
          if (reached < this.q2) {
            this.stats.quorumLost++;
            this.stepDown();
            break;
          }
        }
        this.heartbeatElapsed++;
        if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
          this.heartbeatElapsed = 0;
          this.broadcastHeartbeat();
          this.resendInflight();
        }
        break;
      case 'candidate':
        this.candidateTicks++;
        if (this.candidateTicks >= this.candidateTimeoutTicks) this.campaign();
        break;
      case 'follower':
        this.ticksSinceLeader++;
        if (this.ticksSinceLeader >= this.timeoutTicks) this.campaign();
        break;
      default:
        unreachable(this.role, 'paxos role');
    }
    this.flush();
  }

  /** Starts phase 1 now (tests, leadership hand-over). */
  campaign(): void {
    this.stats.elections++;
    const above = compareBallots(this.highestSeen, this.promisedBallot) > 0 ? this.highestSeen : this.promisedBallot;
    this.ballot = nextBallot(above, this.id);
    this.highestSeen = this.ballot;
    this.role = 'candidate';
    this.leader = '';
    this.candidateTicks = 0;
    this.candidateTimeoutTicks = this.config.prepareRetryTicks + this.rng.int(this.config.prepareRetryTicks + 1);
    this.promises = new Map();
    this.prepareFrom = this.firstUnchosen;
    this.dropLeaderState();
    const msg: PaxosMsg = { type: 'prepare', ballot: this.ballot, fromSlot: this.prepareFrom };
    for (const p of this.peers) this.out.push({ to: p, msg });
    this.step(this.id, msg);
  }

  /**
   * Queues a client command (leader only). Throws a DefiniteError when this node does not lead
   * or the queue is full: the command was not proposed.
   */
  propose(cmd: string): void {
    if (this.role !== 'leader') throw new DefiniteError('not-leader', `node ${this.id} is not the paxos leader (leader: ${this.leader || 'unknown'})`);
    if (this.queue.length >= this.config.proposalQueueMax) {
      throw new DefiniteError('overloaded', `paxos proposal queue full (${this.config.proposalQueueMax} commands)`);
    }
    this.queue.push(cmd);
    this.flush();
  }

  /** Registers a linearizable read (leader only); it comes back in `Ready.reads`. */
  read(context: string): void {
    if (this.role !== 'leader') throw new DefiniteError('not-leader', `node ${this.id} is not the paxos leader (leader: ${this.leader || 'unknown'})`);
    if (this.reads.length >= this.config.readQueueMax) throw new DefiniteError('overloaded', `paxos read queue full (${this.config.readQueueMax} reads)`);
    this.reads.push({ context, slot: this.nextSlot - 1, seq: this.heartbeatSeq + 1 });
    this.readBeatNeeded = true;
  }

  handle(from: NodeId, msg: PaxosMsg): void {
    if (from !== this.id && !this.peers.includes(from)) return;
    this.step(from, msg);
    this.flush();
  }

  private step(from: NodeId, msg: PaxosMsg): void {
    switch (msg.type) {
      case 'prepare':
        this.onPrepare(from, msg);
        break;
      case 'promise':
        this.onPromise(from, msg);
        break;
      case 'nack':
        this.onNack(msg);
        break;
      case 'accept':
        this.onAccept(from, msg);
        break;
      case 'accepted':
        this.onAccepted(from, msg);
        break;
      case 'heartbeat':
        this.onHeartbeat(from, msg);
        break;
      case 'heartbeat-ack':
        if (this.role === 'leader' && ballotEquals(msg.ballot, this.ballot)) {
          this.heardFrom.add(from);
          this.ackSeq.set(from, Math.max(this.ackSeq.get(from) ?? 0, msg.seq));
          this.checkReads();
        }
        break;
      case 'catchup-req':
        this.onCatchupReq(from, msg.fromSlot);
        break;
      case 'catchup':
        for (const e of msg.entries) this.learn(e.slot, e.value);
        break;
      default:
        unreachable(msg, 'paxos message');
    }
  }

  // ---- output -----------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.persistPromised !== undefined ||
      this.persistAccepted.length > 0 ||
      this.persistChosen.length > 0 ||
      this.out.length > 0 ||
      this.outAfterSync.length > 0 ||
      this.deliveredBelow < this.firstUnchosen ||
      this.readsOut.length > 0 ||
      this.droppedOut.length > 0 ||
      this.readBeatNeeded
    );
  }

  ready(): PaxosReady {
    if (this.readBeatNeeded && this.role === 'leader') this.broadcastHeartbeat();
    this.readBeatNeeded = false;
    const committed: SlotValue[] = [];
    while (this.deliveredBelow < this.firstUnchosen) {
      const v = this.chosenSlots.get(this.deliveredBelow);
      assert(v !== undefined, `slot ${this.deliveredBelow} below the chosen prefix has no value`);
      committed.push({ slot: this.deliveredBelow, value: v });
      this.deliveredBelow++;
    }
    const rd: PaxosReady = {
      persist: { promised: this.persistPromised, accepted: this.persistAccepted, chosen: this.persistChosen },
      mustSync: this.persistPromised !== undefined || this.persistAccepted.length > 0,
      messages: this.out,
      afterSync: this.outAfterSync,
      committed,
      reads: this.readsOut,
      dropped: this.droppedOut,
    };
    this.persistPromised = undefined;
    this.persistAccepted = [];
    this.persistChosen = [];
    this.out = [];
    this.outAfterSync = [];
    this.droppedOut = [];
    this.readsOut = [];
    return rd;
  }

  // ---- acceptor ---------------------------------------------------------------------------

  private send(to: NodeId, msg: PaxosMsg): void {
    if (to === this.id) this.step(this.id, msg);
    else this.out.push({ to, msg });
  }

  /**
   * An acceptor's reply: it reports durable state, so it leaves only after the fsync of this
   * Ready. A reply to this node itself (the leader's or candidate's own vote) goes the same way
   * and comes back through `handle(id, msg)`, so a node counts its own vote only once durable.
   */
  private reply(to: NodeId, msg: PaxosMsg): void {
    this.outAfterSync.push({ to, msg });
  }

  private promise(b: Ballot): void {
    if (compareBallots(b, this.promisedBallot) > 0) {
      this.promisedBallot = b;
      this.persistPromised = b;
    }
    this.see(b);
  }

  /** A ballot above ours means someone else is (or tries to be) leader: step down. */
  private see(b: Ballot): void {
    if (compareBallots(b, this.highestSeen) > 0) this.highestSeen = b;
    if (this.role !== 'follower' && compareBallots(b, this.ballot) > 0) this.stepDown();
  }

  private stepDown(): void {
    this.role = 'follower';
    this.leader = ''; // until a heartbeat or accept names the new one
    this.dropLeaderState();
    this.ticksSinceLeader = 0;
    this.timeoutTicks = this.randomTimeout();
  }

  private dropLeaderState(): void {
    this.inflight.clear();
    for (const c of this.queue) this.droppedOut.push(c);
    this.queue = [];
    this.reads = [];
    this.ackSeq.clear();
  }

  private onPrepare(from: NodeId, msg: Extract<PaxosMsg, { type: 'prepare' }>): void {
    if (compareBallots(msg.ballot, this.promisedBallot) < 0) {
      this.reply(from, { type: 'nack', ballot: msg.ballot, promised: this.promisedBallot });
      return;
    }
    this.promise(msg.ballot);
    if (from !== this.id) {
      this.ticksSinceLeader = 0; // give the candidate time to finish phase 1
      this.leader = '';
    }
    const accepted: AcceptedSlot[] = [];
    for (const [slot, a] of this.acceptedSlots) if (slot >= msg.fromSlot) accepted.push({ slot, ballot: a.ballot, value: a.value });
    // Chosen slots are reported as accepted at the highest possible ballot: they are final.
    for (const [slot, value] of this.chosenSlots) if (slot >= msg.fromSlot) accepted.push({ slot, ballot: { round: Number.MAX_SAFE_INTEGER, node: '' }, value });
    this.reply(from, { type: 'promise', ballot: msg.ballot, accepted });
  }

  private onAccept(from: NodeId, msg: Extract<PaxosMsg, { type: 'accept' }>): void {
    if (compareBallots(msg.ballot, this.promisedBallot) < 0) {
      this.reply(from, { type: 'nack', ballot: msg.ballot, promised: this.promisedBallot });
      return;
    }
    this.promise(msg.ballot);
    if (from !== this.id) {
      this.leader = msg.ballot.node;
      this.ticksSinceLeader = 0;
    }
    const slots: number[] = [];
    for (const e of msg.entries) {
      const cur = this.acceptedSlots.get(e.slot);
      if (!cur || !ballotEquals(cur.ballot, msg.ballot)) {
        this.acceptedSlots.set(e.slot, { ballot: msg.ballot, value: e.value });
        this.persistAccepted.push({ slot: e.slot, ballot: msg.ballot, value: e.value });
      }
      slots.push(e.slot);
    }
    this.learnBelow(msg.ballot, msg.chosenBelow);
    this.reply(from, { type: 'accepted', ballot: msg.ballot, slots });
  }

  private onHeartbeat(from: NodeId, msg: Extract<PaxosMsg, { type: 'heartbeat' }>): void {
    if (compareBallots(msg.ballot, this.promisedBallot) < 0) {
      this.reply(from, { type: 'nack', ballot: msg.ballot, promised: this.promisedBallot });
      return;
    }
    this.see(msg.ballot);
    this.leader = msg.ballot.node;
    this.ticksSinceLeader = 0;
    this.learnBelow(msg.ballot, msg.chosenBelow);
    if (this.firstUnchosen < msg.chosenBelow) this.reply(from, { type: 'catchup-req', fromSlot: this.firstUnchosen });
    this.reply(from, { type: 'heartbeat-ack', ballot: msg.ballot, seq: msg.seq });
  }

  // ---- learner ----------------------------------------------------------------------------

  /** Slots below the leader's commit point that this acceptor accepted in the leader's ballot are chosen. */
  private learnBelow(b: Ballot, chosenBelow: number): void {
    for (let s = this.firstUnchosen; s < chosenBelow; s++) {
      if (this.chosenSlots.has(s)) continue;
      const a = this.acceptedSlots.get(s);
      if (a && ballotEquals(a.ballot, b)) this.learn(s, a.value);
    }
  }

  private learn(slot: number, value: PaxosValue): void {
    const cur = this.chosenSlots.get(slot);
    if (cur !== undefined) {
      assert(valueKey(cur) === valueKey(value), `slot ${slot} learned two different values on ${this.id}`);
      return;
    }
    this.chosenSlots.set(slot, value);
    this.persistChosen.push({ slot, value });
    this.stats.slotsChosen++;
    this.advanceFirstUnchosen();
  }

  private advanceFirstUnchosen(): void {
    while (this.chosenSlots.has(this.firstUnchosen)) this.firstUnchosen++;
  }

  private onCatchupReq(from: NodeId, fromSlot: number): void {
    const entries: SlotValue[] = [];
    for (let s = Math.max(1, fromSlot); s < this.firstUnchosen && entries.length < this.config.catchupSlotsMax; s++) {
      const v = this.chosenSlots.get(s);
      if (v !== undefined) entries.push({ slot: s, value: v });
    }
    if (entries.length > 0) this.send(from, { type: 'catchup', entries });
  }

  // ---- proposer / leader ------------------------------------------------------------------

  private onNack(msg: Extract<PaxosMsg, { type: 'nack' }>): void {
    this.stats.nacksReceived++;
    this.see(msg.promised);
  }

  private onPromise(from: NodeId, msg: Extract<PaxosMsg, { type: 'promise' }>): void {
    if (this.role !== 'candidate' || !ballotEquals(msg.ballot, this.ballot)) return;
    this.promises.set(from, msg.accepted);
    if (this.promises.size < this.q1) return;
    // Phase 1 done: for each slot take the value accepted with the highest ballot.
    const best = new Map<number, AcceptedSlot>();
    let maxSlot = this.prepareFrom - 1;
    for (const list of this.promises.values()) {
      for (const a of list) {
        if (a.slot < this.prepareFrom) continue;
        const cur = best.get(a.slot);
        if (!cur || compareBallots(a.ballot, cur.ballot) > 0) best.set(a.slot, a);
        if (a.slot > maxSlot) maxSlot = a.slot;
      }
    }
    this.role = 'leader';
    this.leader = this.id;
    this.stats.leaderships++;
    this.heardFrom.clear();
    this.quorumCheckTicks = 0;
    this.heartbeatElapsed = 0;
    this.nextSlot = maxSlot + 1;
    const entries: SlotValue[] = [];
    for (let s = this.prepareFrom; s <= maxSlot; s++) {
      if (this.chosenSlots.has(s)) continue;
      const value: PaxosValue = best.get(s)?.value ?? { kind: 'noop' };
      if (value.kind === 'noop') this.stats.noopsProposed++;
      this.inflight.set(s, { value, votes: new Set(), sentTick: this.ticks });
      entries.push({ slot: s, value });
    }
    this.broadcastAccept(entries);
    this.broadcastHeartbeat();
  }

  private broadcastAccept(entries: SlotValue[]): void {
    if (entries.length === 0) return;
    const msg: PaxosMsg = { type: 'accept', ballot: this.ballot, entries, chosenBelow: this.firstUnchosen };
    for (const p of this.peers) this.out.push({ to: p, msg });
    this.step(this.id, msg);
  }

  private broadcastHeartbeat(): void {
    this.heartbeatSeq++;
    this.ackSeq.set(this.id, this.heartbeatSeq);
    const msg: PaxosMsg = { type: 'heartbeat', ballot: this.ballot, chosenBelow: this.firstUnchosen, seq: this.heartbeatSeq };
    for (const p of this.peers) this.out.push({ to: p, msg });
    this.checkReads();
  }

  /**
   * Accepts that got no vote within a heartbeat interval (lost, or the replica was down) are
   * sent again to the replicas that have not voted, once per heartbeat.
   */
  private resendInflight(): void {
    if (this.inflight.size === 0) return;
    for (const p of this.peers) {
      const entries: SlotValue[] = [];
      for (const [slot, f] of this.inflight) {
        if (!f.votes.has(p) && this.ticks - f.sentTick >= this.config.heartbeatTicks) entries.push({ slot, value: f.value });
      }
      if (entries.length > 0) this.out.push({ to: p, msg: { type: 'accept', ballot: this.ballot, entries, chosenBelow: this.firstUnchosen } });
    }
  }

  private onAccepted(from: NodeId, msg: Extract<PaxosMsg, { type: 'accepted' }>): void {
    if (this.role !== 'leader' || !ballotEquals(msg.ballot, this.ballot)) return;
    if (from !== this.id) this.heardFrom.add(from);
    for (const slot of msg.slots) {
      const f = this.inflight.get(slot);
      if (!f) continue;
      f.votes.add(from);
      if (f.votes.size >= this.q2) {
        this.inflight.delete(slot);
        this.learn(slot, f.value);
      }
    }
    this.checkReads();
  }

  /** Moves queued commands into new slots while the window has room (batching under load). */
  private flush(): void {
    if (this.role !== 'leader' || this.queue.length === 0) return;
    const entries: SlotValue[] = [];
    while (this.queue.length > 0 && this.inflight.size < this.config.inflightSlotsMax) {
      const cmds = this.queue.splice(0, this.config.batchCommandsMax);
      const slot = this.nextSlot++;
      const value: PaxosValue = { kind: 'cmds', cmds };
      this.inflight.set(slot, { value, votes: new Set(), sentTick: this.ticks });
      entries.push({ slot, value });
      this.stats.batches++;
      this.stats.commandsProposed += cmds.length;
    }
    this.broadcastAccept(entries);
  }

  private checkReads(): void {
    if (this.role !== 'leader' || this.reads.length === 0) return;
    const rest: PendingRead[] = [];
    for (const r of this.reads) {
      let acks = 0;
      for (const seq of this.ackSeq.values()) if (seq >= r.seq) acks++;
      if (acks >= this.q2 && this.firstUnchosen > r.slot) this.readsOut.push({ context: r.context, slot: r.slot });
      else rest.push(r);
    }
    this.reads = rest;
  }

  private randomTimeout(): number {
    return this.config.leaderTimeoutTicks + this.rng.int(this.config.leaderTimeoutTicks + 1);
  }
}

/** A stable identity of a value, for comparisons by checkers. */
export function valueKey(v: PaxosValue): string {
  return v.kind === 'noop' ? 'noop' : JSON.stringify(v.cmds);
}
