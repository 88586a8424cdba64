/**
 * The nemesis: a fault schedule drawn from the simulator's seed (Jepsen's nemesis, TigerBeetle's
 * VOPR swarm). While started it injects faults at exponentially distributed intervals, each
 * lasting a random time, and heals them: partitions (isolate one node, majority/minority split,
 * random halves, one-way blocks, a "bridge" where one node sees both sides), swizzle-clog (clog
 * nodes one at a time, then unclog them in random order: FoundationDB), crash and restart
 * (unsynced disk writes may be lost), pause and resume, bursts of message loss, duplication
 * and reordering, and protocol-specific actions supplied by the caller (membership changes,
 * leadership transfers). `healAll()` ends every fault, for the liveness phase.
 */
import { assert } from '../core/assert.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { Simulator } from './simulator.ts';

export type FaultKind = 'partition' | 'clog' | 'crash' | 'pause' | 'loss' | 'duplicate' | 'reorder';

export const ALL_FAULTS: readonly FaultKind[] = ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'];

export interface CustomAction {
  name: string;
  /** Relative weight among all enabled fault kinds and actions (each built-in kind weighs 1). */
  weight: number;
  run(rng: Rng): void;
}

export interface NemesisConfig {
  /** Nodes the nemesis may touch (servers; leave clients out). Default: every node. */
  targets?: readonly NodeId[];
  faults: readonly FaultKind[];
  custom?: readonly CustomAction[];
  /** Mean time between fault injections, ms. */
  meanIntervalMs: number;
  /** Fault duration, ms (uniform). */
  durationMs: { min: number; max: number };
  /** At most this many target nodes crashed or paused at once. Default: all but one. */
  downMax?: number;
  /** Loss rate range for loss bursts. */
  lossRate?: { min: number; max: number };
}

interface ActiveFault {
  kind: string;
  heal: () => void;
}

export class Nemesis<M> {
  private readonly sim: Simulator<M>;
  private readonly cfg: NemesisConfig;
  private readonly rng: Rng;
  private readonly targets: NodeId[];
  private running = false;
  private readonly active = new Set<ActiveFault>();
  private readonly baseline: { loss: number; dup: number; reorder: number };
  /** Log of injected faults: [virtual ms, description]. */
  readonly log: [number, string][] = [];
  private readonly downMax: number;

  constructor(sim: Simulator<M>, cfg: NemesisConfig) {
    assert(cfg.meanIntervalMs > 0, 'nemesis meanIntervalMs must be > 0');
    assert(cfg.durationMs.max >= cfg.durationMs.min && cfg.durationMs.min >= 0, 'nemesis durationMs must have 0 <= min <= max');
    this.sim = sim;
    this.cfg = cfg;
    this.rng = sim.rng.fork('nemesis');
    this.targets = [...(cfg.targets ?? sim.nodeIds())];
    assert(this.targets.length > 0, 'nemesis needs at least one target node');
    this.downMax = cfg.downMax ?? Math.max(0, this.targets.length - 1);
    const net = sim.network;
    this.baseline = { loss: net.lossRate, dup: net.duplicateRate, reorder: net.reorderRate };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
  }

  /** Ends every active fault and restores the baseline network. */
  healAll(): void {
    for (const f of [...this.active]) {
      f.heal();
      this.active.delete(f);
    }
    this.sim.heal();
    for (const id of this.sim.nodeIds()) {
      if (this.sim.isClogged(id)) this.sim.unclog(id);
      if (this.sim.isPaused(id)) this.sim.resume(id);
    }
    for (const id of this.targets) if (!this.sim.isUp(id)) this.sim.restart(id);
    this.sim.setLossRate(this.baseline.loss);
    this.sim.setDuplicateRate(this.baseline.dup);
    this.sim.setReorderRate(this.baseline.reorder);
    this.note('heal-all');
  }

  private note(what: string): void {
    this.log.push([this.sim.now(), what]);
    this.sim.trace(`nemesis ${what}`);
  }

  private scheduleNext(): void {
    const delay = this.rng.exponential(this.cfg.meanIntervalMs);
    this.sim.schedule(delay, () => {
      if (!this.running) return;
      this.injectOne();
      this.scheduleNext();
    });
  }

  private duration(): number {
    const d = this.cfg.durationMs;
    return d.min + this.rng.float() * (d.max - d.min);
  }

  private downCount(): number {
    return this.targets.filter((id) => !this.sim.isUp(id) || this.sim.isPaused(id)).length;
  }

  private injectOne(): void {
    const choices: { name: string; weight: number; run: () => void }[] = [];
    for (const kind of this.cfg.faults) choices.push({ name: kind, weight: 1, run: () => this.inject(kind) });
    for (const c of this.cfg.custom ?? []) choices.push({ name: c.name, weight: c.weight, run: () => c.run(this.rng) });
    const total = choices.reduce((s, c) => s + c.weight, 0);
    if (total <= 0) return;
    let r = this.rng.float() * total;
    for (const c of choices) {
      r -= c.weight;
      if (r < 0) {
        if (!this.builtIn(c.name)) this.note(`custom ${c.name}`);
        c.run();
        return;
      }
    }
  }

