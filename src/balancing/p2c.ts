/**
 * Power-of-two-choices least request (Mitzenmacher 2001; Envoy's LEAST_REQUEST). With equal
 * weights: draw `choiceCount` (default 2) distinct candidates at random and take the one with
 * the fewest active requests. With unequal weights: Envoy's EDF over dynamic weights
 * `weight / (active + 1)^activeRequestBias` (bias default 1.0), each weight computed when the
 * endpoint is re-queued after a pick. Left out: Envoy's `active_request_bias` runtime override.
 */
import { assert } from '../core/assert.ts';
import type { Rng } from '../core/rng.ts';
import { EdfScheduler } from './edf-scheduler.ts';
import type { CandidateSet, EndpointView, Picker } from './types.ts';

export interface P2cOptions {
  /** Candidates drawn per pick when weights are equal. Default 2. */
  readonly choiceCount?: number;
  /** Exponent on (active + 1) in the dynamic weight when weights differ. Default 1.0. */
  readonly activeRequestBias?: number;
}

export class P2cPicker implements Picker {
  readonly policy = 'p2c' as const;
  private readonly rng: Rng;
  private readonly choiceCount: number;
  private readonly bias: number;
  private readonly scheduler = new EdfScheduler();
  private generation = -1;
  private weighted = false;
  private bySlot: EndpointView[] = [];

  constructor(rng: Rng, options: P2cOptions = {}) {
    this.rng = rng;
    this.choiceCount = options.choiceCount ?? 2;
    this.bias = options.activeRequestBias ?? 1;
    assert(Number.isInteger(this.choiceCount) && this.choiceCount >= 1, 'p2c choiceCount must be an integer >= 1');
    assert(this.bias >= 0, 'p2c activeRequestBias must be >= 0');
  }

  pick(candidates: CandidateSet): EndpointView {
    if (candidates.generation !== this.generation) this.rebuild(candidates);
    const list = candidates.list;
    const n = list.length;
    if (n === 1) return list[0] as EndpointView;
    if (this.weighted) {
      const slot = this.scheduler.pickAndAdd((s) => this.dynamicWeight(this.bySlot[s] as EndpointView));
      return this.bySlot[slot] as EndpointView;
    }
    // Unweighted: distinct random draws, fewest active wins; the earlier draw wins ties.
    const a = this.rng.int(n);
    let best = list[a] as EndpointView;
    if (this.choiceCount === 2) {
      let b = this.rng.int(n - 1);
      if (b >= a) b++;
      const e = list[b] as EndpointView;
      return e.active < best.active ? e : best;
    }
    for (let k = 1; k < this.choiceCount; k++) {
      const e = list[this.rng.int(n)] as EndpointView;
      if (e.active < best.active) best = e;
    }
    return best;
  }

  private dynamicWeight(e: EndpointView): number {
    if (this.bias === 0) return e.effectiveWeight;
    if (this.bias === 1) return e.effectiveWeight / (e.active + 1);
    return e.effectiveWeight / (e.active + 1) ** this.bias;
  }

  private rebuild(candidates: CandidateSet): void {
    this.generation = candidates.generation;
    const list = candidates.list;
    const w0 = list[0]?.effectiveWeight;
    this.weighted = list.some((e) => e.effectiveWeight !== w0);
    this.scheduler.clear();
    this.bySlot = [];
    if (!this.weighted) return;
    for (const e of list) {
      this.bySlot[e.slot] = e;
      this.scheduler.add(e.slot, this.dynamicWeight(e));
    }
  }
}
