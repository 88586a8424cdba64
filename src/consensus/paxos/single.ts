/**
 * Single-decree Paxos ("Paxos Made Simple", Lamport 2001) as three sans-IO roles for one
 * instance: `Acceptor`, `Proposer`, `Learner`. Inputs are method calls; outputs are drained by
 * the host with `poll()`. The acceptor's rule is the paper's: promise a prepare(b) only when b
 * is not below any ballot promised so far (an equal ballot is its own proposer's, re-sent), and
 * accept (b, v) unless a higher ballot was promised; a refused request gets a `nack` carrying
 * the highest promised ballot so the proposer can skip ahead instead of counting up one round at
 * a time. The acceptor's state (promised, accepted)
 * must be durable before its reply leaves: `poll()` returns the state to persist first, then the
 * replies, and the host sends nothing before the fsync.
 *
 * Quorums are sizes over the acceptor set (majority, or Flexible Paxos Q1/Q2, see config.ts).
 * Acceptors send `accepted` to every learner, which is where the O(n²) messages per decision of
 * the textbook algorithm come from (n acceptors × n learners); Multi-Paxos (multi.ts) routes the
 * votes through the leader instead.
 *
 * Leaves out: retransmission (the host re-runs `retry()` on its timer), value batching.
 */
import { assert, unreachable } from '../../core/assert.ts';
import type { NodeId } from '../../core/ids.ts';
import { type Ballot, ballotEquals, compareBallots, nextBallot, ZERO_BALLOT } from './ballot.ts';

export type SingleMsg =
  | { type: 'prepare'; ballot: Ballot }
  | { type: 'promise'; ballot: Ballot; accepted: { ballot: Ballot; value: string } | undefined }
  | { type: 'nack'; ballot: Ballot; promised: Ballot }
  | { type: 'accept'; ballot: Ballot; value: string }
  | { type: 'accepted'; ballot: Ballot; value: string };

export interface SingleOutgoing<M> {
  to: NodeId;
  msg: M;
}

export interface AcceptorState {
  promised: Ballot;
  accepted: { ballot: Ballot; value: string } | undefined;
}

export interface AcceptorReady {
  /** The state to persist and fsync before any message is sent; undefined when unchanged. */
  persist: AcceptorState | undefined;
  messages: SingleOutgoing<SingleMsg>[];
}

export class Acceptor {
  readonly id: NodeId;
  private state: AcceptorState;
  private readonly learners: readonly NodeId[];
  private dirty = false;
  private out: SingleOutgoing<SingleMsg>[] = [];

  /** `restored` is the durable state read back after a restart. */
  constructor(id: NodeId, learners: readonly NodeId[], restored?: AcceptorState) {
    this.id = id;
    this.learners = learners;
    this.state = restored ?? { promised: ZERO_BALLOT, accepted: undefined };
  }

  get promised(): Ballot {
    return this.state.promised;
  }

  get accepted(): { ballot: Ballot; value: string } | undefined {
    return this.state.accepted;
  }

  handle(from: NodeId, msg: SingleMsg): void {
    switch (msg.type) {
      case 'prepare':
        // Equal ballots are promised again: a duplicated prepare, or one overtaken by its own
        // accept, must not look like a refusal to the proposer that sent it.
        if (compareBallots(msg.ballot, this.state.promised) >= 0) {
          if (compareBallots(msg.ballot, this.state.promised) > 0) {
            this.state = { ...this.state, promised: msg.ballot };
            this.dirty = true;
          }
          this.out.push({ to: from, msg: { type: 'promise', ballot: msg.ballot, accepted: this.state.accepted } });
        } else {
          this.out.push({ to: from, msg: { type: 'nack', ballot: msg.ballot, promised: this.state.promised } });
        }
        return;
      case 'accept':
        if (compareBallots(msg.ballot, this.state.promised) >= 0) {
          this.state = { promised: msg.ballot, accepted: { ballot: msg.ballot, value: msg.value } };
          this.dirty = true;
          for (const l of this.learners) this.out.push({ to: l, msg: { type: 'accepted', ballot: msg.ballot, value: msg.value } });
          if (!this.learners.includes(from)) this.out.push({ to: from, msg: { type: 'accepted', ballot: msg.ballot, value: msg.value } });
        } else {
          this.out.push({ to: from, msg: { type: 'nack', ballot: msg.ballot, promised: this.state.promised } });
        }
        return;
      case 'promise':
      case 'nack':
      case 'accepted':
        return;
      default:
        unreachable(msg, 'single-decree message');
    }
  }

