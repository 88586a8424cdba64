/**
 * Opens a registry store by kind, for the CLI and benchmarks.
 * Leaves out: reading store settings from a file.
 */
import { ConfigError } from '../core/errors.ts';
import { MemoryStore } from './memory-store.ts';
import type { RegistryStore } from './store.ts';

export const STORE_KINDS = ['memory'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface OpenStoreOptions {
  readonly kind: string;
  /** Endpoints of the backend (etcd or clusterkit kv URLs; gossip peers). */
  readonly endpoints?: readonly string[];
  /** Key prefix in a KV backend. */
  readonly prefix?: string;
}

export async function openStore(o: OpenStoreOptions): Promise<RegistryStore> {
  switch (o.kind) {
    case 'memory':
      return new MemoryStore();
    default:
      throw new ConfigError(`--store must be one of ${STORE_KINDS.join(', ')}; got ${JSON.stringify(o.kind)}`);
  }
}
