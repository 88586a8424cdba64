/**
 * Rendezvous or highest-random-weight hashing (Thaler & Ravishankar, 1996), the seed's
 * L_CH(k) = argmin_j hash(k, j) taken literally (as argmax): every node scores every key and the
 * highest score wins. Weighted with the logarithmic method (Schindelhauer & Schomaker, 2005):
 * score_j = -w_j / ln(u_j) with u_j = hash(k, j) mapped into (0, 1), which gives node j exactly
 * the share w_j / Σw and moves only the keys that must move when one weight changes.
 *
 * u_j comes from mix2(murmur3(key), murmur3(id_j)). With equal weights the raw 32-bit scores are
 * compared (-1/ln(u) is increasing in u, so the order is the same) and no logarithm is taken.
 * Ties go to the node first in canonical (id) order.
 *
 * Costs O(n) per lookup by design; use the ring or Maglev for large n. Preference lists are the
 * nodes by descending score. Left out: the skeleton-based O(log n) variant.
 */
import { mix2, placementHash } from './hash.ts';
import { canonicalNodes, checkCount, preferenceCollector, weightOf } from './nodes.ts';
import type { NodeSpec, PreferenceOptions, WalkablePlacement } from './types.ts';

const TWO_32 = 4294967296;

export class Rendezvous implements WalkablePlacement {
  readonly kind = 'rendezvous' as const;
  readonly nodes: readonly NodeSpec[];
  readonly memoryBytes: number;
  private readonly nodeHashes: Uint32Array;
  private readonly weights: Float64Array;
  private readonly equalWeights: boolean;

  constructor(nodes: readonly NodeSpec[]) {
    this.nodes = canonicalNodes(nodes, 'rendezvous');
    this.nodeHashes = Uint32Array.from(this.nodes, (n) => placementHash(n.id));
    this.weights = Float64Array.from(this.nodes, weightOf);
    const w0 = this.weights[0] as number;
    this.equalWeights = this.weights.every((w) => w === w0);
    this.memoryBytes = this.nodeHashes.byteLength + this.weights.byteLength;
  }

  hashKey(key: string): number {
    return placementHash(key);
  }

  /** Score of node `i` for a key hash: larger wins. */
  score(hash: number, i: number): number {
    const s = mix2(hash, this.nodeHashes[i] as number);
    if (this.equalWeights) return s;
    const u = (s + 0.5) / TWO_32; // in (0, 1)
    return -(this.weights[i] as number) / Math.log(u);
  }

  lookupHashIndex(hash: number): number {
    const n = this.nodeHashes.length;
    let best = 0;
    if (this.equalWeights) {
      let bestScore = -1;
      for (let i = 0; i < n; i++) {
        const s = mix2(hash, this.nodeHashes[i] as number);
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      return best;
    }
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const s = -(this.weights[i] as number) / Math.log((mix2(hash, this.nodeHashes[i] as number) + 0.5) / TWO_32);
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    return best;
  }

  lookupIndex(key: string): number {
    return this.lookupHashIndex(placementHash(key));
  }

  lookup(key: string): string {
    return (this.nodes[this.lookupIndex(key)] as NodeSpec).id;
  }

  walk(hash: number, visit: (index: number) => boolean): void {
    const n = this.nodes.length;
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) scores[i] = this.score(hash, i);
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    for (const i of order) if (visit(i)) return;
  }

  preference(key: string, count: number, options?: PreferenceOptions): string[] {
    checkCount(count);
    const { visit, out } = preferenceCollector(this.nodes, count, options);
    this.walk(placementHash(key), visit);
    return out;
  }

  withNodes(nodes: readonly NodeSpec[]): Rendezvous {
    return new Rendezvous(nodes);
  }
}

export function createRendezvous(nodes: readonly NodeSpec[]): Rendezvous {
  return new Rendezvous(nodes);
}
