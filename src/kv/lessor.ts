/**
 * Leases, after etcd's lease package: a lease has an id, a TTL in seconds and an expiry; keys
 * attached to it are deleted when it is revoked. Unlike etcd's lessor, nothing here reads a
 * clock: grant and keep-alive take `nowMs` from the command (chosen by the proposer), and expiry
 * happens only through a committed expire command, so every replica revokes the same leases at
 * the same point in the log.
 *
 * Leaves out: checkpointing of remaining TTLs and the "promote" renewal a new etcd leader does
 * (a host that wants it proposes keep-alives for every lease after an election).
 */
import { KvError } from './errors.ts';

export interface Lease {
  readonly id: number;
  readonly ttlSec: number;
  /** Absolute expiry in the proposers' millisecond clock. */
  expiryMs: number;
  /** Attached keys (binary strings). */
  readonly keys: Set<string>;
}

/** Largest lease id and TTL accepted (etcd's MaxLeaseTTL is 9e9 s; ids must stay exact in a double). */
export const LEASE_ID_MAX = Number.MAX_SAFE_INTEGER;

export class Lessor {
  private readonly leases = new Map<number, Lease>();
  /** Next id tried when a grant asks for id 0. */
  nextId = 1;

  constructor(private readonly leasesMax: number) {}

  get size(): number {
    return this.leases.size;
  }

  get(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  require(id: number): Lease {
    const l = this.leases.get(id);
    if (l === undefined) throw new KvError('lease-not-found', `lease ${id} not found`);
    return l;
  }

  grant(id: number, ttlSec: number, nowMs: number): Lease {
    if (this.leases.size >= this.leasesMax) throw new KvError('quota-exceeded', `too many leases: the limit is ${this.leasesMax} (leasesMax)`);
    if (id === 0) {
      while (this.leases.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.leases.has(id)) {
      throw new KvError('lease-exists', `lease ${id} already exists`);
    }
    const lease: Lease = { id, ttlSec, expiryMs: nowMs + ttlSec * 1000, keys: new Set() };
    this.leases.set(id, lease);
    return lease;
  }

  /** Removes the lease; returns its keys in key order (the caller deletes them). */
  revoke(id: number): string[] {
    const lease = this.require(id);
    this.leases.delete(id);
    return [...lease.keys].sort();
  }

  keepAlive(id: number, nowMs: number): Lease {
    const lease = this.require(id);
    lease.expiryMs = nowMs + lease.ttlSec * 1000;
    return lease;
  }

  attach(id: number, key: string): void {
    if (id !== 0) this.leases.get(id)?.keys.add(key);
  }

  detach(id: number, key: string): void {
    if (id !== 0) this.leases.get(id)?.keys.delete(key);
  }

  /** Leases whose expiry is <= nowMs, earliest first (ties by id), at most `max`. */
  expired(nowMs: number, max: number): number[] {
    const out: Lease[] = [];
    for (const l of this.leases.values()) if (l.expiryMs <= nowMs) out.push(l);
    out.sort((a, b) => a.expiryMs - b.expiryMs || a.id - b.id);
    return out.slice(0, max).map((l) => l.id);
  }

  /** All leases by id (for snapshots and listings). */
  all(): Lease[] {
    return [...this.leases.values()].sort((a, b) => a.id - b.id);
  }

  load(leases: readonly Lease[], nextId: number): void {
    this.leases.clear();
    for (const l of leases) this.leases.set(l.id, l);
    this.nextId = nextId;
  }
}
