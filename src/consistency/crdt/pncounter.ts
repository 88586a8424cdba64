/**
 * PN-Counter (Shapiro et al. 2011, Specification 7): two G-Counters, one for increments and one
 * for decrements; value = P - N. Leaves out: bounded counters (no lower-bound invariant).
 */
import { assert } from '../../core/assert.ts';
import type { NodeId } from '../../core/ids.ts';
import { type GCounter, GCounterType, gcounterIncrement, gcounterMerge, gcounterValue } from './gcounter.ts';
import type { CrdtType } from './types.ts';

export interface PNCounter {
  readonly p: GCounter;
  readonly n: GCounter;
}

/** Adds `by` (any safe integer; negative decrements). */
export function pncounterAdd(s: PNCounter, node: NodeId, by: number): PNCounter {
  assert(Number.isSafeInteger(by), `PN-Counter delta must be an integer, got ${by}`);
  if (by >= 0) return { p: gcounterIncrement(s.p, node, by), n: s.n };
  return { p: s.p, n: gcounterIncrement(s.n, node, -by) };
}

export function pncounterValue(s: PNCounter): number {
  return gcounterValue(s.p) - gcounterValue(s.n);
}

export function pncounterMerge(a: PNCounter, b: PNCounter): PNCounter {
  return { p: gcounterMerge(a.p, b.p), n: gcounterMerge(a.n, b.n) };
}

export const PNCounterType: CrdtType<PNCounter, number> = {
  name: 'pn-counter',
  empty: () => ({ p: {}, n: {} }),
  merge: pncounterMerge,
  equals: (a, b) => GCounterType.equals(a.p, b.p) && GCounterType.equals(a.n, b.n),
  value: pncounterValue,
};
