/**
 * Random picker: uniform over candidates when weights are equal, otherwise proportional to
 * effective weight (a prefix-sum table rebuilt when candidates change, binary search per pick).
 * Randomness from an injected seeded `Rng`.
 */
import type { Rng } from '../core/rng.ts';
import type { CandidateSet, EndpointView, Picker } from './types.ts';

export class RandomPicker implements Picker {
  readonly policy = 'random' as const;
  private readonly rng: Rng;
  private generation = -1;
  private prefix: number[] = [];
  private weighted = false;

  constructor(rng: Rng) {
    this.rng = rng;
  }

  pick(candidates: CandidateSet): EndpointView {
    const list = candidates.list;
    if (candidates.generation !== this.generation) {
      this.generation = candidates.generation;
      const w0 = list[0]?.effectiveWeight;
      this.weighted = list.some((e) => e.effectiveWeight !== w0);
      let sum = 0;
      this.prefix = list.map((e) => {
        sum += e.effectiveWeight;
        return sum;
      });
    }
    if (!this.weighted) return list[this.rng.int(list.length)] as EndpointView;
    const total = this.prefix[this.prefix.length - 1] as number;
    const x = this.rng.float() * total;
    let lo = 0;
    let hi = this.prefix.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.prefix[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return list[lo] as EndpointView;
  }
}
