/**
 * Last-writer-wins register (Shapiro et al. 2011, Specification 8) stamped with hybrid logical
 * clock timestamps (Kulkarni et al. 2014): the write with the larger (l, c) wins and equal HLC
 * timestamps are broken by node id, so every replica picks the same winner. Because HLC respects
 * causality, a write that causally follows another always wins over it.
 * Equal stamps with different values (which a correct node never issues) fall back to comparing
 * the values' canonical JSON, so merge stays a join even then.
 * Leaves out: multi-value registers (concurrent writes are not kept side by side).
 */
import type { NodeId } from '../../core/ids.ts';
import { compareHlcStamp, type HlcStamp, type HlcTimestamp } from '../hlc.ts';
import { canonicalJson, type CrdtType } from './types.ts';

export interface LwwRegister<V> {
  /** Undefined until the first write. */
  readonly entry: { readonly value: V; readonly stamp: HlcStamp } | undefined;
}

export function lwwEmpty<V>(): LwwRegister<V> {
  return { entry: undefined };
}

/** A write stamped by the writer's HLC (`ts` from `HybridLogicalClock.now`). */
export function lwwSet<V>(s: LwwRegister<V>, value: V, ts: HlcTimestamp, node: NodeId): LwwRegister<V> {
  return lwwMerge(s, { entry: { value, stamp: { l: ts.l, c: ts.c, node } } });
}

export function lwwMerge<V>(a: LwwRegister<V>, b: LwwRegister<V>): LwwRegister<V> {
  if (a.entry === undefined) return b;
  if (b.entry === undefined) return a;
  const order = compareHlcStamp(a.entry.stamp, b.entry.stamp);
  if (order !== 0) return order > 0 ? a : b;
  // Equal stamps should carry equal values (a node never reuses a stamp); if a bug or a lost
  // clock ever breaks that, still pick the same winner everywhere so merge stays commutative.
  return canonicalJson(a.entry.value) >= canonicalJson(b.entry.value) ? a : b;
}

export function lwwValue<V>(s: LwwRegister<V>): V | undefined {
  return s.entry?.value;
}

export function lwwRegisterType<V>(): CrdtType<LwwRegister<V>, V | undefined> {
  return {
    name: 'lww-register',
    empty: () => lwwEmpty<V>(),
    merge: lwwMerge,
    equals: (a, b) => canonicalJson(a.entry ?? null) === canonicalJson(b.entry ?? null),
    value: lwwValue,
  };
}
