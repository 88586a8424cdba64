/**
 * Monte Carlo availability: nodes fail and are repaired (alternating renewal processes with
 * exponential times to failure, mean MTBF, and to repair, mean MTTR), a structure function says
 * when the system is up, and the fraction of time it is up is estimated from independent seeded
 * replications with a Student-t confidence interval. This checks the closed forms of
 * availability.ts (seed 04.2–04.3 and the quorum-aware ones) against a simulation that shares
 * none of their algebra.
 *
 * Each replication starts in the stationary distribution (node i up with probability
 * MTBF/(MTBF+MTTR); by memorylessness its residual time has the same exponential law), so there
 * is no warm-up bias. Left out: correlated failures, non-exponential repair times and repair
 * crews (every node is repaired independently); see docs/models.md.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { unreachable } from '../core/assert.ts';
import type { Rng } from '../core/rng.ts';
import {
  atLeastKOfN,
  availabilityFromMtbf,
  checkCount,
  checkProbability,
  majorityOf,
  parallelAvailability,
  seriesAvailability,
  stackedQuorumAvailability,
} from './availability.ts';

/** When is the system up? Nodes 0..masters-1 are masters in the `hybrid` structure. */
export type AvailabilityStructure =
  | { readonly kind: 'series' }
  | { readonly kind: 'parallel' }
  | { readonly kind: 'k-of-n'; readonly k: number }
  | { readonly kind: 'majority' }
  | {
      readonly kind: 'hybrid';
      readonly masters: number;
      readonly masterRule: 'any' | 'majority' | 'all';
      readonly workersNeeded: number;
    }
  | {
      /** Nodes 0..voters-1 hold the store and also count towards `nodesNeeded`. */
      readonly kind: 'stacked';
      readonly voters: number;
      readonly voterRule: 'majority' | 'any';
      readonly nodesNeeded: number;
    };

export interface NodeReliability {
  /** Mean time between failures (mean up time), any unit. */
  readonly mtbf: number;
  /** Mean time to repair (mean down time), same unit. */
  readonly mttr: number;
}

/** Limit on simulated node state changes across all replications. */
export const MONTE_CARLO_EVENTS_MAX = 50_000_000;

function checkStructure(structure: AvailabilityStructure, n: number): void {
  switch (structure.kind) {
    case 'series':
    case 'parallel':
    case 'majority':
      if (n < 1) throw new InvalidArgumentError('a structure needs at least one node');
      return;
    case 'k-of-n':
      checkCount('k', structure.k, 0, n);
      return;
    case 'hybrid':
      checkCount('masters', structure.masters, 1, n);
      checkCount('workersNeeded', structure.workersNeeded, 0, n - structure.masters);
      return;
    case 'stacked':
      checkCount('voters', structure.voters, 1, n);
      checkCount('nodesNeeded', structure.nodesNeeded, 0, n);
      return;
    default:
      unreachable(structure, 'structure');
  }
}

/** The closed-form availability of a structure for independent nodes. */
export function structureAvailability(structure: AvailabilityStructure, availabilities: readonly number[]): number {
  checkStructure(structure, availabilities.length);
  switch (structure.kind) {
    case 'series':
      return seriesAvailability(availabilities);
    case 'parallel':
      return parallelAvailability(availabilities);
    case 'k-of-n':
      return atLeastKOfN(availabilities, structure.k);
    case 'majority':
      return atLeastKOfN(availabilities, majorityOf(availabilities.length));
    case 'hybrid': {
      const masters = availabilities.slice(0, structure.masters);
      const workers = availabilities.slice(structure.masters);
      const control =
        structure.masterRule === 'any'
          ? parallelAvailability(masters)
          : structure.masterRule === 'all'
            ? seriesAvailability(masters)
            : atLeastKOfN(masters, majorityOf(masters.length));
      return control * atLeastKOfN(workers, structure.workersNeeded);
    }
    case 'stacked':
      return stackedQuorumAvailability({
        voterAvailabilities: availabilities.slice(0, structure.voters),
        otherAvailabilities: availabilities.slice(structure.voters),
        nodesNeeded: structure.nodesNeeded,
        voterRule: structure.voterRule,
      });
    default:
      return unreachable(structure, 'structure');
  }
}

/** Is the system up, given how many masters and workers (or nodes, for flat structures) are up? */
function systemUp(structure: AvailabilityStructure, n: number, upMasters: number, upTotal: number): boolean {
  switch (structure.kind) {
    case 'series':
      return upTotal === n;
    case 'parallel':
      return upTotal >= 1;
    case 'k-of-n':
      return upTotal >= structure.k;
    case 'majority':
      return upTotal > n / 2;
    case 'hybrid': {
      const m = structure.masters;
      const control = structure.masterRule === 'any' ? upMasters >= 1 : structure.masterRule === 'all' ? upMasters === m : upMasters > m / 2;
      return control && upTotal - upMasters >= structure.workersNeeded;
    }
    case 'stacked': {
      const v = structure.voters;
      const quorumUp = structure.voterRule === 'any' ? upMasters >= 1 : upMasters > v / 2;
      return quorumUp && upTotal >= structure.nodesNeeded;
    }
    default:
      return unreachable(structure, 'structure');
  }
}

export interface MonteCarloOptions {
  readonly nodes: readonly NodeReliability[];
  readonly structure: AvailabilityStructure;
  /** Simulated time per replication, in the unit of MTBF/MTTR. */
  readonly horizon: number;
  /** Independent replications (at least 2 for an interval). */
  readonly runs: number;
  /** Two-sided confidence level of the interval, e.g. 0.95. */
  readonly confidence?: number;
  readonly rng: Rng;
}

