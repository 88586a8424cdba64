/**
 * Hosting for the overlay cores (seed 04.4): every core is sans-IO, with the same small shape
 * (`handleMessage`, `tick`, `drain`), so one simulator adapter (`OverlaySimNode`) and one
 * in-memory harness (`DirectNetwork`, for benchmarks with thousands of nodes) host all of
 * them. Overlay state is soft state: nothing is persisted, and a restarted node is a fresh
 * node that joins again through its bootstrap peers.
 */
import type { TimerHandle } from '../core/clock.ts';
import type { NodeId } from '../core/ids.ts';
import type { SimContext, SimNode } from '../sim/types.ts';

export interface Outgoing<M> {
  readonly to: NodeId;
  readonly msg: M;
}

/** The contract every overlay core implements. */
export interface OverlayCore<M> {
  readonly address: NodeId;
  /** Input: one delivered message. */
  handleMessage(from: NodeId, msg: M): void;
  /** Input: one logical clock tick (the host decides how long a tick is). */
  tick(): void;
  /** Output: messages to send, oldest first; the queue is emptied. */
  drain(): Outgoing<M>[];
}

export interface OverlaySimOptions<M, C extends OverlayCore<M>> {
  /** Builds a fresh core at every (re)start. */
  create(ctx: SimContext<M>): C;
  /** Virtual ms per tick. */
  tickMs: number;
  /** Called once per start, after create (e.g. to join). */
  onStart?: (core: C) => void;
}

/** Hosts an overlay core in the simulator: a timer per tick, messages in and out. */
export class OverlaySimNode<M, C extends OverlayCore<M>> implements SimNode<M> {
  private ctx: SimContext<M> | undefined;
  private instance: C | undefined;
  private timer: TimerHandle | undefined;
  private readonly opts: OverlaySimOptions<M, C>;

  constructor(opts: OverlaySimOptions<M, C>) {
    this.opts = opts;
  }

  get core(): C | undefined {
    return this.instance;
  }

  start(ctx: SimContext<M>): void {
    this.ctx = ctx;
    this.instance = this.opts.create(ctx);
    this.opts.onStart?.(this.instance);
    this.pump();
    const loop = (): void => {
      this.instance?.tick();
      this.pump();
      this.timer = ctx.setTimer(this.opts.tickMs, loop);
    };
    // Desynchronise ticks across nodes.
    this.timer = ctx.setTimer(ctx.rng.float() * this.opts.tickMs, loop);
  }

  onMessage(from: NodeId, msg: M): void {
    this.instance?.handleMessage(from, msg);
    this.pump();
  }

  /** Runs a client call on the core and sends what it produced. */
  act<R>(fn: (core: C) => R): R | undefined {
    if (this.instance === undefined) return undefined;
    const r = fn(this.instance);
    this.pump();
    return r;
  }

  private pump(): void {
    const ctx = this.ctx;
    if (ctx === undefined || this.instance === undefined) return;
    for (const o of this.instance.drain()) ctx.send(o.to, o.msg);
  }

  stop(): void {
    if (this.timer !== undefined) this.ctx?.clearTimer(this.timer);
  }
}

/**
 * A lossless, instantaneous in-memory network for measurements on large overlays: messages go
 * into one FIFO queue and are delivered in order; ticks are global rounds. Down nodes drop what
 * they receive. Counts every delivered message.
 */
export class DirectNetwork<M, C extends OverlayCore<M>> {
  readonly nodes = new Map<NodeId, C>();
  readonly down = new Set<NodeId>();
  private readonly queue: { from: NodeId; to: NodeId; msg: M }[] = [];
  private head = 0;
  delivered = 0;
  /** Upper bound on deliveries per `settle` call, against livelock. */
  readonly settleMessagesMax: number;

  constructor(settleMessagesMax = 50_000_000) {
    this.settleMessagesMax = settleMessagesMax;
  }

  add(core: C): void {
    this.nodes.set(core.address, core);
  }

  /** Collects the outgoing messages of one core. */
  collect(core: C): void {
    for (const o of core.drain()) this.queue.push({ from: core.address, to: o.to, msg: o.msg });
  }

  /** Delivers until no message is left. */
  settle(): void {
    let n = 0;
    while (this.head < this.queue.length) {
      const e = this.queue[this.head++];
      if (e === undefined) break;
      if (this.head > 100_000) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      const core = this.nodes.get(e.to);
      if (core === undefined || this.down.has(e.to)) continue;
      this.delivered++;
      core.handleMessage(e.from, e.msg);
      this.collect(core);
      if (++n > this.settleMessagesMax) throw new Error(`DirectNetwork: more than ${this.settleMessagesMax} messages in one settle`);
    }
    this.queue.length = 0;
    this.head = 0;
  }

  /** One round: every up node ticks, then everything is delivered. */
  round(): void {
    for (const [id, core] of this.nodes) {
      if (this.down.has(id)) continue;
      core.tick();
      this.collect(core);
    }
    this.settle();
  }
}
