/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, SODA 2018): with m
 * keys in flight over n nodes, no node may hold more than cap = ⌈(1+ε)·m/n⌉ (ε default 0.25),
 * counting the key being placed. A key goes to the first node in the base placement's preference
 * order (clockwise on a ring, successive slots in Maglev, descending score in rendezvous) whose
 * load is below its cap. With weights, node i's cap is ⌈(1+ε)·m·w_i/Σw⌉. A node below its cap
 * always exists (Σ caps ≥ (1+ε)·m > m - 1), and the walk visits every node, so acquire never
 * fails and never exceeds the cap.
 *
 * The state is the load per node, changed by `acquire` (returns the node) and `release`.
 * Sans-IO: no clock, no randomness.
 *
 * Left out: the paper's rebalancing of existing keys on release (keys stay where they were
 * placed; after many releases a node may sit above the cap computed for the smaller m, until
 * its keys are released).
 */
import { ConfigError, InvalidArgumentError } from '../core/errors.ts';
import { weightOf } from './nodes.ts';
import type { NodeSpec, WalkablePlacement } from './types.ts';

export interface BoundedLoadOptions {
  /** Allowed overload over the average, ε > 0 (default 0.25). */
  readonly epsilon?: number;
  /** Upper bound on keys in flight (default 2^31 - 1); acquire beyond it throws. */
  readonly inFlightMax?: number;
}

export const BOUNDED_LOAD_EPSILON_DEFAULT = 0.25;

export class BoundedLoad {
  readonly base: WalkablePlacement;
  readonly epsilon: number;
  private readonly inFlightMax: number;
  private readonly loads: Uint32Array;
  private readonly shares: Float64Array;
  private readonly indexById = new Map<string, number>();
  private total = 0;

  constructor(base: WalkablePlacement, options: BoundedLoadOptions = {}) {
    const epsilon = options.epsilon ?? BOUNDED_LOAD_EPSILON_DEFAULT;
    if (!Number.isFinite(epsilon) || epsilon <= 0) throw new ConfigError(`bounded load: epsilon must be a number > 0, got ${epsilon}`);
    this.inFlightMax = options.inFlightMax ?? 2 ** 31 - 1;
    this.base = base;
    this.epsilon = epsilon;
    this.loads = new Uint32Array(base.nodes.length);
    const totalWeight = base.nodes.reduce((a, n) => a + weightOf(n), 0);
    this.shares = Float64Array.from(base.nodes, (n) => weightOf(n) / totalWeight);
    base.nodes.forEach((n, i) => {
      this.indexById.set(n.id, i);
    });
  }

  /** Keys currently placed. */
  get inFlight(): number {
    return this.total;
  }

  /** Cap of node `index` when the total in flight (including the key being placed) is `m`. */
  capOf(index: number, m: number): number {
    return Math.ceil((1 + this.epsilon) * m * (this.shares[index] as number) - 1e-9);
  }

  /** Current load of a node. */
  load(id: string): number {
    const i = this.indexById.get(id);
    if (i === undefined) throw new InvalidArgumentError(`bounded load: unknown node ${JSON.stringify(id)}`);
    return this.loads[i] as number;
  }

  /** Loads in `base.nodes` order. */
  loadsByIndex(): readonly number[] {
    return Array.from(this.loads);
  }

  /** Places `key` on the first node in preference order below its cap and counts it. */
  acquireIndex(hash: number): number {
    if (this.total >= this.inFlightMax) throw new ConfigError(`bounded load: more than inFlightMax=${this.inFlightMax} keys in flight`);
    const m = this.total + 1;
    // Fast path: the owner itself is below its cap (the common case).
    const owner = this.base.lookupHashIndex(hash);
    if ((this.loads[owner] as number) + 1 <= this.capOf(owner, m)) {
      this.loads[owner] = (this.loads[owner] as number) + 1;
      this.total = m;
      return owner;
    }
    let chosen = -1;
    this.base.walk(hash, (i) => {
      if ((this.loads[i] as number) + 1 <= this.capOf(i, m)) {
        chosen = i;
        return true;
      }
      return false;
    });
    if (chosen < 0) throw new Error('bounded load: no node below its cap (impossible: the caps sum to more than m)');
    this.loads[chosen] = (this.loads[chosen] as number) + 1;
    this.total = m;
    return chosen;
  }

  acquire(key: string): string {
    return (this.base.nodes[this.acquireIndex(this.base.hashKey(key))] as NodeSpec).id;
  }

  /** Releases one key from node `id` (the id `acquire` returned). */
  release(id: string): void {
    const i = this.indexById.get(id);
    if (i === undefined) throw new InvalidArgumentError(`bounded load: unknown node ${JSON.stringify(id)}`);
    if (this.loads[i] === 0) throw new InvalidArgumentError(`bounded load: node ${JSON.stringify(id)} has no keys to release`);
    this.loads[i] = (this.loads[i] as number) - 1;
    this.total--;
  }
}

export function createBoundedLoad(base: WalkablePlacement, options: BoundedLoadOptions = {}): BoundedLoad {
  return new BoundedLoad(base, options);
}
