/**
 * Gossip dissemination rounds and rumor-mongering residue.
 *
 * Makes the seed's `R = O(log |V|)` (04.6.6) concrete:
 * - push: `log2 n + ln n + O(1)` rounds to inform everyone (Frieze & Grimmett 1985; Pittel 1987);
 * - pull: `log2 n + log2 ln n + O(1)`: slow start like push, then the uninformed fraction squares
 *   every round (s' = s²);
 * - push-pull: `log3 n + O(ln ln n)` (Karp, Schindelhauer, Shenker & Vöcking, FOCS 2000);
 * each also as a mean-field recurrence on the uninformed fraction, and as a seeded simulation of
 * the synchronous random phone-call model (every node contacts one uniformly random other node
 * per round), so the asymptotic formulas can be checked against something.
 *
 * Rumor mongering (Demers et al., "Epidemic algorithms for replicated database maintenance",
 * PODC 1987): with push, blind removal and coin 1/k, the fraction of sites that never hear the
 * rumor satisfies `s = e^{-(k+1)(1-s)}`, solved here numerically.
 *
 * Left out: message loss, churn during dissemination, fanout > 1 in the simulation, and
 * anti-entropy's cost per round (digest sizes); see docs/models.md.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { unreachable } from '../core/assert.ts';
import type { Rng } from '../core/rng.ts';
import { checkCount } from './availability.ts';

export const GOSSIP_ROUNDS_MODES = ['push', 'pull', 'push-pull'] as const;
export type GossipRoundsMode = (typeof GOSSIP_ROUNDS_MODES)[number];

/** Limit on simulated cluster size: each round is O(n). */
export const GOSSIP_NODES_MAX = 1_000_000;
/** Limit on rounds in a recurrence or simulation (a run that needs more is reported as not finished). */
export const GOSSIP_ROUNDS_MAX = 10_000;

/** Asymptotic expected rounds until every node is informed, starting from one informed node. */
export function gossipRoundsAsymptotic(mode: GossipRoundsMode, n: number): number {
  checkCount('n', n, 1, GOSSIP_NODES_MAX);
  if (n === 1) return 0;
  const lnn = Math.log(n);
  switch (mode) {
    case 'push':
      return Math.log2(n) + lnn;
    case 'pull':
      return Math.log2(n) + Math.log2(Math.max(lnn, 1));
    case 'push-pull':
      return Math.log(n) / Math.log(3) + Math.log(Math.max(lnn, 1));
    default:
      return unreachable(mode, 'gossip mode');
  }
}

/**
 * Mean-field recurrence on the uninformed fraction s (n large):
 * push `s' = s·e^{-(1-s)}`, pull `s' = s²`, push-pull `s' = s²·e^{-(1-s)}`;
 * returns the rounds until fewer than half a node is expected uninformed (`s·n < 1/2`).
 * The recurrence has no randomness in it, so the pull's slow start is modelled with the exact
 * one-informed-node start s₀ = 1 - 1/n.
 */
export function gossipRoundsMeanField(mode: GossipRoundsMode, n: number): number {
  checkCount('n', n, 1, GOSSIP_NODES_MAX);
  if (n === 1) return 0;
  let s = 1 - 1 / n;
  let rounds = 0;
  while (s * n >= 0.5 && rounds < GOSSIP_ROUNDS_MAX) {
    const informed = 1 - s;
    // For finite n a push reaches a given node with probability 1 - (1 - 1/(n-1))^(informed nodes).
    const missedByPush = (1 - 1 / (n - 1)) ** (informed * n);
    switch (mode) {
      case 'push':
        s *= missedByPush;
        break;
      case 'pull':
        // An uninformed node pulls from a random other node: uninformed with probability (s·n-1)/(n-1).
        s *= Math.max(0, (s * n - 1) / (n - 1));
        break;
      case 'push-pull':
        s *= missedByPush * Math.max(0, (s * n - 1) / (n - 1));
        break;
      default:
        return unreachable(mode, 'gossip mode');
    }
    rounds++;
  }
  return rounds;
}

