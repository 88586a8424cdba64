/**
 * The one interface every registry store implements (seed 04.5.3: the registry's storage may be
 * strongly consistent — etcd, ZooKeeper, clusterkit's Raft KV — or eventually consistent — a
 * Consul-agent-like gossip map). A store holds instance records by id, numbers its states with a
 * monotonically increasing `index`, and tells subscribers that something changed; the registry
 * re-reads a snapshot. Snapshots are whole (registries are small: thousands of instances).
 * Leaves out: per-key versions and transactions (a registration is one record, last write wins).
 */
import type { InstanceRecord } from './types.ts';

export interface StoreSnapshot {
  /** Grows with every change the store has seen; comparable only within one store. */
  readonly index: number;
  readonly records: readonly InstanceRecord[];
}

export interface RegistryStore {
  /** Short name for status pages and metrics: memory, kv, etcd, gossip. */
  readonly kind: string;
  put(record: InstanceRecord): Promise<void>;
  /** Removes a record; false when it was not there. */
  remove(id: string): Promise<boolean>;
  snapshot(): Promise<StoreSnapshot>;
  /**
   * Calls `listener` after changes (possibly coalesced, possibly made through another client of
   * the same backend). Returns an unsubscribe function.
   */
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Stable JSON encoding of a record, for stores that keep bytes. */
export function encodeRecord(r: InstanceRecord): string {
  return JSON.stringify(r);
}

export function decodeRecord(text: string): InstanceRecord | undefined {
  try {
    const v = JSON.parse(text) as InstanceRecord;
    if (typeof v !== 'object' || v === null || typeof v.id !== 'string' || typeof v.service !== 'string') return undefined;
    return v;
  } catch {
    return undefined;
  }
}
