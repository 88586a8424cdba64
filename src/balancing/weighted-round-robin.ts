/**
 * Smooth weighted round robin, nginx's `ngx_http_upstream_get_peer`: every pick adds each
 * candidate's effective weight to its current weight, picks the largest current weight and
 * subtracts the total from it. Over each cycle of Σw picks endpoint j is chosen exactly w_j
 * times (seed 04.7.4: share W_j / ΣW), interleaved rather than in bursts (5,1,1 gives
 * a a b a c a a).
 *
 * nginx's failure penalty is kept: a failure lowers the endpoint's effective weight by
 * `weight / maxFails`, and each pick that considers it restores one unit. Left out: nginx's
 * `max_fails`/`fail_timeout` ejection itself (the Balancer's outlier detection does that).
 */
import type { CandidateSet, EndpointView, Outcome, Picker } from './types.ts';

export interface WeightedRoundRobinOptions {
  /** nginx `max_fails`: a failure costs `weight / maxFails` effective weight. Default 1. */
  readonly maxFails?: number;
}

export class WeightedRoundRobinPicker implements Picker {
  readonly policy = 'weighted-round-robin' as const;
  private readonly current: number[] = [];
  /** Effective-weight deficit from failures, per slot (0 = none). */
  private readonly penalty: number[] = [];
  private readonly maxFails: number;

  constructor(options: WeightedRoundRobinOptions = {}) {
    this.maxFails = options.maxFails ?? 1;
  }

  pick(candidates: CandidateSet): EndpointView {
    const list = candidates.list;
    let total = 0;
    let best: EndpointView | undefined;
    let bestCurrent = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < list.length; k++) {
      const e = list[k] as EndpointView;
      const s = e.slot;
      const pen = this.penalty[s] ?? 0;
      const effective = Math.max(0, e.effectiveWeight - pen);
      if (pen > 0) this.penalty[s] = Math.max(0, pen - 1);
      const cur = (this.current[s] ?? 0) + effective;
      this.current[s] = cur;
      total += effective;
      if (cur > bestCurrent) {
        bestCurrent = cur;
        best = e;
      }
    }
    const chosen = best as EndpointView;
    this.current[chosen.slot] = bestCurrent - total;
    return chosen;
  }

  observe(endpoint: EndpointView, outcome: Outcome): void {
    if (outcome === 'failure') {
      const s = endpoint.slot;
      this.penalty[s] = Math.min(endpoint.weight, (this.penalty[s] ?? 0) + endpoint.weight / this.maxFails);
    }
  }

  forget(endpoint: EndpointView): void {
    this.current[endpoint.slot] = 0;
    this.penalty[endpoint.slot] = 0;
  }
}