/**
 * One run of the synchronous random phone-call model: each round every node calls one uniformly
 * random other node; with push an informed caller informs the callee, with pull an uninformed
 * caller learns from an informed callee. Returns the rounds until all n nodes are informed, or
 * `roundsMax + 1` if that did not happen within `roundsMax`.
 */
export function simulateGossipRounds(mode: GossipRoundsMode, n: number, rng: Rng, roundsMax = GOSSIP_ROUNDS_MAX): number {
  checkCount('n', n, 1, GOSSIP_NODES_MAX);
  checkCount('roundsMax', roundsMax, 1, GOSSIP_ROUNDS_MAX);
  if (n === 1) return 0;
  let informed = new Uint8Array(n);
  informed[rng.int(n)] = 1;
  let count = 1;
  const push = mode === 'push' || mode === 'push-pull';
  const pull = mode === 'pull' || mode === 'push-pull';
  for (let round = 1; round <= roundsMax; round++) {
    // Decisions in a round see the state at its start.
    const next = informed.slice();
    for (let caller = 0; caller < n; caller++) {
      let callee = rng.int(n - 1);
      if (callee >= caller) callee++;
      if (push && informed[caller] && !next[callee]) {
        next[callee] = 1;
        count++;
      }
      if (pull && !informed[caller] && informed[callee] && !next[caller]) {
        next[caller] = 1;
        count++;
      }
    }
    informed = next;
    if (count === n) return round;
  }
  return roundsMax + 1;
}

export interface GossipEstimate {
  readonly mode: GossipRoundsMode;
  readonly n: number;
  readonly asymptotic: number;
  readonly meanField: number;
  /** Mean simulated rounds over `runs` seeded runs, if simulated. */
  readonly simulatedMean?: number;
  readonly simulatedMax?: number;
  readonly runs?: number;
}

/** All three numbers for one mode; simulates only when `runs > 0`. */
export function estimateGossipRounds(mode: GossipRoundsMode, n: number, runs: number, rng: Rng): GossipEstimate {
  checkCount('runs', runs, 0, 100_000);
  const base = { mode, n, asymptotic: gossipRoundsAsymptotic(mode, n), meanField: gossipRoundsMeanField(mode, n) };
  if (runs === 0) return base;
  let sum = 0;
  let max = 0;
  const stream = rng.fork(`gossip/${mode}/${n}`);
  for (let r = 0; r < runs; r++) {
    const rounds = simulateGossipRounds(mode, n, stream);
    sum += rounds;
    max = Math.max(max, rounds);
  }
  return { ...base, simulatedMean: sum / runs, simulatedMax: max, runs };
}

/**
 * Demers et al. rumor mongering (push, blind, coin with stop probability 1/k): the residue s,
 * the fraction of sites never informed, is the root in (0, 1) of `s = e^{-(k+1)(1-s)}`.
 * (s = 1 is always a root; the one that matters is below it.) Solved by bisection to 1e-15.
 */
export function rumorResidue(k: number): number {
  if (!Number.isFinite(k) || k <= 0) throw new InvalidArgumentError(`k must be a positive number, got ${k}`);
  const c = k + 1;
  // f(s) = s - e^{-c(1-s)} is concave with f(0) < 0 and f(1) = 0; for c > 1 it is positive on
  // (s*, 1), with its maximum at s = 1 - ln(c)/c. Bisect between 0 and that maximum.
  const f = (s: number) => s - Math.exp(-c * (1 - s));
  let lo = 0;
  let hi = 1 - Math.log(c) / c;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Demers' traffic: messages sent per site, `m = -ln s`, for a residue s. */
export function rumorTraffic(residue: number): number {
  if (!(residue > 0 && residue < 1)) throw new InvalidArgumentError(`residue must be in (0, 1), got ${residue}`);
  return -Math.log(residue);
}
