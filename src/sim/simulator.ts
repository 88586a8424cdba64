/**
 * A deterministic discrete-event simulator in one thread (after FoundationDB's simulation and
 * TigerBeetle's VOPR). Virtual time in milliseconds; every event is ordered by (time, seq), and
 * every random choice comes from one seeded stream forked per purpose, so the same seed gives
 * a bit-identical run. `traceHash()` fingerprints a run for determinism tests.
 *
 * Faults: per-message loss, duplication and reordering; one-way link blocks and group
 * partitions (messages dropped); clogging (messages to and from a node held back until
 * unclogged, FoundationDB's "swizzle-clog" building block); crash (volatile state lost,
 * unsynced disk writes subject to the disk model), restart, pause/resume (a starved process:
 * its messages and timers wait). Invariants registered with `addInvariant` run after every
 * event; a violation throws `SimFailure` carrying the seed and a replay command.
 *
 * Left out: bandwidth and message-size-dependent latency; clock skew between nodes (each node
 * sees the simulator's time; protocols that need skew tests inject it themselves).
 */
import { createHash, type Hash } from 'node:crypto';
import { assert } from '../core/assert.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { NodeId } from '../core/ids.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { DEFAULT_DISK_CONFIG, type DiskConfig, SimDiskImpl } from './disk.ts';
import { EventHeap } from './heap.ts';
import {
  DEFAULT_NETWORK_CONFIG,
  type LatencyModel,
  type NetworkConfig,
  normalizeLatency,
  sampleLatency,
  validateNetworkConfig,
} from './network.ts';
import type { SimContext, SimNode, SimNodeFactory } from './types.ts';

/** An invariant: throws, or returns a description of the violation; returns nothing when it holds. */
// biome-ignore lint/suspicious/noConfusingVoidType: a check that only throws returns void
export type InvariantCheck = () => string | undefined | void;

export type TraceLevel = 'off' | 'events' | 'full';

export interface SimulatorOptions {
  seed: number;
  network?: Partial<NetworkConfig>;
  disk?: Partial<DiskConfig>;
  /** 'events' hashes event kinds and endpoints; 'full' also hashes message bodies (JSON). */
  trace?: TraceLevel;
  /** How many recent trace lines to keep for failure reports. */
  traceTailMax?: number;
  /** Command that replays this run; printed in failure messages. */
  replayCommand?: string;
}

type SimEvent<M> =
  | { kind: 'deliver'; time: number; seq: number; from: NodeId; to: NodeId; msg: M; copy: boolean }
  | { kind: 'timer'; time: number; seq: number; node: NodeId; incarnation: number; id: number; cb: () => void; cancelled: boolean }
  | { kind: 'fsync'; time: number; seq: number; node: NodeId; incarnation: number; cb: () => void }
  | { kind: 'external'; time: number; seq: number; fn: () => void };

interface NodeSlot<M> {
  id: NodeId;
  factory: SimNodeFactory<M>;
  instance: SimNode<M> | undefined;
  up: boolean;
  paused: boolean;
  clogged: boolean;
  incarnation: number;
  disk: SimDiskImpl;
  timers: Map<number, SimEvent<M> & { kind: 'timer' }>;
  deferred: SimEvent<M>[];
}

/** A safety or liveness failure in a simulation run. The message carries seed and replay. */
export class SimFailure extends Error {
  override readonly name = 'SimFailure';
  readonly seed: number;
  readonly timeMs: number;
  readonly traceTail: readonly string[];
  constructor(seed: number, timeMs: number, detail: string, replay: string | undefined, traceTail: readonly string[]) {
    super(`${detail}\n  seed: ${seed} (virtual time ${timeMs.toFixed(3)} ms)${replay ? `\n  replay: ${replay}` : ''}`);
    this.seed = seed;
    this.timeMs = timeMs;
    this.traceTail = traceTail;
  }
}

export interface SimStats {
  events: number;
  messagesSent: number;
  messagesDelivered: number;
  droppedLoss: number;
  droppedPartition: number;
  droppedDown: number;
  duplicated: number;
  reordered: number;
  timersFired: number;
  crashes: number;
  restarts: number;
}

