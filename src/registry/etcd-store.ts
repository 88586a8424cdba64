/**
 * Registry store on an external etcd cluster through the `etcd3` client (gRPC), for users who
 * already run etcd (seed 04.5.3). Records live under `prefix + id`, attached to this registry
 * node's lease: if the registry node dies, etcd drops its instances when the lease's TTL runs
 * out (the TTL of the node, as Consul agents' and etcd-based registries' sessions). If the lease
 * is lost (etcd unreachable longer than the TTL), a new one is granted and this node's records
 * are written again. The index is etcd's revision; a prefix watch drives `subscribe`.
 * Leaves out: TLS and auth options, per-instance leases.
 */
import { Etcd3, type Lease } from 'etcd3';
import type { RegistryStore, StoreSnapshot } from './store.ts';
import { decodeRecord, encodeRecord } from './store.ts';
import type { InstanceRecord } from './types.ts';

export interface EtcdStoreOptions {
  readonly hosts: readonly string[];
  readonly prefix?: string;
  /** Lease TTL of this registry node's records, seconds. Default 10. */
  readonly leaseTtlSec?: number;
  readonly dialTimeoutMs?: number;
}

export class EtcdStore implements RegistryStore {
  readonly kind = 'etcd';
  readonly client: Etcd3;
  private readonly prefix: string;
  private lease: Lease;
  private readonly own = new Map<string, InstanceRecord>();
  private readonly listeners = new Set<() => void>();
  private watcher: { cancel(): Promise<void> } | undefined;
  private watchStarting = false;
  private closed = false;
  /** Leases lost and re-granted. */
  leaseRenewals = 0;

  constructor(private readonly options: EtcdStoreOptions) {
    this.client = new Etcd3({ hosts: [...options.hosts], dialTimeout: options.dialTimeoutMs ?? 3000 });
    this.prefix = options.prefix ?? '/clusterkit/registry/';
    this.lease = this.newLease();
  }

  private newLease(): Lease {
    const lease = this.client.lease(this.options.leaseTtlSec ?? 10, { autoKeepAlive: true });
    lease.on('lost', () => {
      if (this.closed || lease !== this.lease) return;
      this.leaseRenewals++;
      this.lease = this.newLease();
      void this.rewriteOwn();
    });
    return lease;
  }

  private async rewriteOwn(): Promise<void> {
    for (const r of [...this.own.values()]) {
      try {
        await this.lease.put(this.prefix + r.id).value(encodeRecord(r)).exec();
      } catch {
        // etcd still unreachable: the next 'lost' retries
      }
    }
    this.notify();
  }

  async put(record: InstanceRecord): Promise<void> {
    this.own.set(record.id, record);
    await this.lease.put(this.prefix + record.id).value(encodeRecord(record)).exec();
  }

  async remove(id: string): Promise<boolean> {
    this.own.delete(id);
    const r = await this.client.delete().key(this.prefix + id).exec();
    return Number(r.deleted) > 0;
  }

  async snapshot(): Promise<StoreSnapshot> {
    const r = await this.client.getAll().prefix(this.prefix).exec();
    const records: InstanceRecord[] = [];
    for (const kv of r.kvs) {
      const rec = decodeRecord(kv.value.toString('utf8'));
      if (rec !== undefined) records.push(rec);
    }
    return { index: Number(r.header.revision), records };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.watcher === undefined && !this.watchStarting) {
      this.watchStarting = true;
      this.client
        .watch()
        .prefix(this.prefix)
        .create()
        .then((w) => {
          if (this.closed) {
            void w.cancel();
            return;
          }
          this.watcher = w;
          w.on('put', () => this.notify());
          w.on('delete', () => this.notify());
          w.on('connected', () => this.notify());
          w.on('error', () => {});
        })
        .catch(() => {
          this.watchStarting = false;
        });
    }
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    try {
      await this.watcher?.cancel();
    } catch {
      // closing anyway
    }
    // Release (not revoke): the records stay until the TTL runs out, as after a crash; deregister removes them explicitly.
    this.lease.release();
    this.client.close();
  }
}
