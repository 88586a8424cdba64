/**
 * In-memory registry store: a map and a counter. The reference implementation of
 * `RegistryStore`, for one registry process, tests and the simulator. Listeners are called
 * synchronously after each change.
 * Leaves out: persistence and replication (use the kv, etcd or gossip stores).
 */
import type { RegistryStore, StoreSnapshot } from './store.ts';
import type { InstanceRecord } from './types.ts';

export class MemoryStore implements RegistryStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, InstanceRecord>();
  private index: number;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  /**
   * `startIndex`: the first index. A registry process that restarts with an empty memory store
   * should start above any index its clients may hold (the CLI uses the wall clock), so blocking
   * queries never wait on an index from before the restart.
   */
  constructor(startIndex = 0) {
    this.index = startIndex;
  }

  async put(record: InstanceRecord): Promise<void> {
    this.checkOpen();
    this.records.set(record.id, record);
    this.changed();
  }

  async remove(id: string): Promise<boolean> {
    this.checkOpen();
    if (!this.records.delete(id)) return false;
    this.changed();
    return true;
  }

  async snapshot(): Promise<StoreSnapshot> {
    this.checkOpen();
    return { index: this.index, records: [...this.records.values()] };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('memory store is closed');
  }

  private changed(): void {
    this.index++;
    for (const l of [...this.listeners]) l();
  }
}
