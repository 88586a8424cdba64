/**
 * LWW-Map: a map of last-writer-wins registers keyed by string (the LWW-element map of Shapiro
 * et al. 2011, with HLC stamps as in `lww-register.ts`). A delete writes a tombstone register, so
 * a stale put arriving later cannot resurrect the key.
 * Leaves out: tombstone garbage collection (it needs a stable-cut protocol; tombstones stay).
 */
import type { NodeId } from '../../core/ids.ts';
import type { HlcTimestamp } from '../hlc.ts';
import { type LwwRegister, lwwMerge, lwwRegisterType, lwwSet } from './lww-register.ts';
import type { CrdtType } from './types.ts';

/** A register value: the stored value, or a deletion marker. */
export type LwwMapSlot<V> = { readonly kind: 'value'; readonly value: V } | { readonly kind: 'deleted' };

export type LwwMap<V> = Readonly<Record<string, LwwRegister<LwwMapSlot<V>>>>;

export function lwwMapEmpty<V>(): LwwMap<V> {
  return {};
}

function register<V>(m: LwwMap<V>, key: string): LwwRegister<LwwMapSlot<V>> {
  return Object.hasOwn(m, key) ? (m[key] ?? { entry: undefined }) : { entry: undefined };
}

export function lwwMapSet<V>(m: LwwMap<V>, key: string, value: V, ts: HlcTimestamp, node: NodeId): LwwMap<V> {
  return { ...m, [key]: lwwSet(register(m, key), { kind: 'value', value }, ts, node) };
}

export function lwwMapDelete<V>(m: LwwMap<V>, key: string, ts: HlcTimestamp, node: NodeId): LwwMap<V> {
  return { ...m, [key]: lwwSet<LwwMapSlot<V>>(register(m, key), { kind: 'deleted' }, ts, node) };
}

export function lwwMapGet<V>(m: LwwMap<V>, key: string): V | undefined {
  const e = register(m, key).entry;
  return e !== undefined && e.value.kind === 'value' ? e.value.value : undefined;
}

/** Merges one key's register into the map (used to apply a delta of one key). */
export function lwwMapMergeKey<V>(m: LwwMap<V>, key: string, reg: LwwRegister<LwwMapSlot<V>>): LwwMap<V> {
  const merged = lwwMerge(register(m, key), reg);
  if (merged === register(m, key) && Object.hasOwn(m, key)) return m;
  return { ...m, [key]: merged };
}

export function lwwMapMerge<V>(a: LwwMap<V>, b: LwwMap<V>): LwwMap<V> {
  let out: LwwMap<V> = a;
  for (const key of Object.keys(b)) out = lwwMapMergeKey(out, key, register(b, key));
  return out;
}

/** Live entries, sorted by key. */
export function lwwMapEntries<V>(m: LwwMap<V>): [string, V][] {
  const out: [string, V][] = [];
  for (const key of Object.keys(m).sort()) {
    const v = lwwMapGet(m, key);
    if (v !== undefined) out.push([key, v]);
  }
  return out;
}

export function lwwMapType<V>(): CrdtType<LwwMap<V>, [string, V][]> {
  const reg = lwwRegisterType<LwwMapSlot<V>>();
  return {
    name: 'lww-map',
    empty: () => lwwMapEmpty<V>(),
    merge: lwwMapMerge,
    equals: (a, b) => {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of keys) if (!reg.equals(register(a, k), register(b, k))) return false;
      return true;
    },
    value: lwwMapEntries,
  };
}