export class Simulator<M> {
  readonly seed: number;
  /** Root random stream; fork it for your own purposes (`sim.rng.fork('workload')`). */
  readonly rng: Rng;
  private readonly netRng: Rng;
  private readonly diskRng: Rng;
  private readonly net: NetworkConfig;
  private readonly diskConfig: DiskConfig;
  private readonly heap = new EventHeap<SimEvent<M>>();
  private readonly slots = new Map<NodeId, NodeSlot<M>>();
  private readonly blocked = new Set<string>();
  private readonly linkLatency = new Map<string, LatencyModel>();
  private readonly fifoLast = new Map<string, number>();
  private clogHeld: (SimEvent<M> & { kind: 'deliver' })[] = [];
  private readonly invariants: { name: string; check: InvariantCheck }[] = [];
  private nowMs = 0;
  private seq = 0;
  private nextTimerId = 1;
  private readonly traceLevel: TraceLevel;
  private readonly hash: Hash;
  /** Ring buffer of the most recent trace lines. */
  private readonly traceTail: string[] = [];
  private traceTailNext = 0;
  private readonly traceTailMax: number;
  private readonly replayCommand: string | undefined;
  readonly stats: SimStats = {
    events: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedDown: 0,
    duplicated: 0,
    reordered: 0,
    timersFired: 0,
    crashes: 0,
    restarts: 0,
  };

  constructor(options: SimulatorOptions) {
    this.seed = options.seed;
    this.rng = createRng(options.seed);
    this.netRng = this.rng.fork('network');
    this.diskRng = this.rng.fork('disk');
    this.net = { ...DEFAULT_NETWORK_CONFIG, ...options.network };
    validateNetworkConfig(this.net);
    this.diskConfig = { ...DEFAULT_DISK_CONFIG, ...options.disk };
    this.traceLevel = options.trace ?? 'events';
    this.traceTailMax = options.traceTailMax ?? 200;
    this.replayCommand = options.replayCommand;
    this.hash = createHash('sha256');
  }

  // ---------------------------------------------------------------- nodes

  addNode(id: NodeId, factory: SimNodeFactory<M>): void {
    assert(!this.slots.has(id), `node ${id} already exists`);
    const slot: NodeSlot<M> = {
      id,
      factory,
      instance: undefined,
      up: false,
      paused: false,
      clogged: false,
      incarnation: 0,
      disk: new SimDiskImpl(this.diskConfig),
      timers: new Map(),
      deferred: [],
    };
    this.slots.set(id, slot);
    this.boot(slot);
  }

  /** The running instance of a node, or undefined while it is crashed. */
  node(id: NodeId): SimNode<M> | undefined {
    return this.slots.get(id)?.instance;
  }

  nodeIds(): NodeId[] {
    return [...this.slots.keys()];
  }

  isUp(id: NodeId): boolean {
    return this.slots.get(id)?.up ?? false;
  }

  isPaused(id: NodeId): boolean {
    return this.slots.get(id)?.paused ?? false;
  }

  isClogged(id: NodeId): boolean {
    return this.slots.get(id)?.clogged ?? false;
  }

  /** The node's disk (for checkers and fault injection). */
  disk(id: NodeId): SimDiskImpl {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    return slot.disk;
  }

  private boot(slot: NodeSlot<M>): void {
    slot.incarnation++;
    slot.up = true;
    slot.paused = false;
    const incarnation = slot.incarnation;
    const instance = slot.factory(slot.id);
    slot.instance = instance;
    slot.disk.asyncFsync = (done) => {
      const lat = this.diskConfig.fsyncLatencyMs;
      const delay = lat.min + this.diskRng.float() * (lat.max - lat.min);
      this.push({ kind: 'fsync', time: this.nowMs + delay, seq: 0, node: slot.id, incarnation, cb: done });
    };
    const ctx = this.makeContext(slot, incarnation);
    this.trace(`boot ${slot.id}#${incarnation}`);
    instance.start(ctx);
  }

