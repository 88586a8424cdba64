/**
 * Virtual time for simulator tests of the registry and its clients: a Clock and Timers whose
 * time only moves on `advance`, firing due timers in deadline order and letting the promises
 * they start settle between firings (the registry's store calls are async).
 * Leaves out: network and disk models (see sim/); this is the clock half of a host.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.ts';

interface Pending {
  readonly id: number;
  readonly atMs: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Lets queued promise callbacks (and the I/O-free work they chain) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class VirtualTime implements Clock, Timers {
  private t: number;
  private nextId = 1;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { id, atMs: this.t + Math.max(0, delayMs), seq: this.seq++, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }

  get timersPending(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError(`VirtualTime cannot go backwards (advance ${ms} ms)`);
    const end = this.t + ms;
    await settle();
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending.values()) {
        if (p.atMs <= end && (next === undefined || p.atMs < next.atMs || (p.atMs === next.atMs && p.seq < next.seq))) next = p;
      }
      if (next === undefined) break;
      this.pending.delete(next.id);
      this.t = Math.max(this.t, next.atMs);
      next.callback();
      await settle();
    }
    this.t = end;
    await settle();
  }
}
