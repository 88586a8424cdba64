/**
 * Time. A `Clock` reads the current time in milliseconds (a float; sub-millisecond precision
 * where the host has it). Protocol cores never read a clock: they are driven by `tick()` calls
 * or receive `now` as an argument. Hosts and services read time through this interface, so the
 * simulator can hand them virtual time.
 */

export interface Clock {
  /** Milliseconds since an arbitrary epoch fixed for the clock's lifetime. Monotonic. */
  now(): number;
}

/** Timers scheduled against a clock. Implemented by the simulator and by the real runtime. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

/** Wall-clock time from `performance.now()`, monotonic, ms. */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }
}

/** Real timers on the Node event loop. */
export class RealTimers implements Timers {
  private nextId = 1;
  private readonly handles = new Map<number, ReturnType<typeof setTimeout>>();
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const h = setTimeout(() => {
      this.handles.delete(id);
      callback();
    }, Math.max(0, delayMs));
    this.handles.set(id, h);
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    const h = this.handles.get(handle.id);
    if (h !== undefined) {
      clearTimeout(h);
      this.handles.delete(handle.id);
    }
  }
}

/**
 * A clock that only moves when told to. Used by unit tests of code that reads a `Clock`;
 * the simulator has its own event-driven virtual time (`sim/`).
 */
export class ManualClock implements Clock {
  private t: number;
  constructor(startMs = 0) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`ManualClock cannot go backwards (advance ${ms} ms)`);
    this.t += ms;
  }
  set(ms: number): void {
    if (ms < this.t) throw new RangeError(`ManualClock cannot go backwards (${this.t} -> ${ms} ms)`);
    this.t = ms;
  }
}
