/**
 * Weighted earliest-deadline-first picker (Envoy's weighted round robin): an `EdfScheduler`
 * over the candidates, rebuilt whenever candidates or effective weights change. Share of picks
 * of endpoint j is W_j / ΣW (seed 04.7.4) with O(log n) picks, which matters for many endpoints.
 */
import { EdfScheduler } from './edf-scheduler.ts';
import type { CandidateSet, EndpointView, Picker } from './types.ts';

export class EdfPicker implements Picker {
  readonly policy = 'edf' as const;
  private readonly scheduler = new EdfScheduler();
  private generation = -1;
  private bySlot: EndpointView[] = [];

  pick(candidates: CandidateSet): EndpointView {
    if (candidates.generation !== this.generation || this.scheduler.size !== candidates.list.length) {
      this.rebuild(candidates);
    }
    const slot = this.scheduler.pickAndAdd((s) => (this.bySlot[s] as EndpointView).effectiveWeight);
    return this.bySlot[slot] as EndpointView;
  }

  private rebuild(candidates: CandidateSet): void {
    this.generation = candidates.generation;
    this.scheduler.clear();
    this.bySlot = [];
    for (const e of candidates.list) {
      this.bySlot[e.slot] = e;
      this.scheduler.add(e.slot, e.effectiveWeight);
    }
  }
}
