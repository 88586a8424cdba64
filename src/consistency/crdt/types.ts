/**
 * The shape every state-based CRDT here shares (Shapiro, Preguiça, Baquero, Zawirski 2011,
 * "Conflict-free Replicated Data Types": a CvRDT is a join semilattice; merge is the join, so it
 * is commutative, associative and idempotent and replicas that have seen the same updates are
 * equal). States are plain immutable JSON-able values; operations return new states.
 * Leaves out: op-based CmRDTs and delta mutators (deltas are whole small states here).
 */

export interface CrdtType<S, V> {
  readonly name: string;
  /** The bottom of the semilattice: a replica that has seen nothing. */
  empty(): S;
  /** The least upper bound of two states. */
  merge(a: S, b: S): S;
  /** Whether two states are the same lattice element. */
  equals(a: S, b: S): boolean;
  /** What a reader sees. */
  value(s: S): V;
}

/** JSON with object keys sorted: a canonical form for equality checks and digests. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
