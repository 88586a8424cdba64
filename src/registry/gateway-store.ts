/**
 * Strong registry store over the etcd v3 JSON gateway API (POST /v3/kv/put, /v3/kv/range,
 * /v3/kv/deleterange, /v3/watch): clusterkit's Raft KV serves that API, and so does a real
 * etcd's grpc-gateway, so one store speaks to both (seed 04.5.3: etcd as a registry; 04.6.4:
 * Raft underneath). Records are JSON values under `prefix + id`; the store index is the KV's
 * revision; one watch stream on the prefix drives `subscribe`, reopened with backoff when it
 * breaks (and listeners are told, since changes may have been missed). Endpoints are tried in
 * turn when one fails.
 * With `leaseTtlSec`, records carry this registry node's lease (kept alive every TTL/3): when
 * the node dies its instances vanish after the TTL; a lease found expired is re-granted and the
 * node's records written again (the same node-liveness scheme as the etcd3 store).
 * Leaves out: auth, TLS.
 */
import type { RegistryStore, StoreSnapshot } from './store.ts';
import { decodeRecord, encodeRecord } from './store.ts';
import type { InstanceRecord } from './types.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The key just past every key with `prefix` (etcd's prefix range_end), base64. */
function prefixEndB64(prefix: string): string {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] ?? 0) < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = (out[i] ?? 0) + 1;
      return out.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

export interface GatewayStoreOptions {
  /** Base URLs, e.g. http://127.0.0.1:2379. */
  readonly endpoints: readonly string[];
  /** Key prefix. Default `/clusterkit/registry/`. */
  readonly prefix?: string;
  /** Name reported as `kind` (kv for clusterkit, etcd-gateway for etcd). */
  readonly kind?: string;
  /** Per-request timeout. Default 5 s. */
  readonly requestTimeoutMs?: number;
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  /** Attach records to a lease of this TTL (seconds), kept alive while the store is open. */
  readonly leaseTtlSec?: number;
}

export class GatewayStore implements RegistryStore {
  readonly kind: string;
  private readonly prefix: string;
  private readonly listeners = new Set<() => void>();
  private current = 0;
  private closed = false;
  private watchAbort: AbortController | undefined;
  private watching = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Watch stream (re)connections, for tests and status. */
  watchConnects = 0;
  /** Leases granted (1 + re-grants after expiry). */
  leasesGranted = 0;
  private leaseId: string | undefined;
  private leasing: Promise<string> | undefined;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private readonly own = new Map<string, InstanceRecord>();

  constructor(private readonly options: GatewayStoreOptions) {
    if (options.endpoints.length === 0) throw new RangeError('GatewayStore needs at least one endpoint');
    this.prefix = options.prefix ?? '/clusterkit/registry/';
    this.kind = options.kind ?? 'kv';
  }

  async put(record: InstanceRecord): Promise<void> {
    if (this.options.leaseTtlSec === undefined) {
      await this.call('/v3/kv/put', { key: b64(this.prefix + record.id), value: b64(encodeRecord(record)) });
      return;
    }
    this.own.set(record.id, record);
    const lease = await this.lease();
    await this.call('/v3/kv/put', { key: b64(this.prefix + record.id), value: b64(encodeRecord(record)), lease });
  }

  private lease(): Promise<string> {
    if (this.leaseId !== undefined) return Promise.resolve(this.leaseId);
    this.leasing ??= (async () => {
      try {
        const r = (await this.call('/v3/lease/grant', { TTL: this.options.leaseTtlSec })) as { ID?: string };
        if (r.ID === undefined) throw new Error('lease grant without an ID');
        this.leaseId = r.ID;
        this.leasesGranted++;
        if (this.keepAliveTimer === undefined) {
          this.keepAliveTimer = setInterval(() => void this.keepAlive(), ((this.options.leaseTtlSec ?? 10) * 1000) / 3);
          this.keepAliveTimer.unref();
        }
        return r.ID;
      } finally {
        this.leasing = undefined;
      }
    })();
    return this.leasing;
  }

