/**
 * The `Balancer`: a set of endpoints with health, passive outlier detection, a panic threshold
 * and slow start, in front of one `Picker` (seed 04.7: the decision every central, per-node and
 * client-side balancer makes). It decides which endpoints are *candidates* and counts active
 * requests; the picker chooses among candidates.
 *
 * Candidates: endpoints that pass active health checks (`setHealthy`) and are not ejected by
 * outlier detection. Panic (Envoy): when fewer than `panicThresholdPercent` (default 50) of the
 * endpoints are candidates, all endpoints are used, because sending load to a possibly
 * unhealthy endpoint beats overloading the few healthy ones. 0 disables panic mode.
 *
 * Time comes from the injected `Clock`: ejections expire and slow-start weights ramp when a
 * pick or a call observes the clock past their deadline. No timers, no IO.
 * Left out: priority levels and locality weighting.
 */
import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { ConfigError } from '../core/errors.ts';
import {
  eject,
  maxEjected,
  newOutlierRecord,
  type OutlierOptions,
  type OutlierRecord,
  type ResolvedOutlierOptions,
  recordFailure,
  recordSuccess,
  resolveOutlierOptions,
  uneject,
} from './outlier.ts';
import { type ResolvedSlowStart, resolveSlowStart, type SlowStartOptions, slowStartFactor } from './slow-start.ts';
import type { CandidateSet, EndpointView, Outcome, Picker, PickRequest } from './types.ts';

export interface EndpointSpec<T> {
  readonly id: string;
  /** Relative weight, > 0. Default 1. */
  readonly weight?: number;
  /** Anything the caller wants back with a pick (an address, a connection pool). */
  readonly data: T;
}

export class BalancedEndpoint<T> implements EndpointView {
  readonly id: string;
  readonly slot: number;
  weight: number;
  effectiveWeight: number;
  active = 0;
  data: T;
  /** Result of active health checks (true until a check says otherwise). */
  healthy = true;
  readonly outlier: OutlierRecord;
  /** When slow start began; -1 when not in slow start. */
  slowStartFromMs = -1;
  /** Requests finished here, by outcome (for status pages and metrics). */
  successes = 0;
  failures = 0;

  constructor(spec: EndpointSpec<T>, slot: number, nowMs: number) {
    this.id = spec.id;
    this.slot = slot;
    this.weight = checkWeight(spec);
    this.effectiveWeight = this.weight;
    this.data = spec.data;
    this.outlier = newOutlierRecord(nowMs);
  }

  get ejected(): boolean {
    return this.outlier.ejectedUntilMs !== 0;
  }
}

function checkWeight(spec: EndpointSpec<unknown>): number {
  const w = spec.weight ?? 1;
  if (!(w > 0 && Number.isFinite(w))) {
    throw new ConfigError(`endpoint ${JSON.stringify(spec.id)}: weight must be a positive number, got ${w}`);
  }
  return w;
}

export type BalancerEvent =
  | { readonly type: 'ejected'; readonly id: string; readonly durationMs: number; readonly timesEjected: number }
  | { readonly type: 'unejected'; readonly id: string }
  | { readonly type: 'health'; readonly id: string; readonly healthy: boolean }
  | { readonly type: 'panic'; readonly panic: boolean };

export interface BalancerOptions {
  readonly picker: Picker;
  readonly clock: Clock;
  /** Below this share of candidate endpoints, use all endpoints. Percent, default 50; 0 = never. */
  readonly panicThresholdPercent?: number;
  /** Passive outlier detection; `false` disables it. Default: enabled with Envoy-like defaults. */
  readonly outlier?: OutlierOptions | false;
  /** Slow start for endpoints added later or recovering from failed health checks. */
  readonly slowStart?: SlowStartOptions;
  /** Called synchronously on ejections, returns, health changes and panic changes. */
  readonly onEvent?: (event: BalancerEvent) => void;
}

/** Steps per slow-start window at which effective weights are recomputed. */
const SLOW_START_STEPS = 20;

export class Balancer<T> {
  readonly picker: Picker;
  private readonly clock: Clock;
  private readonly panicPercent: number;
  private readonly outlier: ResolvedOutlierOptions | undefined;
  private readonly slowStart: ResolvedSlowStart | undefined;
  private readonly onEvent: ((event: BalancerEvent) => void) | undefined;