export interface MonteCarloResult {
  /** Mean fraction of time up over the replications. */
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
  readonly halfWidth: number;
  readonly confidence: number;
  readonly runs: number;
  readonly horizon: number;
  /** Node state changes simulated. */
  readonly events: number;
  /** The closed form for the same structure, for comparison. */
  readonly closedForm: number;
  readonly closedFormInside: boolean;
  /**
   * False when no replication saw the system down (or none saw it up): the interval is then
   * degenerate and says nothing about rare outages. Lengthen the horizon or add runs.
   */
  readonly conclusive: boolean;
  readonly seed: number;
}

/** Simulates one replication; returns the time-average availability and the events used. */
function replicate(nodes: readonly NodeReliability[], structure: AvailabilityStructure, horizon: number, rng: Rng): { up: number; events: number } {
  const n = nodes.length;
  const masters = structure.kind === 'hybrid' ? structure.masters : structure.kind === 'stacked' ? structure.voters : 0;
  const isUp = new Uint8Array(n);
  const nextChange = new Float64Array(n);
  let upMasters = 0;
  let upTotal = 0;
  nodes.forEach((node, i) => {
    const up = rng.chance(availabilityFromMtbf(node.mtbf, node.mttr));
    isUp[i] = up ? 1 : 0;
    nextChange[i] = rng.exponential(up ? node.mtbf : node.mttr);
    if (up) {
      upTotal++;
      if (i < masters) upMasters++;
    }
  });
  // Binary min-heap of node indices keyed by their next state change; only the root's key
  // changes per event, so one sift-down keeps it ordered: O(log n) per event.
  const heap = new Int32Array(n);
  for (let i = 0; i < n; i++) heap[i] = i;
  const key = (slot: number) => nextChange[heap[slot] ?? 0] ?? 0;
  const siftDown = (start: number) => {
    let slot = start;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && key(right) < key(left) ? right : left;
      if (key(child) >= key(slot)) return;
      const tmp = heap[slot] ?? 0;
      heap[slot] = heap[child] ?? 0;
      heap[child] = tmp;
      slot = child;
    }
  };
  for (let slot = Math.floor(n / 2) - 1; slot >= 0; slot--) siftDown(slot);
  let t = 0;
  let upTime = 0;
  let events = 0;
  while (t < horizon) {
    const next = heap[0] ?? 0;
    const at = Math.min(nextChange[next] ?? horizon, horizon);
    if (systemUp(structure, n, upMasters, upTotal)) upTime += at - t;
    t = at;
    if (t >= horizon) break;
    const node = nodes[next];
    if (!node) break;
    const wasUp = isUp[next] === 1;
    isUp[next] = wasUp ? 0 : 1;
    const delta = wasUp ? -1 : 1;
    upTotal += delta;
    if (next < masters) upMasters += delta;
    nextChange[next] = t + rng.exponential(wasUp ? node.mttr : node.mtbf);
    siftDown(0);
    events++;
  }
  return { up: upTime / horizon, events };
}

/** Estimates availability by simulation and compares it with the closed form. */
export function monteCarloAvailability(options: MonteCarloOptions): MonteCarloResult {
  const { nodes, structure, horizon, runs } = options;
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new InvalidArgumentError(`confidence must be in (0, 1), got ${confidence}`);
  checkCount('runs', runs, 2, 100_000);
  if (!Number.isFinite(horizon) || horizon <= 0) throw new InvalidArgumentError(`horizon must be a positive duration, got ${horizon}`);
  checkStructure(structure, nodes.length);
  const availabilities = nodes.map((node) => availabilityFromMtbf(node.mtbf, node.mttr));
  let expectedEvents = 0;
  for (const node of nodes) expectedEvents += (2 * horizon * runs) / (node.mtbf + node.mttr);
  if (expectedEvents > MONTE_CARLO_EVENTS_MAX) {
    throw new InvalidArgumentError(
      `the simulation would need about ${Math.round(expectedEvents)} events, more than the limit ${MONTE_CARLO_EVENTS_MAX}: lower the horizon or the runs`,
    );
  }
  const samples: number[] = [];
  let events = 0;
  for (let r = 0; r < runs; r++) {
    const result = replicate(nodes, structure, horizon, options.rng.fork(`replication/${r}`));
    samples.push(result.up);
    events += result.events;
  }
  const mean = samples.reduce((a, b) => a + b, 0) / runs;
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (runs - 1);
  const halfWidth = studentTQuantile((1 + confidence) / 2, runs - 1) * Math.sqrt(variance / runs);
  const closedForm = structureAvailability(structure, availabilities);
  const lower = Math.max(0, mean - halfWidth);
  const upper = Math.min(1, mean + halfWidth);
  const conclusive = samples.some((x) => x < 1) && samples.some((x) => x > 0);
  return {
    estimate: mean,
    lower,
    upper,
    halfWidth,
    confidence,
    runs,
    horizon,
    events,
    closedForm,
    closedFormInside: closedForm >= lower && closedForm <= upper,
    conclusive,
    seed: options.rng.seed,
  };
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  checkProbability('p', p);
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * Student-t quantile by the Cornish–Fisher expansion around the normal quantile (Abramowitz &
 * Stegun 26.7.5); within 0.5% of the exact value for 3 or more degrees of freedom at the usual
 * confidence levels, and exact in the limit.
 */
export function studentTQuantile(p: number, degreesOfFreedom: number): number {
  checkCount('degreesOfFreedom', degreesOfFreedom, 1);
  const z = normalQuantile(p);
  const v = degreesOfFreedom;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * v) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * v ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v ** 4)
  );
}