  private async keepAlive(): Promise<void> {
    const id = this.leaseId;
    if (id === undefined || this.closed) return;
    let expired = false;
    try {
      const r = (await this.call('/v3/lease/keepalive', { ID: id })) as { result?: { TTL?: string } };
      expired = Number(r.result?.TTL ?? '0') <= 0;
    } catch (err) {
      // unreachable: try again next period; "not found": the lease is gone
      expired = /not found|NotFound|requested lease/i.test(err instanceof Error ? err.message : String(err));
    }
    if (!expired || this.closed) return;
    this.leaseId = undefined;
    try {
      for (const r of [...this.own.values()]) await this.put(r);
    } catch {
      // next period retries
    }
  }

  async remove(id: string): Promise<boolean> {
    this.own.delete(id);
    const r = (await this.call('/v3/kv/deleterange', { key: b64(this.prefix + id) })) as { deleted?: string };
    return Number(r.deleted ?? '0') > 0;
  }

  async snapshot(): Promise<StoreSnapshot> {
    const r = (await this.call('/v3/kv/range', { key: b64(this.prefix), range_end: prefixEndB64(this.prefix) })) as {
      header?: { revision?: string };
      kvs?: { value?: string }[];
    };
    const records: InstanceRecord[] = [];
    for (const kv of r.kvs ?? []) {
      const rec = decodeRecord(unb64(kv.value));
      if (rec !== undefined) records.push(rec);
    }
    return { index: Number(r.header?.revision ?? '0'), records };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.watching) {
      this.watching = true;
      void this.watchLoop();
    }
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.watchAbort?.abort();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    // The lease is left to run out, as after a crash; deregistration removes records explicitly.
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
  }

  private get endpoint(): string {
    return (this.options.endpoints[this.current % this.options.endpoints.length] ?? '').replace(/\/$/, '');
  }

  private async call(path: string, body: unknown): Promise<unknown> {
    if (this.closed) throw new Error(`${this.kind} store is closed`);
    let lastErr: unknown;
    for (let i = 0; i < this.options.endpoints.length; i++) {
      try {
        const res = await fetch(`${this.endpoint}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 5000),
        });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`${this.endpoint}${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
        return JSON.parse(text) as unknown;
      } catch (err) {
        lastErr = err;
        this.current++;
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private async watchLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      this.watchAbort = new AbortController();
      try {
        const res = await fetch(`${this.endpoint}/v3/watch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ create_request: { key: b64(this.prefix), range_end: prefixEndB64(this.prefix) } }),
          signal: this.watchAbort.signal,
        });
        if (res.status !== 200 || res.body === null) throw new Error(`watch: HTTP ${res.status}`);
        this.watchConnects++;
        if (failures > 0 || this.watchConnects > 1) this.notify(); // changes may have been missed while disconnected
        failures = 0;
        let buf = '';
        const decoder = new TextDecoder();
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk as Uint8Array, { stream: true });
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
            if (line === '') continue;
            try {
              const msg = JSON.parse(line) as { result?: { events?: unknown[]; canceled?: boolean } };
              if ((msg.result?.events?.length ?? 0) > 0) this.notify();
            } catch {
              // a partial or foreign line: ignore, the next event or reconnect resyncs
            }
          }
          if (buf.length > 16 * 1024 * 1024) throw new Error('watch: line over 16 MiB');
        }
        throw new Error('watch stream ended');
      } catch {
        if (this.closed) return;
        failures++;
        this.current++;
        const delay = Math.min(this.options.reconnectMaxMs ?? 2000, (this.options.reconnectBaseMs ?? 50) * 2 ** Math.min(failures - 1, 10));
        await new Promise<void>((resolve) => {
          this.retryTimer = setTimeout(resolve, delay);
        });
      }
    }
  }
}