  private readonly all: BalancedEndpoint<T>[] = [];
  private readonly byId = new Map<string, BalancedEndpoint<T>>();
  private readonly bySlot: (BalancedEndpoint<T> | undefined)[] = [];
  private list: BalancedEndpoint<T>[] = [];
  private candidateFlag: boolean[] = [];
  private generation = 0;
  private membership = 0;
  private dirty = true;
  private nextCheckMs = Number.POSITIVE_INFINITY;
  private panicNow = false;
  private excludeGeneration = 0;
  private readonly candidates: CandidateSet;

  constructor(endpoints: readonly EndpointSpec<T>[], options: BalancerOptions) {
    this.picker = options.picker;
    this.clock = options.clock;
    this.panicPercent = options.panicThresholdPercent ?? 50;
    if (!(this.panicPercent >= 0 && this.panicPercent <= 100)) {
      throw new ConfigError(`panicThresholdPercent must be in 0..100, got ${this.panicPercent}`);
    }
    this.outlier = options.outlier === false ? undefined : resolveOutlierOptions(options.outlier);
    const ss = options.slowStart === undefined ? undefined : resolveSlowStart(options.slowStart);
    this.slowStart = ss !== undefined && ss.windowMs > 0 ? ss : undefined;
    this.onEvent = options.onEvent;
    const self = this;
    this.candidates = {
      get list() {
        return self.list;
      },
      get all() {
        return self.all;
      },
      isCandidate: (slot: number) => this.candidateFlag[slot] === true,
      get generation() {
        return self.generation;
      },
      get membership() {
        return self.membership;
      },
    };
    for (const spec of endpoints) this.addInternal(spec, false);
  }

  /** Every endpoint, in insertion order. */
  endpoints(): readonly BalancedEndpoint<T>[] {
    return this.all;
  }

  get(id: string): BalancedEndpoint<T> | undefined {
    return this.byId.get(id);
  }

  /** Current candidate endpoints (after health, ejection and panic). */
  candidateList(): readonly BalancedEndpoint<T>[] {
    this.refreshIfDue();
    return this.list;
  }

  /** True while fewer than the panic threshold of endpoints are candidates. */
  get panic(): boolean {
    this.refreshIfDue();
    return this.panicNow;
  }

  /** Adds an endpoint; it enters slow start if slow start is configured. */
  add(spec: EndpointSpec<T>): BalancedEndpoint<T> {
    return this.addInternal(spec, true);
  }

  remove(id: string): boolean {
    const e = this.byId.get(id);
    if (e === undefined) return false;
    this.byId.delete(id);
    this.all.splice(this.all.indexOf(e), 1);
    this.bySlot[e.slot] = undefined;
    this.candidateFlag[e.slot] = false;
    this.picker.forget?.(e);
    this.membership++;
    this.dirty = true;
    return true;
  }

  /** Replaces the endpoint set: adds new ids, removes missing ones, updates weights and data. */
  setEndpoints(specs: readonly EndpointSpec<T>[]): void {
    const keep = new Set(specs.map((s) => s.id));
    for (const e of this.all.slice()) if (!keep.has(e.id)) this.remove(e.id);
    for (const spec of specs) {
      const e = this.byId.get(spec.id);
      if (e === undefined) {
        this.add(spec);
        continue;
      }
      const w = checkWeight(spec);
      e.data = spec.data;
      if (w !== e.weight) {
        e.weight = w;
        this.membership++;
        this.dirty = true;
      }
    }
  }

  /**
   * Chooses an endpoint, or `undefined` when there is none to choose (no endpoints, or none
   * eligible with panic mode off). Does not count it as active: call `begin` when the request
   * is sent.
   */
  pick(request: PickRequest = {}): BalancedEndpoint<T> | undefined {
    this.refreshIfDue();
    const list = this.list;
    if (list.length === 0) return undefined;
    const exclude = request.exclude;
    if (exclude !== undefined && exclude.size > 0) {
      const rest = list.filter((e) => !exclude.has(e.slot));
      if (rest.length > 0 && rest.length < list.length) {
        const flags: boolean[] = [];
        for (const e of rest) flags[e.slot] = true;
        const gen = -++this.excludeGeneration;
        const set: CandidateSet = {
          list: rest,
          all: this.all,
          isCandidate: (slot) => flags[slot] === true,
          generation: gen,
          membership: this.membership,
        };
        return this.bySlot[this.picker.pick(set, request).slot];
      }
    }
    const chosen = this.picker.pick(this.candidates, request);
    const e = this.bySlot[chosen.slot];
    assert(e !== undefined && this.candidateFlag[e.slot] === true, `picker ${this.picker.policy} chose a non-candidate`);
    return e;
  }

  /** A request was sent to `e`. */
  begin(e: BalancedEndpoint<T>): void {
    e.active++;
  }

