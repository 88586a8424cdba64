/**
 * Vector clocks (Fidge 1988, Mattern 1989): one counter per node; a <= b entrywise means a
 * happened before or equals b, and neither <= the other means concurrent. Plain immutable
 * records (`{ [node]: counter }`, absent entries are 0) so they serialize as JSON unchanged.
 * Leaves out: compression and pruning of departed nodes (entries are kept forever).
 */
import { assert } from '../core/assert.ts';
import type { NodeId } from '../core/ids.ts';

export type VectorClock = Readonly<Record<NodeId, number>>;

export type Causality = 'before' | 'after' | 'concurrent' | 'equal';

export function vcEmpty(): VectorClock {
  return {};
}

export function vcGet(vc: VectorClock, node: NodeId): number {
  return Object.hasOwn(vc, node) ? (vc[node] ?? 0) : 0;
}

/** A copy with `node`'s entry incremented by one. */
export function vcIncrement(vc: VectorClock, node: NodeId): VectorClock {
  return { ...vc, [node]: vcGet(vc, node) + 1 };
}

/** Entrywise maximum. */
export function vcMerge(a: VectorClock, b: VectorClock): VectorClock {
  const out: Record<NodeId, number> = { ...a };
  for (const [node, n] of Object.entries(b)) {
    assert(Number.isSafeInteger(n) && n >= 0, `vector clock entry for ${node} must be a non-negative integer, got ${n}`);
    if (n > vcGet(out, node)) out[node] = n;
  }
  return out;
}

/**
 * How `a` relates to `b`: 'before' (a < b: a happened before b), 'after' (b < a), 'equal', or
 * 'concurrent' (neither dominates).
 */
export function vcCompare(a: VectorClock, b: VectorClock): Causality {
  let aLess = false;
  let bLess = false;
  const nodes = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const node of nodes) {
    const x = vcGet(a, node);
    const y = vcGet(b, node);
    if (x < y) aLess = true;
    else if (x > y) bLess = true;
    if (aLess && bLess) return 'concurrent';
  }
  if (aLess) return 'before';
  if (bLess) return 'after';
  return 'equal';
}

/** a <= b entrywise (a happened before or equals b). */
export function vcLeq(a: VectorClock, b: VectorClock): boolean {
  for (const [node, n] of Object.entries(a)) if (n > vcGet(b, node)) return false;
  return true;
}

/** The same clock with zero entries dropped and keys sorted: a canonical form for equality and hashing. */
export function vcNormalize(vc: VectorClock): VectorClock {
  const out: Record<NodeId, number> = {};
  for (const node of Object.keys(vc).sort()) {
    const n = vcGet(vc, node);
    if (n > 0) out[node] = n;
  }
  return out;
}