  private makeContext(slot: NodeSlot<M>, incarnation: number): SimContext<M> {
    const live = () => slot.up && slot.incarnation === incarnation;
    const rng = this.rng.fork(`node:${slot.id}#${incarnation}`);
    return {
      id: slot.id,
      now: () => this.nowMs,
      rng,
      send: (to, msg) => {
        if (live()) this.send(slot.id, to, msg);
      },
      setTimer: (delayMs, callback) => {
        const id = this.nextTimerId++;
        if (!live()) return { id };
        const ev = {
          kind: 'timer' as const,
          time: this.nowMs + Math.max(0, delayMs),
          seq: 0,
          node: slot.id,
          incarnation,
          id,
          cb: callback,
          cancelled: false,
        };
        slot.timers.set(id, ev);
        this.push(ev);
        return { id };
      },
      clearTimer: (handle: TimerHandle) => {
        const ev = slot.timers.get(handle.id);
        if (ev !== undefined) {
          ev.cancelled = true;
          slot.timers.delete(handle.id);
        }
      },
      disk: slot.disk,
      trace: (event) => {
        if (live()) this.trace(`${slot.id}: ${event}`);
      },
    };
  }

  // ---------------------------------------------------------------- time and events

  now(): number {
    return this.nowMs;
  }

  /** Runs `fn` after `delayMs` of virtual time (outside any node). */
  schedule(delayMs: number, fn: () => void): void {
    this.push({ kind: 'external', time: this.nowMs + Math.max(0, delayMs), seq: 0, fn });
  }

  /** Number of pending events. */
  get pending(): number {
    return this.heap.size;
  }

  private push(ev: SimEvent<M>): void {
    ev.seq = this.seq++;
    this.heap.push(ev);
  }

  /** Processes one event. Returns false when there is none. */
  step(): boolean {
    const ev = this.heap.pop();
    if (ev === undefined) return false;
    assert(ev.time >= this.nowMs, 'simulator time went backwards');
    this.nowMs = ev.time;
    this.stats.events++;
    this.dispatch(ev);
    this.checkInvariants();
    return true;
  }

