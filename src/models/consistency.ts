/**
 * The consistency conditions of seed 04.6.1–04.6.3 as predicates over observed states:
 * - strong (04.6.1): `∀t, ∀ n_i, n_j: S_{n_i}(t) = S_{n_j}(t)`, checked at one instant;
 * - eventual (04.6.2): `lim_{t→∞} ∀ n_i, n_j: S_{n_i}(t) = S_{n_j}(t)`. A finite trace cannot
 *   show a limit, so this reports the first snapshot from which all replicas agree until the end
 *   of the trace (undefined if they disagree at the end);
 * - causal (04.6.3): `∀ o_i, o_j: o_i ≺ o_j ⇒ order(o_i) < order(o_j)`, with ≺ read as
 *   "happened before" (the seed's gloss says o_i depends on o_j, which would reverse the order;
 *   the formula only makes sense with ≺ as happened-before).
 *
 * These are the seed's definitions, not a history checker: linearizability and causal checkers
 * over Jepsen-style histories (with real-time order, reads and writes) belong to sim/.
 */
import { InvalidArgumentError } from '../core/errors.ts';

/** Seed 04.6.1 at one instant: every replica's state equals every other's. */
export function replicaStatesAgree<T>(states: readonly T[], equals: (a: T, b: T) => boolean = Object.is): boolean {
  const first = states[0];
  if (first === undefined) return true;
  return states.every((s) => equals(first, s));
}

/** Seed 04.6.1 over a trace of snapshots (one array of replica states per instant). */
export function strongConditionHolds<T>(trace: readonly (readonly T[])[], equals: (a: T, b: T) => boolean = Object.is): boolean {
  return trace.every((snapshot) => replicaStatesAgree(snapshot, equals));
}

/**
 * Seed 04.6.2 on a finite trace: the index of the first snapshot from which every later snapshot
 * has all replicas agreeing, or undefined if the replicas disagree in the last snapshot.
 */
export function eventualConvergenceIndex<T>(trace: readonly (readonly T[])[], equals: (a: T, b: T) => boolean = Object.is): number | undefined {
  let index: number | undefined;
  for (let t = trace.length - 1; t >= 0; t--) {
    if (!replicaStatesAgree(trace[t] ?? [], equals)) break;
    index = t;
  }
  return index;
}

/**
 * Seed 04.6.3: every happened-before pair `[a, b]` (a ≺ b) is executed in that order.
 * `order` maps an operation to its position in one replica's execution; operations missing
 * from it are an error (a replica that never applied b cannot have violated a ≺ b, but the
 * caller should say so explicitly by leaving the pair out).
 */
export function causalConditionHolds<Op>(happenedBefore: readonly (readonly [Op, Op])[], order: ReadonlyMap<Op, number>): boolean {
  for (const [a, b] of happenedBefore) {
    const oa = order.get(a);
    const ob = order.get(b);
    if (oa === undefined || ob === undefined) throw new InvalidArgumentError(`operation ${String(oa === undefined ? a : b)} is missing from the execution order`);
    if (!(oa < ob)) return false;
  }
  return true;
}
