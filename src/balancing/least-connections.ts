/**
 * Least connections (seed 04.7.4: L = argmin_j C_j), weighted as nginx's `least_conn`: the
 * candidate with the smallest active/weight wins; ties are broken by rotating the starting
 * point, so equal endpoints share requests evenly. O(n) per pick.
 */
import type { CandidateSet, EndpointView, Picker } from './types.ts';

export class LeastConnectionsPicker implements Picker {
  readonly policy = 'least-connections' as const;
  private start = 0;

  pick(candidates: CandidateSet): EndpointView {
    const list = candidates.list;
    const n = list.length;
    const start = this.start % n;
    this.start = (this.start + 1) % 0x7fffffff;
    let best = list[start] as EndpointView;
    let bestLoad = best.active / best.effectiveWeight;
    for (let k = 1; k < n; k++) {
      const e = list[(start + k) % n] as EndpointView;
      const load = e.active / e.effectiveWeight;
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    return best;
  }
}
