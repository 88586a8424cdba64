/**
 * Hosts a SWIM member inside the deterministic simulator (`src/sim`): datagrams and stream
 * messages become simulator messages, the member's `nextDeadlineMs()` becomes one re-armed
 * simulator timer, and its events go to an observer log for checkers. Address = node id. The
 * stream channel is modelled as a message and a reply message (the simulator may lose both,
 * like a TCP connection that times out). SWIM keeps no durable state: a restarted node is a
 * fresh member at incarnation 0 that refutes its own death.
 */
import { unreachable } from '../../core/assert.ts';
import type { TimerHandle } from '../../core/clock.ts';
import type { NodeId } from '../../core/ids.ts';
import type { SimContext, SimNode } from '../../sim/types.ts';
import type { SwimConfig } from './config.ts';
import { type SwimEvent, SwimMember } from './member.ts';

export interface SwimSimMsg {
  readonly type: 'packet' | 'stream' | 'stream-reply';
  readonly bytes: Uint8Array;
}

export interface SwimSimOptions {
  config: SwimConfig;
  /** Seeds to join through at every (re)start; the node's own id is skipped. */
  seeds: readonly NodeId[];
  /** Receives every event, with the observing node. */
  onEvent?: (observer: NodeId, event: SwimEvent) => void;
}

export class SwimSimNode implements SimNode<SwimSimMsg> {
  private ctx: SimContext<SwimSimMsg> | undefined;
  private swim: SwimMember | undefined;
  private timer: TimerHandle | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private readonly opts: SwimSimOptions;

  constructor(opts: SwimSimOptions) {
    this.opts = opts;
  }

  /** The hosted member (undefined before start). */
  get member(): SwimMember | undefined {
    return this.swim;
  }

  start(ctx: SimContext<SwimSimMsg>): void {
    this.ctx = ctx;
    this.swim = new SwimMember({ name: ctx.id, address: ctx.id, config: this.opts.config, rng: ctx.rng, nowMs: ctx.now() });
    this.swim.join(this.opts.seeds.filter((s) => s !== ctx.id));
    this.pump();
  }

  onMessage(from: NodeId, msg: SwimSimMsg): void {
    const ctx = this.ctx;
    const m = this.swim;
    if (ctx === undefined || m === undefined) return;
    m.tick(ctx.now());
    switch (msg.type) {
      case 'packet':
        m.handlePacket(from, msg.bytes);
        break;
      case 'stream': {
        const reply = m.handleStream(from, msg.bytes);
        if (reply !== undefined) ctx.send(from, { type: 'stream-reply', bytes: reply });
        break;
      }
      case 'stream-reply':
        m.handleStream(from, msg.bytes);
        break;
      default:
        unreachable(msg.type, 'swim sim message');
    }
    this.pump();
  }

  /** Graceful leave from a test or nemesis action. */
  leave(): void {
    this.swim?.leave();
    this.pump();
  }

  private pump(): void {
    const ctx = this.ctx;
    const m = this.swim;
    if (ctx === undefined || m === undefined) return;
    for (const out of m.drainOutgoing()) ctx.send(out.to, { type: out.channel === 'packet' ? 'packet' : 'stream', bytes: out.bytes });
    const onEvent = this.opts.onEvent;
    for (const e of m.drainEvents()) onEvent?.(ctx.id, e);
    const next = m.nextDeadlineMs();
    if (!Number.isFinite(next) || (this.timer !== undefined && next >= this.timerAtMs)) return;
    if (this.timer !== undefined) ctx.clearTimer(this.timer);
    this.timerAtMs = next;
    this.timer = ctx.setTimer(Math.max(0, next - ctx.now()), () => {
      this.timer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      m.tick(ctx.now());
      this.pump();
    });
  }
}