  /** Runs every event up to now + ms, then sets the clock to now + ms. */
  runFor(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.time > end) break;
      this.step();
    }
    this.nowMs = end;
  }

  /** Runs until `predicate()` holds (checked before and after each event) or `maxMs` passes. */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    const end = this.nowMs + maxMs;
    if (predicate()) return true;
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.time > end) {
        this.nowMs = end;
        return predicate();
      }
      this.step();
      if (predicate()) return true;
    }
  }

  private dispatch(ev: SimEvent<M>): void {
    switch (ev.kind) {
      case 'external':
        this.trace('external');
        ev.fn();
        return;
      case 'timer': {
        if (ev.cancelled) return;
        const slot = this.slots.get(ev.node);
        if (slot === undefined || !slot.up || slot.incarnation !== ev.incarnation) return;
        if (slot.paused) {
          slot.deferred.push(ev);
          return;
        }
        slot.timers.delete(ev.id);
        this.stats.timersFired++;
        this.trace(`timer ${ev.node}#${ev.id}`);
        ev.cb();
        return;
      }
      case 'fsync': {
        const slot = this.slots.get(ev.node);
        if (slot === undefined || !slot.up || slot.incarnation !== ev.incarnation) return;
        if (slot.paused) {
          slot.deferred.push(ev);
          return;
        }
        this.trace(`fsync-done ${ev.node}`);
        ev.cb();
        return;
      }
      case 'deliver':
        this.deliver(ev);
        return;
    }
  }

  // ---------------------------------------------------------------- network

  private linkKey(from: NodeId, to: NodeId): string {
    return `${from}>${to}`;
  }

  private send(from: NodeId, to: NodeId, msg: M): void {
    this.stats.messagesSent++;
    if (!this.slots.has(to)) {
      this.stats.droppedDown++;
      this.trace(`drop-unknown ${from}>${to}`);
      return;
    }
    if (this.blocked.has(this.linkKey(from, to))) {
      this.stats.droppedPartition++;
      this.trace(`drop-partition ${from}>${to}`);
      return;
    }
    if (this.netRng.chance(this.net.lossRate)) {
      this.stats.droppedLoss++;
      this.trace(`drop-loss ${from}>${to}`);
      return;
    }
    this.enqueueDelivery(from, to, msg, false);
    if (this.netRng.chance(this.net.duplicateRate)) {
      this.stats.duplicated++;
      this.enqueueDelivery(from, to, msg, true);
    }
  }

  private enqueueDelivery(from: NodeId, to: NodeId, msg: M, copy: boolean): void {
    const key = this.linkKey(from, to);
    const model = this.linkLatency.get(key) ?? normalizeLatency(this.net.latencyMs);
    let delay = sampleLatency(model, this.netRng);
    if (!this.net.fifo && this.netRng.chance(this.net.reorderRate)) {
      this.stats.reordered++;
      delay += this.netRng.float() * this.net.reorderDelayMaxMs;
    }
    let time = this.nowMs + delay;
    if (this.net.fifo) {
      time = Math.max(time, this.fifoLast.get(key) ?? 0);
      this.fifoLast.set(key, time);
    }
    this.push({ kind: 'deliver', time, seq: 0, from, to, msg, copy });
  }

  private deliver(ev: SimEvent<M> & { kind: 'deliver' }): void {
    const slot = this.slots.get(ev.to);
    if (slot === undefined || !slot.up || slot.instance === undefined) {
      this.stats.droppedDown++;
      this.trace(`drop-down ${ev.from}>${ev.to}`);
      return;
    }
    if (this.blocked.has(this.linkKey(ev.from, ev.to))) {
      this.stats.droppedPartition++;
      this.trace(`drop-partition ${ev.from}>${ev.to}`);
      return;
    }
    if (slot.clogged || this.slots.get(ev.from)?.clogged) {
      this.clogHeld.push(ev);
      return;
    }
    if (slot.paused) {
      slot.deferred.push(ev);
      return;
    }
    this.stats.messagesDelivered++;
    if (this.traceLevel !== 'off') {
      const body = this.traceLevel === 'full' ? JSON.stringify(ev.msg) : messageType(ev.msg);
      this.trace(`deliver ${ev.from}>${ev.to}${ev.copy ? ' dup' : ''} ${body}`);
    }
    slot.instance.onMessage(ev.from, ev.msg);
  }

  /** Per-link latency override (one direction). */
  setLinkLatency(from: NodeId, to: NodeId, model: LatencyModel): void {
    this.linkLatency.set(this.linkKey(from, to), model);
  }

  setLossRate(p: number): void {
    this.net.lossRate = p;
    validateNetworkConfig(this.net);
  }

  setDuplicateRate(p: number): void {
    this.net.duplicateRate = p;
    validateNetworkConfig(this.net);
  }

  setReorderRate(p: number): void {
    this.net.reorderRate = p;
    validateNetworkConfig(this.net);
  }

  get network(): Readonly<NetworkConfig> {
    return this.net;
  }

  /** Blocks messages from `from` to `to` (one way). */
  blockLink(from: NodeId, to: NodeId): void {
    this.blocked.add(this.linkKey(from, to));
    this.trace(`block ${from}>${to}`);
  }

  unblockLink(from: NodeId, to: NodeId): void {
    this.blocked.delete(this.linkKey(from, to));
    this.trace(`unblock ${from}>${to}`);
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(this.linkKey(from, to));
  }

  /**
   * Splits the nodes into groups that cannot talk to each other (both directions). Nodes not
   * named in any group form one more group together. Replaces any earlier partition or block.
   */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.blocked.clear();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      for (const id of g) groupOf.set(id, i);
    });
    const ids = this.nodeIds();
    for (const a of ids) {
      for (const b of ids) {
        if (a !== b && (groupOf.get(a) ?? -1) !== (groupOf.get(b) ?? -1)) this.blocked.add(this.linkKey(a, b));
      }
    }
    this.trace(`partition ${JSON.stringify(groups)}`);
  }

  /** Removes every partition and link block. */
  heal(): void {
    this.blocked.clear();
    this.trace('heal');
  }

  /** Holds back every message to and from `id` until it is unclogged. */
  clog(id: NodeId): void {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    slot.clogged = true;
    this.trace(`clog ${id}`);
  }

  unclog(id: NodeId): void {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    slot.clogged = false;
    this.trace(`unclog ${id}`);
    const still: (SimEvent<M> & { kind: 'deliver' })[] = [];
    for (const ev of this.clogHeld) {
      if (this.slots.get(ev.to)?.clogged || this.slots.get(ev.from)?.clogged) {
        still.push(ev);
        continue;
      }
      const model = this.linkLatency.get(this.linkKey(ev.from, ev.to)) ?? normalizeLatency(this.net.latencyMs);
      this.push({ ...ev, time: this.nowMs + sampleLatency(model, this.netRng) });
    }
    this.clogHeld = still;
  }

  // ---------------------------------------------------------------- lifecycle faults

  /**
   * Crashes a node: its volatile state and timers are gone, messages to it are dropped while it
   * is down, and its disk loses unsynced writes according to the disk model.
   */
  crash(id: NodeId): void {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    if (!slot.up) return;
    slot.up = false;
    slot.paused = false;
    slot.instance = undefined;
    for (const t of slot.timers.values()) t.cancelled = true;
    slot.timers.clear();
    slot.deferred = [];
    const reports = slot.disk.crash(this.diskRng);
    this.stats.crashes++;
    this.trace(`crash ${id} ${JSON.stringify(reports)}`);
  }

  /** Restarts a crashed node from its durable disk state. */
  restart(id: NodeId): void {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    if (slot.up) return;
    this.stats.restarts++;
    this.boot(slot);
  }

  /** Pauses a node (a starved process): its messages and timers wait until `resume`. */
  pause(id: NodeId): void {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    if (!slot.up) return;
    slot.paused = true;
    this.trace(`pause ${id}`);
  }

  resume(id: NodeId): void {
    const slot = this.slots.get(id);
    assert(slot !== undefined, `unknown node ${id}`);
    if (!slot.paused) return;
    slot.paused = false;
    this.trace(`resume ${id}`);
    const deferred = slot.deferred;
    slot.deferred = [];
    for (const ev of deferred) this.push({ ...ev, time: this.nowMs });
  }

  // ---------------------------------------------------------------- invariants and trace

  /** Registers a check run after every event: throw, or return a string, on violation. */
  addInvariant(name: string, check: InvariantCheck): void {
    this.invariants.push({ name, check });
  }

  private checkInvariants(): void {
    for (const inv of this.invariants) {
      let problem: string | undefined;
      try {
        const r = inv.check();
        if (typeof r === 'string') problem = r;
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      if (problem !== undefined) throw this.failure(`invariant "${inv.name}" violated: ${problem}`);
    }
  }

  /** Builds a SimFailure for this run (seed, time, replay command, recent trace). */
  failure(detail: string): SimFailure {
    return new SimFailure(this.seed, this.nowMs, detail, this.replayCommand, this.recentTrace());
  }

  trace(line: string): void {
    if (this.traceLevel === 'off') return;
    const full = `${this.nowMs.toFixed(6)} ${line}`;
    this.hash.update(full);
    this.hash.update('\n');
    if (this.traceTail.length < this.traceTailMax) this.traceTail.push(full);
    else {
      this.traceTail[this.traceTailNext] = full;
      this.traceTailNext = (this.traceTailNext + 1) % this.traceTailMax;
    }
  }

  /** SHA-256 of every trace line so far (hex). Same seed, same code: same hash. */
  traceHash(): string {
    return this.hash.copy().digest('hex');
  }

  /** The most recent trace lines, oldest first. */
  recentTrace(): string[] {
    return [...this.traceTail.slice(this.traceTailNext), ...this.traceTail.slice(0, this.traceTailNext)];
  }
}

function messageType(msg: unknown): string {
  if (typeof msg === 'object' && msg !== null && 'type' in msg) return String((msg as { type: unknown }).type);
  return typeof msg;
}