  /** The request on `e` finished; feeds the picker and outlier detection. */
  end(e: BalancedEndpoint<T>, outcome: Outcome, latencyMs: number): void {
    assert(e.active > 0, `end() without begin() on ${e.id}`);
    e.active--;
    this.report(e, outcome, latencyMs);
  }

  /** Reports an outcome without an active count (e.g. a health-check-free passive signal). */
  report(e: BalancedEndpoint<T>, outcome: Outcome, latencyMs: number): void {
    this.picker.observe?.(e, outcome, latencyMs);
    if (outcome === 'success') {
      e.successes++;
      recordSuccess(e.outlier);
      return;
    }
    e.failures++;
    const o = this.outlier;
    if (o === undefined || this.byId.get(e.id) !== e) return;
    this.refreshIfDue(); // an ejection that has expired must end before failures count again
    if (!recordFailure(e.outlier, o)) return;
    const ejectedNow = this.all.reduce((n, x) => n + (x.ejected ? 1 : 0), 0);
    if (ejectedNow >= maxEjected(this.all.length, o)) return;
    const now = this.clock.now();
    const durationMs = eject(e.outlier, now, o);
    this.nextCheckMs = Math.min(this.nextCheckMs, e.outlier.ejectedUntilMs);
    this.dirty = true;
    this.onEvent?.({ type: 'ejected', id: e.id, durationMs, timesEjected: e.outlier.timesEjected });
  }

  /** Result of active health checking for `id`. Recovery starts slow start. */
  setHealthy(id: string, healthy: boolean): void {
    const e = this.byId.get(id);
    if (e === undefined || e.healthy === healthy) return;
    e.healthy = healthy;
    if (healthy) this.enterSlowStart(e);
    this.dirty = true;
    this.onEvent?.({ type: 'health', id, healthy });
  }

  private addInternal(spec: EndpointSpec<T>, slowStart: boolean): BalancedEndpoint<T> {
    if (this.byId.has(spec.id)) throw new ConfigError(`duplicate endpoint id ${JSON.stringify(spec.id)}`);
    let slot = this.bySlot.indexOf(undefined);
    if (slot === -1) slot = this.bySlot.length;
    const e = new BalancedEndpoint(spec, slot, this.clock.now());
    this.bySlot[slot] = e;
    this.byId.set(e.id, e);
    this.all.push(e);
    if (slowStart) this.enterSlowStart(e);
    this.membership++;
    this.dirty = true;
    return e;
  }

  private enterSlowStart(e: BalancedEndpoint<T>): void {
    if (this.slowStart === undefined) return;
    e.slowStartFromMs = this.clock.now();
    e.effectiveWeight = e.weight * slowStartFactor(0, this.slowStart);
  }

  private refreshIfDue(): void {
    if (this.dirty) {
      this.recompute(this.clock.now());
      return;
    }
    if (this.nextCheckMs !== Number.POSITIVE_INFINITY) {
      const now = this.clock.now();
      if (now >= this.nextCheckMs) this.recompute(now);
    }
  }

  private recompute(now: number): void {
    this.dirty = false;
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.all) {
      const r = e.outlier;
      if (r.ejectedUntilMs !== 0) {
        if (now >= r.ejectedUntilMs) {
          uneject(r);
          this.onEvent?.({ type: 'unejected', id: e.id });
        } else if (r.ejectedUntilMs < next) next = r.ejectedUntilMs;
      }
      const ss = this.slowStart;
      if (e.slowStartFromMs >= 0 && ss !== undefined) {
        const elapsed = now - e.slowStartFromMs;
        if (elapsed >= ss.windowMs) {
          e.slowStartFromMs = -1;
          e.effectiveWeight = e.weight;
        } else {
          e.effectiveWeight = e.weight * slowStartFactor(elapsed, ss);
          next = Math.min(next, now + ss.windowMs / SLOW_START_STEPS);
        }
      } else if (e.effectiveWeight !== e.weight) {
        e.effectiveWeight = e.weight;
      }
    }
    this.nextCheckMs = next;
    const eligible = this.all.filter((e) => e.healthy && e.outlier.ejectedUntilMs === 0);
    const total = this.all.length;
    const panic = total > 0 && eligible.length * 100 < this.panicPercent * total;
    if (panic !== this.panicNow) {
      this.panicNow = panic;
      this.onEvent?.({ type: 'panic', panic });
    }
    this.list = panic ? this.all.slice() : eligible;
    this.candidateFlag = [];
    for (const e of this.list) this.candidateFlag[e.slot] = true;
    this.generation++;
  }
}
