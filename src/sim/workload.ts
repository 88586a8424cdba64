/**
 * A Jepsen-style client workload for key-value systems in the simulator. `clients` logical
 * processes each run one operation at a time (read, write or cas on a few keys), with think
 * time between them, and record every invoke and completion in a history for the checkers.
 *
 * Write values are unique (a counter), which makes histories easy to check and to read. An
 * operation that gets no answer within `opTimeoutMs` completes as `info` (unknown outcome) and,
 * as in Jepsen, its process is retired: the client continues under a new process number
 * (`process + clients`), because a process with an operation in doubt must not issue another.
 */
import { assert } from '../core/assert.ts';
import type { Rng } from '../core/rng.ts';
import type { History, HistoryEvent, KvValue, OpFunction } from './history.ts';
import type { Simulator } from './simulator.ts';

export interface KvOp {
  f: OpFunction;
  key: string;
  /** write: value; cas: [from, to]; read: null. */
  value: KvValue | [KvValue, KvValue];
}

export type KvOutcome =
  | { type: 'ok'; value?: KvValue }
  /** The operation definitely did not happen (for cas: the compare did not hold). */
  | { type: 'fail'; error: string }
  /** Unknown outcome. */
  | { type: 'info'; error: string };

/** How the workload talks to the system under test. Call `done` exactly once per invoke. */
export interface KvClientDriver {
  invoke(process: number, op: KvOp, done: (outcome: KvOutcome) => void): void;
}

export interface KvWorkloadOptions {
  clients: number;
  keys: number;
  /** Total operations to invoke. */
  opsMax: number;
  /** Mean think time between a process's operations, ms. */
  thinkMeanMs: number;
  opTimeoutMs: number;
  /** Relative weights of read, write and cas. */
  mix: { read: number; write: number; cas: number };
}

export const DEFAULT_KV_WORKLOAD: KvWorkloadOptions = {
  clients: 3,
  keys: 3,
  opsMax: 200,
  thinkMeanMs: 20,
  opTimeoutMs: 1000,
  mix: { read: 2, write: 2, cas: 1 },
};

export class KvWorkload<M> {
  private readonly sim: Simulator<M>;
  private readonly driver: KvClientDriver;
  private readonly opts: KvWorkloadOptions;
  private readonly rng: Rng;
  private readonly events: HistoryEvent[] = [];
  private readonly open = new Map<number, HistoryEvent>();
  private invoked = 0;
  private nextValue = 1;
  private stopped = false;
  /** Values written per key, for cas "from" choices that sometimes succeed. */
  private readonly written = new Map<string, number[]>();

  constructor(sim: Simulator<M>, driver: KvClientDriver, options: Partial<KvWorkloadOptions> = {}) {
    this.sim = sim;
    this.driver = driver;
    this.opts = { ...DEFAULT_KV_WORKLOAD, ...options };
    assert(this.opts.clients >= 1 && this.opts.keys >= 1, 'workload needs at least one client and one key');
    this.rng = sim.rng.fork('workload');
  }

  start(): void {
    for (let p = 0; p < this.opts.clients; p++) this.scheduleNext(p);
  }

  /** Stops invoking new operations (outstanding ones still complete). */
  stop(): void {
    this.stopped = true;
  }

  get invokedCount(): number {
    return this.invoked;
  }

  /** True when every invoked operation has completed and no more will be invoked. */
  get finished(): boolean {
    return (this.stopped || this.invoked >= this.opts.opsMax) && this.open.size === 0;
  }

  /** Completed operations so far, by type. */
  counts(): Record<'ok' | 'fail' | 'info', number> {
    const c = { ok: 0, fail: 0, info: 0 };
    for (const e of this.events) if (e.type !== 'invoke') c[e.type]++;
    return c;
  }

  /**
   * The history. Operations still open are closed as `info` at the current time, so the
   * result is always well-formed.
   */
  history(): History {
    const out = this.events.slice();
    for (const inv of this.open.values()) {
      out.push({ ...inv, type: 'info', value: inv.f === 'read' ? null : inv.value, time: this.timeNs(), error: 'still open at end of run' });
    }
    return out;
  }

  private timeNs(): number {
    return Math.round(this.sim.now() * 1e6);
  }

  private scheduleNext(process: number): void {
    if (this.stopped || this.invoked >= this.opts.opsMax) return;
    this.sim.schedule(this.rng.exponential(this.opts.thinkMeanMs), () => this.invokeOne(process));
  }

  private randomOp(): KvOp {
    const { read, write, cas } = this.opts.mix;
    const key = `k${this.rng.int(this.opts.keys)}`;
    const r = this.rng.float() * (read + write + cas);
    if (r < read) return { f: 'read', key, value: null };
    if (r < read + write) {
      const v = this.nextValue++;
      this.remember(key, v);
      return { f: 'write', key, value: v };
    }
    const seen = this.written.get(key) ?? [];
    const from: KvValue = seen.length > 0 && this.rng.chance(0.8) ? this.rng.pick(seen.slice(-3)) : null;
    const to = this.nextValue++;
    this.remember(key, to);
    return { f: 'cas', key, value: [from, to] };
  }

  private remember(key: string, v: number): void {
    const list = this.written.get(key) ?? [];
    list.push(v);
    if (list.length > 8) list.shift();
    this.written.set(key, list);
  }

  private invokeOne(process: number): void {
    if (this.stopped || this.invoked >= this.opts.opsMax) return;
    this.invoked++;
    const op = this.randomOp();
    const inv: HistoryEvent = { process, type: 'invoke', f: op.f, key: op.key, value: op.value, time: this.timeNs() };
    this.events.push(inv);
    this.open.set(process, inv);
    let completed = false;
    const complete = (outcome: KvOutcome) => {
      if (completed) return;
      completed = true;
      this.open.delete(process);
      const ev: HistoryEvent = {
        process,
        type: outcome.type,
        f: op.f,
        key: op.key,
        value: op.f === 'read' ? (outcome.type === 'ok' ? (outcome.value ?? null) : null) : op.value,
        time: this.timeNs(),
      };
      if (outcome.type !== 'ok') ev.error = outcome.error;
      this.events.push(ev);
      // A process whose operation is in doubt is retired (Jepsen): continue as a new process.
      this.scheduleNext(outcome.type === 'info' ? process + this.opts.clients : process);
    };
    this.sim.schedule(this.opts.opTimeoutMs, () => complete({ type: 'info', error: `timeout after ${this.opts.opTimeoutMs} ms` }));
    this.driver.invoke(process, op, complete);
  }
}
