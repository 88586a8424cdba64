/**
 * Observed-remove set, the optimized tombstone-free form (Bieniusa, Zawirski, Preguiça, Shapiro,
 * Baquero, Balegas, Duarte 2012, "An optimized conflict-free replicated set"). Every add gets a
 * unique tag, a dot (node, counter); a remove deletes the dots it has observed. A version vector
 * records every dot a replica has seen, so merge can tell "removed here" (dot covered by my vector
 * but absent) from "not yet seen here" (dot not covered): no tombstones are kept. Add wins over a
 * concurrent remove, as in the OR-Set of Shapiro et al. 2011.
 * Leaves out: elements other than strings (encode them); causal-context compaction beyond a
 * contiguous version vector (all dots of a node are contiguous here, since state merges carry
 * every dot up to the vector).
 */
import { assert } from '../../core/assert.ts';
import type { NodeId } from '../../core/ids.ts';
import { type VectorClock, vcGet, vcMerge, vcNormalize } from '../vector-clock.ts';
import { canonicalJson, type CrdtType } from './types.ts';

/** A unique add tag: the `counter`-th add performed at `node`. */
export interface Dot {
  readonly node: NodeId;
  readonly counter: number;
}

export interface ORSet {
  /** Element -> the dots of its live adds (never empty; an element with no dots is absent). */
  readonly entries: Readonly<Record<string, readonly Dot[]>>;
  /** Every dot this replica has seen: (node, k) for k <= vv[node]. */
  readonly vv: VectorClock;
}

export function orsetEmpty(): ORSet {
  return { entries: {}, vv: {} };
}

export function orsetAdd(s: ORSet, element: string, node: NodeId): ORSet {
  const counter = vcGet(s.vv, node) + 1;
  // The new dot supersedes the dots this replica observed for the element (they are all covered
  // by the vector, so merges elsewhere will drop them too).
  return {
    entries: { ...s.entries, [element]: [{ node, counter }] },
    vv: { ...s.vv, [node]: counter },
  };
}

/** Removes the element's observed adds. Removing an absent element is a no-op. */
export function orsetRemove(s: ORSet, element: string): ORSet {
  if (!Object.hasOwn(s.entries, element)) return s;
  const entries: Record<string, readonly Dot[]> = { ...s.entries };
  delete entries[element];
  return { entries, vv: s.vv };
}

export function orsetHas(s: ORSet, element: string): boolean {
  return Object.hasOwn(s.entries, element);
}

export function orsetValues(s: ORSet): string[] {
  return Object.keys(s.entries).sort();
}

function dotKey(d: Dot): string {
  return `${d.node}\u0000${d.counter}`;
}

export function orsetMerge(a: ORSet, b: ORSet): ORSet {
  const entries: Record<string, readonly Dot[]> = {};
  const elements = new Set([...Object.keys(a.entries), ...Object.keys(b.entries)]);
  for (const e of elements) {
    const da = Object.hasOwn(a.entries, e) ? (a.entries[e] ?? []) : [];
    const db = Object.hasOwn(b.entries, e) ? (b.entries[e] ?? []) : [];
    const inB = new Set(db.map(dotKey));
    const inA = new Set(da.map(dotKey));
    const kept: Dot[] = [];
    // Keep a dot present on both sides, or present on one side and unseen by the other.
    for (const d of da) if (inB.has(dotKey(d)) || d.counter > vcGet(b.vv, d.node)) kept.push(d);
    for (const d of db) if (!inA.has(dotKey(d)) && d.counter > vcGet(a.vv, d.node)) kept.push(d);
    if (kept.length > 0) {
      kept.sort((x, y) => (x.node < y.node ? -1 : x.node > y.node ? 1 : x.counter - y.counter));
      entries[e] = kept;
    }
  }
  const out = { entries, vv: vcMerge(a.vv, b.vv) };
  assert(Object.values(out.entries).every((ds) => ds.length > 0), 'OR-Set entry with no dots');
  return out;
}

export const ORSetType: CrdtType<ORSet, string[]> = {
  name: 'or-set',
  empty: orsetEmpty,
  merge: orsetMerge,
  equals: (a, b) => canonicalJson({ e: a.entries, v: vcNormalize(a.vv) }) === canonicalJson({ e: b.entries, v: vcNormalize(b.vv) }),
  value: orsetValues,
};
