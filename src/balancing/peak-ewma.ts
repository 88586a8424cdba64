/**
 * Peak-EWMA latency picker (Finagle's `PeakEwma`, Linkerd's default): each endpoint keeps an
 * exponentially weighted moving average of request latency that jumps up to any sample above it
 * (the "peak") and decays towards new samples with weight exp(-Δt/τ). Load of an endpoint is
 * cost · (active + 1); an endpoint never measured but with requests in flight gets a large
 * penalty. Two random candidates are drawn and the lower load wins (P2C). The cost also decays
 * towards 0 while an endpoint is idle, so slow endpoints are retried once in a while.
 * Time comes from an injected `Clock`. Ignores weights (as Finagle does).
 */
import type { Clock } from '../core/clock.ts';
import type { Rng } from '../core/rng.ts';
import type { CandidateSet, EndpointView, Outcome, Picker } from './types.ts';

export interface PeakEwmaOptions {
  /** Decay time constant τ in ms. Default 10_000 (Finagle's default decay time). */
  readonly decayMs?: number;
  /** Latency assumed for an endpoint never measured. Default 0 (Finagle: explore new ones). */
  readonly defaultRttMs?: number;
}

/** Load of a never-measured endpoint with requests in flight (Finagle's `Penalty`). */
const PENALTY = 1e12;

export class PeakEwmaPicker implements Picker {
  readonly policy = 'peak-ewma' as const;
  private readonly rng: Rng;
  private readonly clock: Clock;
  private readonly decayMs: number;
  private readonly defaultRttMs: number;
  private readonly state = new Map<number, { costMs: number; stampMs: number }>();

  constructor(rng: Rng, clock: Clock, options: PeakEwmaOptions = {}) {
    this.rng = rng;
    this.clock = clock;
    this.decayMs = options.decayMs ?? 10_000;
    this.defaultRttMs = options.defaultRttMs ?? 0;
  }

  /** The decayed latency estimate of `slot` now, in ms. */
  costMs(slot: number): number {
    return this.update(slot, 0, false);
  }

  pick(candidates: CandidateSet): EndpointView {
    const list = candidates.list;
    const n = list.length;
    if (n === 1) return list[0] as EndpointView;
    const a = this.rng.int(n);
    let b = this.rng.int(n - 1);
    if (b >= a) b++;
    const ea = list[a] as EndpointView;
    const eb = list[b] as EndpointView;
    return this.load(eb) < this.load(ea) ? eb : ea;
  }

  observe(endpoint: EndpointView, _outcome: Outcome, latencyMs: number): void {
    this.update(endpoint.slot, Math.max(0, latencyMs), true);
  }

  forget(endpoint: EndpointView): void {
    this.state.delete(endpoint.slot);
  }

  private load(e: EndpointView): number {
    const c = this.costMs(e.slot);
    if (c === 0 && e.active !== 0) return PENALTY + e.active;
    return c * (e.active + 1);
  }

  /** Finagle's `observe(rtt)`: peak on the way up, EWMA on the way down. */
  private update(slot: number, rttMs: number, isSample: boolean): number {
    const now = this.clock.now();
    const st = this.state.get(slot);
    if (st === undefined) {
      const initial = isSample ? rttMs : this.defaultRttMs;
      if (isSample || initial > 0) this.state.set(slot, { costMs: initial, stampMs: now });
      return initial;
    }
    const td = Math.max(0, now - st.stampMs);
    const w = Math.exp(-td / this.decayMs);
    st.costMs = rttMs > st.costMs ? rttMs : st.costMs * w + rttMs * (1 - w);
    st.stampMs = now;
    return st.costMs;
  }
}