  private builtIn(name: string): boolean {
    return (ALL_FAULTS as readonly string[]).includes(name);
  }

  private addFault(kind: string, heal: () => void): void {
    const f: ActiveFault = { kind, heal };
    this.active.add(f);
    this.sim.schedule(this.duration(), () => {
      if (!this.active.has(f)) return;
      this.active.delete(f);
      heal();
    });
  }

  private inject(kind: FaultKind): void {
    const sim = this.sim;
    const rng = this.rng;
    switch (kind) {
      case 'partition': {
        const ids = rng.shuffle(this.targets);
        const shape = rng.int(4);
        if (ids.length < 2) return;
        if (shape === 0) {
          // Isolate one node.
          const [lone, ...rest] = ids;
          sim.partition([[lone as NodeId], rest]);
          this.note(`partition isolate ${lone}`);
        } else if (shape === 1) {
          // Majority / minority, or random halves.
          const cut = 1 + rng.int(ids.length - 1);
          sim.partition([ids.slice(0, cut), ids.slice(cut)]);
          this.note(`partition ${ids.slice(0, cut).join(',')} | ${ids.slice(cut).join(',')}`);
        } else if (shape === 2) {
          // One-way: a random node cannot send to another.
          const [a, b] = ids as [NodeId, NodeId];
          sim.blockLink(a, b);
          this.note(`block ${a}>${b}`);
        } else {
          // Bridge: two sides that only one node can see both of.
          const bridge = ids[0] as NodeId;
          const rest = ids.slice(1);
          const cut = Math.max(1, Math.floor(rest.length / 2));
          const left = rest.slice(0, cut);
          const right = rest.slice(cut);
          sim.heal();
          for (const a of left) for (const b of right) {
            sim.blockLink(a, b);
            sim.blockLink(b, a);
          }
          this.note(`bridge ${bridge}: ${left.join(',')} | ${right.join(',')}`);
        }
        this.addFault('partition', () => {
          sim.heal();
          this.note('heal partition');
        });
        return;
      }
      case 'clog': {
        // Swizzle-clog: clog up to all targets one at a time, then unclog in random order.
        const order = rng.shuffle(this.targets).slice(0, 1 + rng.int(this.targets.length));
        const step = Math.max(1, this.duration() / (2 * order.length));
        order.forEach((id, i) => {
          sim.schedule(step * i, () => {
            if (this.running || this.active.size > 0) sim.clog(id);
          });
        });
        const unclogOrder = rng.shuffle(order);
        const fault: ActiveFault = {
          kind: 'clog',
          heal: () => {
            for (const id of order) if (sim.isClogged(id)) sim.unclog(id);
          },
        };
        this.active.add(fault);
        const start = step * order.length;
        unclogOrder.forEach((id, i) => {
          sim.schedule(start + step * (i + 1), () => {
            if (sim.isClogged(id)) sim.unclog(id);
            if (i === unclogOrder.length - 1) this.active.delete(fault);
          });
        });
        this.note(`swizzle-clog ${order.join(',')} then unclog ${unclogOrder.join(',')}`);
        return;
      }
      case 'crash': {
        if (this.downCount() >= this.downMax) return;
        const up = this.targets.filter((id) => sim.isUp(id));
        if (up.length === 0) return;
        const id = rng.pick(up);
        sim.crash(id);
        this.note(`crash ${id}`);
        this.addFault('crash', () => {
          sim.restart(id);
          this.note(`restart ${id}`);
        });
        return;
      }
      case 'pause': {
        if (this.downCount() >= this.downMax) return;
        const up = this.targets.filter((id) => sim.isUp(id) && !sim.isPaused(id));
        if (up.length === 0) return;
        const id = rng.pick(up);
        sim.pause(id);
        this.note(`pause ${id}`);
        this.addFault('pause', () => {
          sim.resume(id);
          this.note(`resume ${id}`);
        });
        return;
      }
      case 'loss': {
        const range = this.cfg.lossRate ?? { min: 0.05, max: 0.3 };
        const p = range.min + rng.float() * (range.max - range.min);
        sim.setLossRate(p);
        this.note(`loss ${p.toFixed(3)}`);
        this.addFault('loss', () => sim.setLossRate(this.baseline.loss));
        return;
      }
      case 'duplicate': {
        const p = 0.05 + rng.float() * 0.25;
        sim.setDuplicateRate(p);
        this.note(`duplicate ${p.toFixed(3)}`);
        this.addFault('duplicate', () => sim.setDuplicateRate(this.baseline.dup));
        return;
      }
      case 'reorder': {
        const p = 0.1 + rng.float() * 0.4;
        sim.setReorderRate(p);
        this.note(`reorder ${p.toFixed(3)}`);
        this.addFault('reorder', () => sim.setReorderRate(this.baseline.reorder));
        return;
      }
    }
  }
}
