/**
 * The load-balancing formulas of seed 04.7.4 as plain functions (the stateful pickers, health
 * checks and outlier ejection live in balancing/):
 * - round robin `L_RR(i) = (i mod n) + 1` (1-based, as in the seed);
 * - weighted round robin: the seed writes `argmax_j W_j / Σ W_k`, which taken literally always
 *   picks the heaviest instance; what it means is that instance j receives the share
 *   `W_j / Σ W_k` of requests. `weightedShare` gives that share and `weightedRoundRobinIndex`
 *   the i-th pick of smooth weighted round robin (the nginx interleaving), whose picks over one
 *   period of Σ W requests match the shares exactly;
 * - least connections `L_LC = argmin_j C_j` (ties to the lowest index);
 * - consistent hashing `L_CH(k) = argmin_j hash(k, j)`: as written this is rendezvous (highest
 *   random weight) hashing; here with a 32-bit FNV-1a hash finished by murmur3's fmix32.
 *
 * Indices returned are 0-based except `roundRobinSeed`, which returns the seed's 1-based number.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { fnv1a32 } from '../core/rng.ts';
import { checkCount } from './availability.ts';

/** Largest weight sum `weightedRoundRobinIndex` replays (it costs O(Σ W · n)). */
export const WEIGHT_SUM_MAX = 100_000;

/** Seed 04.7.4: `L_RR(i) = (i mod n) + 1`, 1-based. */
export function roundRobinSeed(request: number, instances: number): number {
  return roundRobinIndex(request, instances) + 1;
}

/** 0-based round robin: `i mod n`. */
export function roundRobinIndex(request: number, instances: number): number {
  checkCount('request', request);
  checkCount('instances', instances, 1);
  return request % instances;
}

function checkWeights(weights: readonly number[]): number {
  if (weights.length === 0) throw new InvalidArgumentError('weights must name at least one instance');
  let sum = 0;
  weights.forEach((w, i) => {
    if (!Number.isFinite(w) || w < 0) throw new InvalidArgumentError(`weights[${i}] must be a non-negative number, got ${w}`);
    sum += w;
  });
  if (sum <= 0) throw new InvalidArgumentError('weights must not all be zero');
  return sum;
}

/** Seed 04.7.4, weighted round robin: the share `W_j / Σ W_k` of requests instance j receives. */
export function weightedShare(weights: readonly number[]): number[] {
  const sum = checkWeights(weights);
  return weights.map((w) => w / sum);
}

/** The seed's WRR formula taken literally: `argmax_j W_j / Σ W_k`, always the heaviest instance. */
export function seedWeightedArgmax(weights: readonly number[]): number {
  const shares = weightedShare(weights);
  let best = 0;
  shares.forEach((s, j) => {
    if (s > (shares[best] ?? 0)) best = j;
  });
  return best;
}

/**
 * Smooth weighted round robin (nginx): each pick adds W_j to every instance's current weight,
 * picks the largest, and subtracts Σ W from it. Deterministic and periodic with period Σ W, so
 * the i-th pick is computed by replaying `i mod Σ W + 1` steps. Integer weights only.
 */
export function weightedRoundRobinIndex(request: number, weights: readonly number[]): number {
  checkCount('request', request);
  const sum = checkWeights(weights);
  weights.forEach((w, i) => {
    checkCount(`weights[${i}]`, w);
  });
  if (sum > WEIGHT_SUM_MAX) throw new InvalidArgumentError(`weights must sum to at most ${WEIGHT_SUM_MAX}, got ${sum}`);
  const current = new Array<number>(weights.length).fill(0);
  const steps = (request % sum) + 1;
  let pick = 0;
  for (let s = 0; s < steps; s++) {
    pick = 0;
    for (let j = 0; j < weights.length; j++) {
      current[j] = (current[j] ?? 0) + (weights[j] ?? 0);
      if ((current[j] ?? 0) > (current[pick] ?? 0)) pick = j;
    }
    current[pick] = (current[pick] ?? 0) - sum;
  }
  return pick;
}

/** Seed 04.7.4: `L_LC = argmin_j C_j`, ties broken towards the lowest index. */
export function leastConnectionsIndex(connections: readonly number[]): number {
  if (connections.length === 0) throw new InvalidArgumentError('connections must name at least one instance');
  let best = 0;
  connections.forEach((c, j) => {
    checkCount(`connections[${j}]`, c);
    if (c < (connections[best] ?? 0)) best = j;
  });
  return best;
}

/** murmur3's 32-bit finaliser: spreads FNV-1a's weak low bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `hash(k, j)`: a 32-bit hash of a key and an instance name. */
export function pairHash(key: string, instance: string): number {
  return fmix32(fnv1a32(`${key}\u0000${instance}`));
}

/**
 * Seed 04.7.4: `L_CH(k) = argmin_j hash(k, j)` (rendezvous hashing). Removing an instance moves
 * only the keys it owned; adding one moves about 1/(n+1) of the keys, all to the new instance.
 */
export function consistentHashIndex(key: string, instances: readonly string[]): number {
  if (instances.length === 0) throw new InvalidArgumentError('instances must name at least one instance');
  if (new Set(instances).size !== instances.length) throw new InvalidArgumentError('instances must be distinct');
  let best = 0;
  let bestHash = Number.POSITIVE_INFINITY;
  instances.forEach((name, j) => {
    const h = pairHash(key, name);
    if (h < bestHash) {
      bestHash = h;
      best = j;
    }
  });
  return best;
}
