/**
 * Closed-form and mean-field models of rumor spreading, to sit beside measured figures.
 * - Push from one node reaches all n in log2 n + ln n + O(1) rounds (Frieze & Grimmett 1985,
 *   Pittel 1987).
 * - Pull doubles in the first phase like push, then the uninformed fraction squares every round
 *   (s' = s^2), so its tail is log2 ln n instead of ln n: about log2 n + log2 ln n.
 * - Push-pull triples in the first phase and then squares: log3 n + O(ln ln n) (Karp,
 *   Schindelhauer, Shenker, Vöcking 2000).
 * - The mean-field recurrences for the uninformed fraction s (push s' = s e^{-(1-s)}, pull
 *   s' = s^2, push-pull s' = s^2 e^{-(1-s)}) iterated from s0 = 1 - 1/n until n s < 1/2 give a
 *   sharper estimate than the leading terms.
 * - Rumor mongering with feedback and the coin rule leaves a residue s (fraction never told)
 *   solving s = e^{-(k+1)(1-s)} (Demers et al. 1987, section 1.4).
 * The seed (04.6.6) states only R = O(log |V|).
 * Leaves out: confidence intervals of the models (they are means).
 */
import { assert, unreachable } from '../core/assert.ts';
import type { GossipMode } from './config.ts';

/** Leading-order rounds for one rumor to reach all n nodes. */
export function roundsLeadingTerms(mode: GossipMode, n: number): number {
  assert(n >= 2, `model needs n >= 2, got ${n}`);
  switch (mode) {
    case 'push':
      return Math.log2(n) + Math.log(n);
    case 'pull':
      return Math.log2(n) + Math.log2(Math.log(n));
    case 'push-pull':
      return Math.log(n) / Math.log(3) + Math.log(Math.log(n));
    default:
      return unreachable(mode, 'gossip mode');
  }
}

/** Rounds until the mean-field uninformed count n*s drops below 1/2. */
export function roundsMeanField(mode: GossipMode, n: number, roundsMax = 10_000): number {
  assert(n >= 2, `model needs n >= 2, got ${n}`);
  let s = 1 - 1 / n;
  for (let t = 1; t <= roundsMax; t++) {
    const i = 1 - s;
    switch (mode) {
      case 'push':
        s = s * Math.exp(-i);
        break;
      case 'pull':
        s = s * s;
        break;
      case 'push-pull':
        s = s * s * Math.exp(-i);
        break;
      default:
        unreachable(mode, 'gossip mode');
    }
    if (n * s < 0.5) return t;
  }
  return roundsMax;
}

/** Demers' residue: the root in (0, 1) of s = e^{-(k+1)(1-s)} (feedback, coin with probability 1/k). */
export function demersResidue(k: number): number {
  assert(k > 0, `Demers residue needs k > 0, got ${k}`);
  const f = (s: number) => s - Math.exp(-(k + 1) * (1 - s));
  // f(0) < 0; f just below 1 is > 0 whenever k + 1 > 1 (the nontrivial root lies below 1).
  let lo = 0;
  let hi = 1 - 1e-9;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
