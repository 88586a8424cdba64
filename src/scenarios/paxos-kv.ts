/**
 * A replicated key-value register on the Multi-Paxos core, hosted in the simulator.
 * `PaxosKvServer` is the SimNode adapter: ticks from a timer, Ready drained in the documented
 * order, acceptor state (promised ballot, accepted slots) and learned slots appended to a
 * CRC-checked log on the simulated disk and fsynced before any acceptor reply (and before the
 * node counts its own vote), while proposer messages go out in parallel with the fsync;
 * recovery after a crash that truncates a torn or corrupt tail. `PaxosKvClient` follows leader
 * hints. `PaxosChecker` watches every replica and records the first violation of a Paxos
 * invariant:
 *
 * - at most one value is chosen per slot, where "chosen" is decided from the acceptors' durable
 *   state (Q2 acceptors durably accepted the same ballot), not from what learners believe;
 * - every learner learns only that value, and a value once chosen never changes;
 * - an acceptor never accepts a ballot below one it durably promised.
 *
 * Writes and cas go through the log with (client, request id) de-duplication; reads go through
 * the core's read barrier.
 *
 * Leaves out: snapshots (the log is replayed from slot 1 at restart).
 */
import { applyRegisterCommand, type RegisterCommand, type RegisterState } from './kv-register.ts';
import { type KvClientMsg, LeaderKvClient, leaderKvDriver } from './kv-client.ts';
import { ClusterkitError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import { type Ballot, ballotString, compareBallots, ZERO_BALLOT } from '../consensus/paxos/ballot.ts';
import type { PaxosConfig } from '../consensus/paxos/config.ts';
import {
  type AcceptedSlot,
  MultiPaxos,
  type PaxosDurableState,
  type PaxosMsg,
  type PaxosReady,
  type PaxosValue,
  type SlotValue,
  valueKey,
} from '../consensus/paxos/multi.ts';
import type { KvValue } from '../sim/history.ts';
import type { SimContext, SimDisk, SimNode } from '../sim/types.ts';
import type { KvClientDriver, KvOp } from '../sim/workload.ts';
import { frame, unframeAll } from './raft-wal.ts';

export type PaxosKvMsg =
  | { type: 'paxos'; m: PaxosMsg }
  | KvClientMsg;

export const PAXOS_LOG_FILE = 'paxos.log';

/** One log record per Ready: the new promise, accepted slots and learned slots. */
interface LogRecord {
  p?: Ballot;
  a?: AcceptedSlot[];
  c?: SlotValue[];
}

export function paxosLogRecord(rd: PaxosReady): Uint8Array | undefined {
  const rec: LogRecord = {};
  if (rd.persist.promised) rec.p = rd.persist.promised;
  if (rd.persist.accepted.length > 0) rec.a = rd.persist.accepted;
  if (rd.persist.chosen.length > 0) rec.c = rd.persist.chosen;
  return rec.p || rec.a || rec.c ? frame(rec) : undefined;
}

/** Replays the log (torn or corrupt tail truncated and synced) into the core's durable state. */
export function recoverPaxosLog(disk: SimDisk): { state: PaxosDurableState; truncatedBytes: number; records: number } {
  const state: PaxosDurableState = { promised: ZERO_BALLOT, accepted: new Map(), chosen: new Map() };
  const bytes = disk.read(PAXOS_LOG_FILE) ?? new Uint8Array(0);
  const { bodies, validBytes } = unframeAll(bytes);
  for (const b of bodies) {
    const rec = b as LogRecord;
    if (rec.p && compareBallots(rec.p, state.promised) > 0) state.promised = rec.p;
    for (const a of rec.a ?? []) state.accepted.set(a.slot, { ballot: a.ballot, value: a.value });
    for (const c of rec.c ?? []) state.chosen.set(c.slot, c.value);
  }
  const truncatedBytes = bytes.length - validBytes;
  if (truncatedBytes > 0) {
    disk.write(PAXOS_LOG_FILE, bytes.slice(0, validBytes));
    disk.fsync(PAXOS_LOG_FILE);
  }
  return { state, truncatedBytes, records: bodies.length };
}

/** Records the first Paxos invariant violation seen across all replicas. */
export class PaxosChecker {
  violation: string | undefined;
  private readonly q2: number;
  /** slot -> value key chosen there (from acceptors' durable votes). */
  readonly chosen = new Map<number, string>();
  /** slot -> value key some learner learned. */
  readonly learned = new Map<number, string>();
  /** "slot/ballot" -> value key and the acceptors that durably accepted it. */
  private readonly votes = new Map<string, { value: string; acceptors: Set<NodeId> }>();
  /** Per acceptor: the highest ballot it durably promised or announced in a promise/accepted message. */
  private readonly promised = new Map<NodeId, Ballot>();
  /** Ballots that led (finished phase 1), by ballot string. */
  readonly leaders = new Set<string>();
  maxChosenSlot = 0;
  /** Slots chosen as no-ops (gaps a new leader filled). */
  noopsChosen = 0;

  constructor(q2: number) {
    this.q2 = q2;
  }

  fail(what: string): void {
    if (this.violation === undefined) this.violation = what;
  }

  /** Acceptor state that is now durable on `id` (after an fsync, or found at recovery). */
  onDurable(id: NodeId, promised: Ballot | undefined, accepted: readonly AcceptedSlot[]): void {
    const prev = this.promised.get(id) ?? ZERO_BALLOT;
    for (const a of accepted) {
      if (compareBallots(a.ballot, prev) < 0) {
        this.fail(`acceptor ${id} accepted ballot ${ballotString(a.ballot)} in slot ${a.slot} below a promise it had made (${ballotString(prev)})`);
      }
      const k = `${a.slot}/${ballotString(a.ballot)}`;
      const value = valueKey(a.value);
      const v = this.votes.get(k) ?? { value, acceptors: new Set<NodeId>() };
      if (v.value !== value) this.fail(`two values proposed in slot ${a.slot} with ballot ${ballotString(a.ballot)}`);
      v.acceptors.add(id);
      this.votes.set(k, v);
      if (v.acceptors.size >= this.q2) this.onChosenByAcceptors(a.slot, value);
    }
    let top = prev;
    if (promised && compareBallots(promised, top) > 0) top = promised;
    for (const a of accepted) if (compareBallots(a.ballot, top) > 0) top = a.ballot;
    this.promised.set(id, top);
  }

  /**
   * State found on disk at a restart: everything the node had synced must be there (synced
   * data survives crashes), so its promise may not be below the durable one seen before.
   */
  /** A promise or an accepted vote leaving `id`: from now on other nodes rely on it. */
  onSent(id: NodeId, msg: PaxosMsg): void {
    if (msg.type !== 'promise' && msg.type !== 'accepted') return;
    const prev = this.promised.get(id) ?? ZERO_BALLOT;
    if (compareBallots(msg.ballot, prev) > 0) this.promised.set(id, msg.ballot);
  }

  onRecovered(id: NodeId, promised: Ballot, accepted: readonly AcceptedSlot[]): void {
    let top = promised;
    for (const a of accepted) if (compareBallots(a.ballot, top) > 0) top = a.ballot;
    const prev = this.promised.get(id) ?? ZERO_BALLOT;
    if (compareBallots(top, prev) < 0) this.fail(`acceptor ${id} recovered promise ${ballotString(top)} below the promise ${ballotString(prev)} it had made durable or sent: a promise was lost`);
    else this.promised.set(id, top);
  }

  private onChosenByAcceptors(slot: number, value: string): void {
    const prev = this.chosen.get(slot);
    if (prev !== undefined && prev !== value) this.fail(`two values chosen in slot ${slot}: ${prev} and ${value}`);
    if (prev === undefined && value === 'noop') this.noopsChosen++;
    this.chosen.set(slot, value);
    if (slot > this.maxChosenSlot) this.maxChosenSlot = slot;
    const l = this.learned.get(slot);
    if (l !== undefined && l !== value) this.fail(`slot ${slot}: learned ${l} but the acceptors chose ${value}`);
  }

  onLearned(id: NodeId, slot: number, value: PaxosValue): void {
    const key = valueKey(value);
    const prev = this.learned.get(slot);
    if (prev !== undefined && prev !== key) this.fail(`learner ${id} learned ${key} in slot ${slot}, another learned ${prev}`);
    this.learned.set(slot, key);
    const c = this.chosen.get(slot);
    if (c !== undefined && c !== key) this.fail(`learner ${id} learned ${key} in slot ${slot} but the acceptors chose ${c}`);
  }
}

type Command = RegisterCommand;
type KvState = RegisterState;

export interface PaxosKvServerOptions {
  config: Partial<PaxosConfig> & { nodes: readonly NodeId[] };
  tickMs: number;
  checker: PaxosChecker;
  /** Deliberately broken: send every message before the fsync (tests show the checkers catch it). */
  unsafeSendBeforeSync?: boolean;
}

export class PaxosKvServer implements SimNode<PaxosKvMsg> {
  private ctx!: SimContext<PaxosKvMsg>;
  paxos!: MultiPaxos;
  private readonly opts: PaxosKvServerOptions;
  private kv: KvState = { data: {}, lastId: {}, lastResult: {} };
  private syncing = false;
  private readonly pendingWrites = new Set<string>();
  private readonly pendingReads = new Map<string, { client: NodeId; id: number; key: string }>();
  private readyReads: { context: string; slot: number }[] = [];
  /** Every slot below this one has been applied to the KV state. */
  appliedBelow = 1;
  private lastLeaderBallot = '';
  readonly stats = { truncatedBytes: 0, recoveredRecords: 0 };

  constructor(opts: PaxosKvServerOptions) {
    this.opts = opts;
  }

  start(ctx: SimContext<PaxosKvMsg>): void {
    this.ctx = ctx;
    const rec = recoverPaxosLog(ctx.disk);
    this.stats.truncatedBytes = rec.truncatedBytes;
    this.stats.recoveredRecords = rec.records;
    if (rec.truncatedBytes > 0) ctx.trace(`truncated ${rec.truncatedBytes} bytes of torn paxos log tail`);
    const accepted: AcceptedSlot[] = [];
    for (const [slot, a] of rec.state.accepted) accepted.push({ slot, ballot: a.ballot, value: a.value });
    this.opts.checker.onRecovered(ctx.id, rec.state.promised, accepted);
    this.paxos = new MultiPaxos({ id: ctx.id, config: this.opts.config, rng: ctx.rng.fork('paxos'), restored: rec.state });
    this.scheduleTick();
    this.drain();
  }

  valueOf(key: string): KvValue {
    return this.kv.data[key] ?? null;
  }

  private scheduleTick(): void {
    this.ctx.setTimer(this.opts.tickMs, () => {
      this.paxos.tick();
      this.drain();
      this.scheduleTick();
    });
  }

  onMessage(from: NodeId, msg: PaxosKvMsg): void {
    switch (msg.type) {
      case 'paxos':
        this.paxos.handle(from, msg.m);
        break;
      case 'req':
        this.handleRequest(from, msg.client, msg.id, msg.op);
        break;
      case 'res':
      case 'redirect':
        return;
    }
    this.drain();
  }

  /** Runs `f` against the core from outside (nemesis actions); swallows definite errors. */
  act(f: (paxos: MultiPaxos) => void): boolean {
    try {
      f(this.paxos);
      this.drain();
      return true;
    } catch (err) {
      if (err instanceof ClusterkitError && err.definite) return false;
      throw err;
    }
  }

  private handleRequest(from: NodeId, client: NodeId, id: number, op: KvOp): void {
    const redirect = () => this.ctx.send(from, { type: 'redirect', id, leader: this.paxos.leader });
    const ctxKey = `${client}/${id}`;
    try {
      if (op.f === 'read') {
        this.paxos.read(ctxKey);
        this.pendingReads.set(ctxKey, { client, id, key: op.key });
      } else {
        const cmd: Command = { c: client, i: id, op };
        this.paxos.propose(JSON.stringify(cmd));
        this.pendingWrites.add(ctxKey);
      }
    } catch (err) {
      if (err instanceof ClusterkitError && err.definite) redirect();
      else throw err;
    }
  }

  private drain(): void {
    while (!this.syncing && this.paxos.hasReady()) {
      const rd = this.paxos.ready();
      const record = paxosLogRecord(rd);
      if (record) this.ctx.disk.append(PAXOS_LOG_FILE, record);
      for (const om of rd.messages) this.sendPaxos(om.to, om.msg);
      const unsafe = this.opts.unsafeSendBeforeSync === true;
      if (rd.mustSync) {
        if (unsafe) for (const om of rd.afterSync) this.sendPaxos(om.to, om.msg);
        this.syncing = true;
        this.ctx.disk.fsyncAllAsync(() => {
          this.syncing = false;
          this.opts.checker.onDurable(this.ctx.id, rd.persist.promised, rd.persist.accepted);
          if (!unsafe) for (const om of rd.afterSync) this.sendPaxos(om.to, om.msg);
          this.finish(rd);
          this.drain();
        });
        return;
      }
      for (const om of rd.afterSync) this.sendPaxos(om.to, om.msg);
      this.finish(rd);
    }
  }

  /** Sends a core message; one addressed to this node (its own vote) is handed straight back. */
  private sendPaxos(to: NodeId, m: PaxosMsg): void {
    this.opts.checker.onSent(this.ctx.id, m);
    if (to === this.ctx.id) this.paxos.handle(to, m);
    else this.ctx.send(to, { type: 'paxos', m });
  }

  private finish(rd: PaxosReady): void {
    for (const c of rd.persist.chosen) this.opts.checker.onLearned(this.ctx.id, c.slot, c.value);
    for (const c of rd.committed) this.apply(c);
    for (const r of rd.reads) this.readyReads.push(r);
    // A dropped proposal was never made here, but the same request may have been proposed
    // elsewhere (a duplicated or re-sent request): failing it definitely would be wrong. The
    // client is redirected and retries; applying de-duplicates by (client, request id).
    for (const raw of rd.dropped) {
      const cmd = JSON.parse(raw) as Command;
      if (this.pendingWrites.delete(`${cmd.c}/${cmd.i}`)) this.ctx.send(cmd.c, { type: 'redirect', id: cmd.i, leader: this.paxos.leader });
    }
    if (this.paxos.role === 'leader') {
      const b = ballotString(this.paxos.ballot);
      if (b !== this.lastLeaderBallot) this.opts.checker.leaders.add(b);
      this.lastLeaderBallot = b;
    }
    this.serveReads();
  }

  private apply(sv: SlotValue): void {
    if (sv.slot !== this.appliedBelow) {
      this.opts.checker.fail(`${this.ctx.id} applied slot ${sv.slot} out of order (expected ${this.appliedBelow})`);
      return;
    }
    this.appliedBelow++;
    if (sv.value.kind === 'noop') return;
    for (const raw of sv.value.cmds) this.applyCommand(JSON.parse(raw) as Command);
  }

  private applyCommand(cmd: Command): void {
    const key = `${cmd.c}/${cmd.i}`;
    const outcome = applyRegisterCommand(this.kv, cmd);
    if (this.pendingWrites.delete(key)) this.ctx.send(cmd.c, { type: 'res', id: cmd.i, outcome });
  }

  private serveReads(): void {
    if (this.readyReads.length === 0) return;
    const rest: { context: string; slot: number }[] = [];
    for (const r of this.readyReads) {
      if (r.slot >= this.appliedBelow) {
        rest.push(r);
        continue;
      }
      const p = this.pendingReads.get(r.context);
      if (!p) continue;
      this.pendingReads.delete(r.context);
      this.ctx.send(p.client, { type: 'res', id: p.id, outcome: { type: 'ok', value: this.kv.data[p.key] ?? null } });
    }
    this.readyReads = rest;
  }
}

/** A client node of this register (see kv-client.ts). */
export class PaxosKvClient extends LeaderKvClient {}

export const paxosKvDriver: (clientOf: (process: number) => PaxosKvClient | undefined) => KvClientDriver = leaderKvDriver;
