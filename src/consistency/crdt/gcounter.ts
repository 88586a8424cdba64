/**
 * G-Counter (Shapiro et al. 2011, Specification 6): a grow-only counter as one non-decreasing
 * count per node; value = sum, merge = entrywise max. Leaves out: decrement (see PN-Counter).
 */
import { assert } from '../../core/assert.ts';
import type { NodeId } from '../../core/ids.ts';
import { canonicalJson, type CrdtType } from './types.ts';

export type GCounter = Readonly<Record<NodeId, number>>;

export function gcounterIncrement(s: GCounter, node: NodeId, by = 1): GCounter {
  assert(Number.isSafeInteger(by) && by >= 0, `G-Counter increment must be a non-negative integer, got ${by}`);
  return { ...s, [node]: (s[node] ?? 0) + by };
}

export function gcounterValue(s: GCounter): number {
  let sum = 0;
  for (const n of Object.values(s)) sum += n;
  return sum;
}

export function gcounterMerge(a: GCounter, b: GCounter): GCounter {
  const out: Record<NodeId, number> = { ...a };
  for (const [node, n] of Object.entries(b)) out[node] = Math.max(out[node] ?? 0, n);
  return out;
}

function normalize(s: GCounter): GCounter {
  const out: Record<NodeId, number> = {};
  for (const [node, n] of Object.entries(s)) if (n > 0) out[node] = n;
  return out;
}

export const GCounterType: CrdtType<GCounter, number> = {
  name: 'g-counter',
  empty: () => ({}),
  merge: gcounterMerge,
  equals: (a, b) => canonicalJson(normalize(a)) === canonicalJson(normalize(b)),
  value: gcounterValue,
};
