/**
 * Round robin (seed 04.7.4): the i-th request (from 0) goes to candidate (i mod n) + 1, counting
 * candidates from 1. Stateless apart from the counter; ignores weights and load.
 */
import type { CandidateSet, EndpointView, Picker } from './types.ts';

export class RoundRobinPicker implements Picker {
  readonly policy = 'round-robin' as const;
  private i = 0;
  pick(candidates: CandidateSet): EndpointView {
    const list = candidates.list;
    const e = list[this.i % list.length] as EndpointView;
    this.i = (this.i + 1) % 0x7fffffff;
    return e;
  }
}