  poll(): AcceptorReady {
    const rd: AcceptorReady = { persist: this.dirty ? this.state : undefined, messages: this.out };
    this.dirty = false;
    this.out = [];
    return rd;
  }
}

export type ProposerPhase = 'idle' | 'preparing' | 'accepting' | 'done';

export class Proposer {
  readonly id: NodeId;
  private readonly acceptors: readonly NodeId[];
  private readonly q1: number;
  private readonly q2: number;
  private value: string | undefined;
  private highestSeen: Ballot = ZERO_BALLOT;
  ballot: Ballot = ZERO_BALLOT;
  phase: ProposerPhase = 'idle';
  private promises = new Map<NodeId, { ballot: Ballot; value: string } | undefined>();
  private accepts = new Set<NodeId>();
  private proposed: string | undefined;
  /** Phase-1 rounds started (a measure of duelling). */
  rounds = 0;
  private out: SingleOutgoing<SingleMsg>[] = [];

  constructor(id: NodeId, acceptors: readonly NodeId[], q1: number, q2: number) {
    assert(q1 >= 1 && q2 >= 1 && q1 <= acceptors.length && q2 <= acceptors.length, 'quorum sizes out of range');
    this.id = id;
    this.acceptors = acceptors;
    this.q1 = q1;
    this.q2 = q2;
  }

  /** Starts proposing `value` (used only if no value may have been chosen already). */
  propose(value: string): void {
    this.value = value;
    this.retry();
  }

  /** Starts a new phase 1 with a ballot above every ballot seen (after a nack or a timeout). */
  retry(): void {
    if (this.phase === 'done' || this.value === undefined) return;
    this.ballot = nextBallot(this.highestSeen, this.id);
    this.highestSeen = this.ballot;
    this.phase = 'preparing';
    this.promises = new Map();
    this.accepts = new Set();
    this.rounds++;
    for (const a of this.acceptors) this.out.push({ to: a, msg: { type: 'prepare', ballot: this.ballot } });
  }

  /** The value this proposer sent in phase 2, if it got there. */
  get proposedValue(): string | undefined {
    return this.proposed;
  }

  handle(from: NodeId, msg: SingleMsg): void {
    switch (msg.type) {
      case 'promise': {
        if (this.phase !== 'preparing' || !ballotEquals(msg.ballot, this.ballot)) return;
        this.promises.set(from, msg.accepted);
        if (this.promises.size < this.q1) return;
        let best: { ballot: Ballot; value: string } | undefined;
        for (const acc of this.promises.values()) if (acc && (!best || compareBallots(acc.ballot, best.ballot) > 0)) best = acc;
        const v = best?.value ?? this.value;
        assert(v !== undefined, 'a proposer in phase 1 has a value');
        this.proposed = v;
        this.phase = 'accepting';
        for (const a of this.acceptors) this.out.push({ to: a, msg: { type: 'accept', ballot: this.ballot, value: v } });
        return;
      }
      case 'nack':
        if (compareBallots(msg.promised, this.highestSeen) > 0) this.highestSeen = msg.promised;
        if (ballotEquals(msg.ballot, this.ballot) && this.phase !== 'done') this.phase = 'idle';
        return;
      case 'accepted':
        if (this.phase !== 'accepting' || !ballotEquals(msg.ballot, this.ballot)) return;
        this.accepts.add(from);
        if (this.accepts.size >= this.q2) this.phase = 'done';
        return;
      case 'prepare':
      case 'accept':
        return;
      default:
        unreachable(msg, 'single-decree message');
    }
  }

  poll(): SingleOutgoing<SingleMsg>[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Learns the chosen value: Q2 acceptors accepted the same ballot. */
export class Learner {
  private readonly q2: number;
  private readonly votes = new Map<string, Set<NodeId>>();
  chosen: string | undefined;

  constructor(q2: number) {
    this.q2 = q2;
  }

  handle(from: NodeId, msg: SingleMsg): void {
    if (msg.type !== 'accepted') return;
    const key = `${msg.ballot.round}.${msg.ballot.node}`;
    const set = this.votes.get(key) ?? new Set<NodeId>();
    set.add(from);
    this.votes.set(key, set);
    if (set.size >= this.q2) {
      assert(this.chosen === undefined || this.chosen === msg.value, `two different values chosen: ${this.chosen} and ${msg.value}`);
      this.chosen = msg.value;
    }
  }
}
