/**
 * Hosts for the three cluster topologies inside the deterministic simulator (`src/sim`):
 * `WorkerNode` (a `WorkerCore`), `CentralMasterNode` (a `MasterCore` whose state is applied at
 * once and fsynced before any worker hears of it), `HybridMasterNode` (a `MasterCore` on the
 * leader of a Raft group: state changes go through the log, hosted the way the Raft KV
 * scenario hosts the core: Ready drained as persist → send → fsync → send-after-sync → apply)
 * and `PeerNode` (a SWIM member plus a `PeerCore`, for the master-less topology).
 *
 * Leaves out: Raft snapshots for the hybrid masters (the log only grows; runs are short).
 */
import type { TimerHandle } from '../core/clock.ts';
import { ClusterkitError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { RaftConfig } from '../consensus/raft/config.ts';
import { Raft, type Ready } from '../consensus/raft/raft.ts';
import type { MemoryStorage } from '../consensus/raft/storage.ts';
import type { ConfState, Entry, Message } from '../consensus/raft/types.ts';
import type { SwimConfig } from '../membership/swim/config.ts';
import { type SwimSimMsg, SwimSimNode } from '../membership/swim/sim.ts';
import type { RaftChecker } from './raft-kv.ts';
import { recoverStorage, WAL_FILE, walEntriesRecord, walHardStateRecord } from './raft-wal.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import { MasterCore } from '../scheduler/master.ts';
import type { WorkerMsg } from '../scheduler/messages.ts';
import { type DocEntry, PeerCore } from '../scheduler/peer.ts';
import { ClusterState, type ClusterStateJson, changeToCommand, type StateCommand } from '../scheduler/state.ts';
import { type Capacity, type DesiredChange, type SchedulerConfig, type TaskId, validateChange } from '../scheduler/types.ts';
import { WorkerCore } from '../scheduler/worker.ts';

export type ClusterMsg =
  | WorkerMsg
  /** `sentMs`: the sender's clock when it sent the message (the leader's quorum freshness uses it). */
  | { readonly type: 'raft'; readonly m: Message; readonly sentMs: number }
  | { readonly type: 'swim'; readonly m: SwimSimMsg }
  | { readonly type: 'doc'; readonly entries: readonly DocEntry[]; readonly reply: boolean };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Something that runs tasks: the checker asks every up node. */
export interface TaskRunner {
  running(nowMs: number): readonly TaskId[];
}

/** Re-arms one timer at the core's next deadline. */
class DeadlineTimer {
  private handle: TimerHandle | undefined;
  private atMs = Number.POSITIVE_INFINITY;

  arm<M>(ctx: SimContext<M>, deadlineMs: number, fire: () => void): void {
    if (!Number.isFinite(deadlineMs) || (this.handle !== undefined && deadlineMs >= this.atMs)) return;
    if (this.handle !== undefined) ctx.clearTimer(this.handle);
    this.atMs = deadlineMs;
    this.handle = ctx.setTimer(Math.max(0, deadlineMs - ctx.now()), () => {
      this.handle = undefined;
      this.atMs = Number.POSITIVE_INFINITY;
      fire();
    });
  }
}

export class WorkerNode implements SimNode<ClusterMsg>, TaskRunner {
  private ctx!: SimContext<ClusterMsg>;
  core!: WorkerCore;
  private readonly timer = new DeadlineTimer();

  constructor(
    private readonly capacity: Capacity,
    private readonly masters: readonly NodeId[],
    private readonly config: SchedulerConfig,
  ) {}

  start(ctx: SimContext<ClusterMsg>): void {
    this.ctx = ctx;
    this.core = new WorkerCore({ id: ctx.id, capacity: this.capacity, masters: this.masters, config: this.config, nowMs: ctx.now() });
    this.core.tick(ctx.now());
    this.pump();
  }

  onMessage(_from: NodeId, msg: ClusterMsg): void {
    if (msg.type !== 'ack') return;
    this.core.handleAck(msg, this.ctx.now());
    this.pump();
  }

  running(nowMs: number): readonly TaskId[] {
    return this.core.running(nowMs);
  }

  private pump(): void {
    for (const o of this.core.drainOutgoing()) this.ctx.send(o.to, o.msg);
    this.timer.arm(this.ctx, this.core.nextDeadlineMs(), () => {
      this.core.tick(this.ctx.now());
      this.pump();
    });
  }
}

const STATE_FILE = 'scheduler.state';

/** The single master of the centralized topology (a one-node Kubernetes control plane). */
export class CentralMasterNode implements SimNode<ClusterMsg> {
  private ctx!: SimContext<ClusterMsg>;
  readonly master: MasterCore;
  state = new ClusterState();
  private epoch = 0;

  /** `unsafeNoFsync`: deliberately broken (never fsyncs), so tests can show the checker catches it. */
  constructor(
    private readonly config: SchedulerConfig,
    private readonly unsafeNoFsync = false,
  ) {
    this.master = new MasterCore(config);
  }

  start(ctx: SimContext<ClusterMsg>): void {
    this.ctx = ctx;
    const bytes = ctx.disk.read(STATE_FILE);
    if (bytes !== undefined) {
      const saved = JSON.parse(dec.decode(bytes)) as { epoch: number; state: ClusterStateJson };
      this.epoch = saved.epoch;
      this.state = ClusterState.fromJson(saved.state);
    }
    this.epoch++;
    this.persist();
    this.master.activate(ctx.now(), this.epoch);
    this.loop();
  }

  private loop(): void {
    this.ctx.setTimer(this.config.scheduleIntervalMs, () => {
      this.commit(this.master.plan(this.ctx.now(), this.state));
      this.loop();
    });
  }

  private commit(cmds: readonly StateCommand[]): void {
    if (cmds.length === 0) return;
    for (const c of cmds) this.state.apply(c);
    this.persist();
  }

  /** State is durable before any worker is told about it. */
  private persist(): void {
    this.ctx.disk.write(STATE_FILE, enc.encode(JSON.stringify({ epoch: this.epoch, state: this.state.toJson() })));
    if (!this.unsafeNoFsync) this.ctx.disk.fsync(STATE_FILE);
  }

  /** The desired-state API: applied and durable when it returns true. */
  submit(change: DesiredChange): boolean {
    validateChange(change);
    this.commit([changeToCommand(change)]);
    return true;
  }

  onMessage(from: NodeId, msg: ClusterMsg): void {
    if (msg.type !== 'hb') return;
    const ack = this.master.handleHeartbeat(from, msg, this.ctx.now(), this.state);
    if (ack !== undefined) this.ctx.send(from, ack);
  }
}

export interface HybridMasterOptions {
  bootstrap: ConfState;
  raft: Partial<RaftConfig>;
  tickMs: number;
  config: SchedulerConfig;
  checker?: RaftChecker;
}

/** One of several masters (Kubernetes HA with stacked etcd, K3s servers with embedded etcd). */
export class HybridMasterNode implements SimNode<ClusterMsg> {
  private ctx!: SimContext<ClusterMsg>;
  raft!: Raft;
  private storage!: MemoryStorage;
  readonly master: MasterCore;
  state = new ClusterState();
  private syncing = false;
  private inflightIndex = 0;
  private lastRole = '';
  private sinceScheduleMs = 0;
  /** peer -> send time of its latest message in this leader's term. */
  private readonly heardInTermMs = new Map<NodeId, number>();
  /** Acks withheld because the leader had not heard from a quorum recently. */
  acksWithheld = 0;

  constructor(private readonly opts: HybridMasterOptions) {
    this.master = new MasterCore(opts.config);
  }

  start(ctx: SimContext<ClusterMsg>): void {
    this.ctx = ctx;
    const rec = recoverStorage(ctx.disk, this.opts.bootstrap);
    this.storage = rec.storage;
    this.raft = new Raft({ id: ctx.id, storage: this.storage, rng: ctx.rng.fork('raft'), config: this.opts.raft });
    this.tickLoop();
    this.drain();
  }

  /** True when this master is the leader and has applied an entry of its own term. */
  get serving(): boolean {
    return this.raft.role === 'leader' && this.raft.log.term(this.raft.log.applied) === this.raft.term;
  }

  private tickLoop(): void {
    this.ctx.setTimer(this.opts.tickMs, () => {
      this.raft.tick();
      this.sinceScheduleMs += this.opts.tickMs;
      if (this.sinceScheduleMs >= this.opts.config.scheduleIntervalMs) {
        this.sinceScheduleMs = 0;
        this.schedule();
      }
      this.drain();
      this.tickLoop();
    });
  }

  private schedule(): void {
    if (!this.master.active) return;
    if (this.inflightIndex > this.raft.log.applied) return;
    const cmds = this.master.plan(this.ctx.now(), this.state);
    if (cmds.length === 0) return;
    if (this.propose(cmds)) this.inflightIndex = this.raft.log.lastIndex();
  }

  private propose(cmds: readonly StateCommand[]): boolean {
    try {
      this.raft.propose(enc.encode(JSON.stringify(cmds)));
      return true;
    } catch (err) {
      if (err instanceof ClusterkitError) return false;
      throw err;
    }
  }

  /** The desired-state API: accepted (proposed) when true; committed once applied. */
  submit(change: DesiredChange): boolean {
    validateChange(change);
    if (!this.master.active) return false;
    const ok = this.propose([changeToCommand(change)]);
    this.drain();
    return ok;
  }

  /**
   * True when a majority (this leader included) sent this leader a message of its term less than
   * `freshMs` ago. Every voter that did so refuses votes for an election timeout after it heard
   * from the leader (CheckQuorum stickiness), so with `freshMs` below the election timeout no
   * other leader can exist now, even if this one was paused or cut off and has not ticked since.
   * The leader acks workers only then: a pause cannot stretch the deposed-leader window.
   */
  quorumFresh(nowMs: number): boolean {
    const freshMs = (this.opts.raft.electionTimeoutTicks ?? 10) * this.opts.tickMs * 0.5;
    let n = 1;
    for (const [peer, at] of this.heardInTermMs) if (peer !== this.ctx.id && nowMs - at < freshMs) n++;
    return 2 * n > this.opts.bootstrap.voters.length;
  }

  onMessage(from: NodeId, msg: ClusterMsg): void {
    if (msg.type === 'raft') {
      const termBefore = this.raft.term;
      this.raft.step(msg.m);
      if (this.raft.term !== termBefore) this.heardInTermMs.clear();
      if (this.raft.role === 'leader' && msg.m.term === this.raft.term) this.heardInTermMs.set(from, Math.max(this.heardInTermMs.get(from) ?? 0, msg.sentMs));
      this.drain();
      return;
    }
    if (msg.type !== 'hb') return;
    const now = this.ctx.now();
    const ack = this.master.handleHeartbeat(from, msg, now, this.state);
    if (ack === undefined) return;
    if (!this.quorumFresh(now)) {
      this.acksWithheld++;
      return;
    }
    this.ctx.send(from, ack);
  }

  private drain(): void {
    while (!this.syncing && this.raft.hasReady()) {
      const rd = this.raft.ready();
      this.persist(rd);
      for (const om of rd.messages) if (!om.afterSync) this.ctx.send(om.message.to, { type: 'raft', m: om.message, sentMs: this.ctx.now() });
      if (rd.mustSync) {
        this.syncing = true;
        this.ctx.disk.fsyncAllAsync(() => {
          this.syncing = false;
          this.finish(rd);
          this.drain();
        });
        return;
      }
      this.finish(rd);
    }
    this.updateRole();
  }

  private persist(rd: Ready): void {
    if (rd.entries.length > 0) {
      this.ctx.disk.append(WAL_FILE, walEntriesRecord(rd.entries));
      this.storage.append(rd.entries);
      this.opts.checker?.onPersist(this.ctx.id, rd.entries, this.storage);
    }
    if (rd.hardState) {
      this.ctx.disk.append(WAL_FILE, walHardStateRecord(rd.hardState));
      this.storage.setHardState(rd.hardState);
    }
  }

  private finish(rd: Ready): void {
    for (const om of rd.messages) if (om.afterSync) this.ctx.send(om.message.to, { type: 'raft', m: om.message, sentMs: this.ctx.now() });
    for (const e of rd.committedEntries) this.apply(e);
    this.raft.advance(rd);
    const checker = this.opts.checker;
    if (checker !== undefined && this.raft.role === 'leader') {
      checker.onLeader(this.ctx.id, this.raft.term);
      if (this.lastRole !== 'leader') checker.onBecomeLeader(this.ctx.id, this.raft);
    }
    this.lastRole = this.raft.role;
  }

  private apply(e: Entry): void {
    this.opts.checker?.onApply(this.ctx.id, e, this.raft.term);
    if (e.type !== 'normal' || e.data.byteLength === 0) return;
    for (const c of JSON.parse(dec.decode(e.data)) as StateCommand[]) this.state.apply(c);
  }

  private updateRole(): void {
    const serving = this.serving;
    if (serving && !this.master.active) {
      this.master.activate(this.ctx.now(), this.raft.term);
      this.inflightIndex = 0;
    } else if (!serving && this.master.active && this.raft.role !== 'leader') {
      this.master.deactivate();
    }
  }
}

const DOC_FILE = 'desired.doc';

/** A peer of the master-less topology: SWIM for membership, rendezvous for ownership. */
export class PeerNode implements SimNode<ClusterMsg>, TaskRunner {
  private ctx!: SimContext<ClusterMsg>;
  readonly swim: SwimSimNode;
  core!: PeerCore;
  private owned: readonly TaskId[] = [];

  constructor(
    swim: SwimConfig,
    seeds: readonly NodeId[],
    private readonly syncIntervalMs: number,
  ) {
    this.swim = new SwimSimNode({ config: swim, seeds });
  }

  start(ctx: SimContext<ClusterMsg>): void {
    this.ctx = ctx;
    this.core = new PeerCore(ctx.id);
    const saved = ctx.disk.read(DOC_FILE);
    if (saved !== undefined) this.core.merge(JSON.parse(dec.decode(saved)) as DocEntry[]);
    const inner: SimContext<SwimSimMsg> = {
      id: ctx.id,
      rng: ctx.rng.fork('swim'),
      disk: ctx.disk,
      now: () => ctx.now(),
      send: (to, m) => ctx.send(to, { type: 'swim', m }),
      setTimer: (delayMs, cb) =>
        ctx.setTimer(delayMs, () => {
          cb();
          this.refresh();
        }),
      clearTimer: (h) => ctx.clearTimer(h),
      trace: (line) => ctx.trace(line),
    };
    this.swim.start(inner);
    this.refresh();
    this.syncLoop();
  }

  /** The peer's live view: members it holds alive or suspect, and itself. */
  liveView(): NodeId[] {
    const m = this.swim.member;
    if (m === undefined) return [this.ctx.id];
    const out = new Set<NodeId>([this.ctx.id]);
    for (const v of m.membersView()) if (v.state === 'alive' || v.state === 'suspect') out.add(v.name);
    return [...out];
  }

  running(): readonly TaskId[] {
    return this.owned;
  }

  /** The desired-state API: any peer accepts a change. */
  submit(change: DesiredChange): boolean {
    const ok = this.core.submit(change);
    if (ok) this.save();
    this.refresh();
    return ok;
  }

  private save(): void {
    this.ctx.disk.write(DOC_FILE, enc.encode(JSON.stringify(this.core.entries())));
    this.ctx.disk.fsync(DOC_FILE);
  }

  private refresh(): void {
    this.owned = this.core.owned(this.liveView());
  }

  private syncLoop(): void {
    this.ctx.setTimer(this.syncIntervalMs, () => {
      const others = this.liveView().filter((id) => id !== this.ctx.id);
      if (others.length > 0) this.ctx.send(this.ctx.rng.pick(others), { type: 'doc', entries: this.core.entries(), reply: true });
      this.syncLoop();
    });
  }

  onMessage(from: NodeId, msg: ClusterMsg): void {
    if (msg.type === 'swim') {
      this.swim.onMessage(from, msg.m);
    } else if (msg.type === 'doc') {
      const before = JSON.stringify(this.core.entries());
      const theyLack = this.core.merge(msg.entries);
      if (JSON.stringify(this.core.entries()) !== before) this.save();
      if (theyLack && msg.reply) this.ctx.send(from, { type: 'doc', entries: this.core.entries(), reply: false });
    }
    this.refresh();
  }
}
