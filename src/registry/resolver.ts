/**
 * Client-side discovery (seed 04.5.1, Eureka / Consul client): a resolver keeps a local cache of
 * a service's passing instances, fed by blocking queries against one or more registry nodes, and
 * hands the live endpoints to a balancing picker (`attach(balancer)`). When every registry node
 * is down it keeps serving the cached endpoints and reconnects with exponential backoff and
 * jitter; when a registry restarts (its index goes backwards) it starts over from index 0, as
 * Consul clients must.
 * Leaves out: stale reads from followers and local agents; persistence of the cache across
 * process restarts.
 */
import { RealClock, RealTimers, type Clock, type TimerHandle, type Timers } from '../core/clock.ts';
import type { EndpointSpec } from '../balancing/balancer.ts';
import type { HealthEntry } from './http-api.ts';

export interface ResolvedEndpoint {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

export interface ResolverOptions {
  /** Registry base URLs (`http://127.0.0.1:8500`); tried in turn on failure. */
  readonly registries: readonly string[];
  readonly service: string;
  readonly tag?: string;
  /** Blocking query wait. Default 30 s. */
  readonly waitMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** Random in [0,1) for backoff jitter (default Math.random: this is an I/O client, not a core). */
  readonly random?: () => number;
  readonly onChange?: (endpoints: readonly ResolvedEndpoint[]) => void;
  readonly onError?: (err: Error, registry: string) => void;
}

export interface ResolverStats {
  queries: number;
  errors: number;
  updates: number;
  reconnects: number;
}

export class Resolver {
  readonly stats: ResolverStats = { queries: 0, errors: 0, updates: 0, reconnects: 0 };
  private endpointsCache: readonly ResolvedEndpoint[] = [];
  private fingerprint = '';
  private index = 0;
  private current = 0;
  private closed = false;
  private connectedNow = false;
  private abort: AbortController | undefined;
  private sleepTimer: TimerHandle | undefined;
  private wakeSleep: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly listeners = new Set<(e: readonly ResolvedEndpoint[]) => void>();
  private firstResolve: (() => void) | undefined;
  private readonly first: Promise<void>;
  private readonly timers: Timers;
  /** When the cache last changed, by the resolver's clock. */
  lastUpdateMs = 0;
  private readonly clock: Clock;

  constructor(private readonly options: ResolverOptions) {
    if (options.registries.length === 0) throw new RangeError('Resolver needs at least one registry URL');
    this.timers = options.timers ?? new RealTimers();
    this.clock = options.clock ?? new RealClock();
    this.first = new Promise((resolve) => {
      this.firstResolve = resolve;
    });
    if (options.onChange !== undefined) this.listeners.add(options.onChange);
  }

  /** Starts following the service; resolves after the first answer (or stays pending while no registry answers). */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.first;
  }

  endpoints(): readonly ResolvedEndpoint[] {
    return this.endpointsCache;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  get registry(): string {
    return this.options.registries[this.current] ?? '';
  }

  onChange(listener: (e: readonly ResolvedEndpoint[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Keeps a balancer's endpoint set equal to the resolved endpoints (data: `host:port`). */
  attach(balancer: { setEndpoints(specs: readonly EndpointSpec<string>[]): void }): () => void {
    const apply = (eps: readonly ResolvedEndpoint[]) => balancer.setEndpoints(eps.map((e) => ({ id: e.id, weight: e.weight, data: `${e.address}:${e.port}` })));
    apply(this.endpointsCache);
    return this.onChange(apply);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    if (this.sleepTimer !== undefined) this.timers.clearTimeout(this.sleepTimer);
    this.wakeSleep?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const base = this.options.backoffBaseMs ?? 100;
    const max = this.options.backoffMaxMs ?? 5000;
    const random = this.options.random ?? Math.random;
    let failures = 0;
    while (!this.closed) {
      try {
        await this.queryOnce();
        if (failures > 0) this.stats.reconnects++;
        failures = 0;
        this.connectedNow = true;
      } catch (err) {
        if (this.closed) break;
        this.connectedNow = false;
        this.stats.errors++;
        // The registry may come back restarted with a smaller index that later reaches ours
        // again; a non-blocking first query after any failure cannot wait on a stale index.
        this.index = 0;
        failures++;
        this.options.onError?.(err instanceof Error ? err : new Error(String(err)), this.registry);
        this.current = (this.current + 1) % this.options.registries.length;
        const delay = Math.min(max, base * 2 ** Math.min(failures - 1, 20)) * (0.5 + random() / 2);
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = this.timers.setTimeout(() => {
        this.sleepTimer = undefined;
        resolve();
      }, ms);
    });
  }

  private async queryOnce(): Promise<void> {
    const waitMs = this.options.waitMs ?? 30_000;
    const params = new URLSearchParams({ passing: '1' });
    if (this.options.tag !== undefined) params.set('tag', this.options.tag);
    if (this.index > 0) {
      params.set('index', String(this.index));
      params.set('wait', `${waitMs}ms`);
    }
    const url = `${this.registry}/v1/health/service/${encodeURIComponent(this.options.service)}?${params}`;
    this.abort = new AbortController();
    const timeout = this.timers.setTimeout(() => this.abort?.abort(), waitMs + waitMs / 16 + 2000);
    this.stats.queries++;
    try {
      const res = await fetch(url, { signal: this.abort.signal });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`registry answered ${res.status}`);
      }
      const body = (await res.json()) as HealthEntry[];
      const newIndex = Number(res.headers.get('x-index') ?? res.headers.get('x-consul-index') ?? '0');
      // Consul: an index that went backwards (registry restarted, store reset) means start over.
      this.index = !Number.isSafeInteger(newIndex) || newIndex < 1 ? 0 : newIndex < this.index ? 0 : newIndex;
      this.update(body);
    } finally {
      this.timers.clearTimeout(timeout);
    }
  }

  private update(entries: readonly HealthEntry[]): void {
    const eps: ResolvedEndpoint[] = entries
      .map((e) => ({ id: e.Service.ID, address: e.Service.Address, port: e.Service.Port, weight: e.Service.Weights.Passing, tags: e.Service.Tags, meta: e.Service.Meta }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const fp = JSON.stringify(eps);
    this.firstResolve?.();
    this.firstResolve = undefined;
    if (fp === this.fingerprint) return;
    this.fingerprint = fp;
    this.endpointsCache = eps;
    this.lastUpdateMs = this.clock.now();
    this.stats.updates++;
    for (const l of [...this.listeners]) l(eps);
  }
}

/** A small HTTP client for the registry API (what the CLI uses). */
export class RegistryClient {
  constructor(readonly base: string) {}

  async register(body: unknown): Promise<{ ID: string }> {
    return this.call('PUT', '/v1/agent/service/register', body) as Promise<{ ID: string }>;
  }

  async deregister(id: string): Promise<void> {
    await this.call('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
  }

  async check(id: string, status: 'pass' | 'warn' | 'fail', note?: string): Promise<void> {
    await this.call('PUT', `/v1/agent/check/${status}/${encodeURIComponent(id)}${note === undefined ? '' : `?note=${encodeURIComponent(note)}`}`);
  }

  async services(): Promise<Record<string, string[]>> {
    return this.call('GET', '/v1/catalog/services') as Promise<Record<string, string[]>>;
  }

  async health(service: string, passing = false): Promise<HealthEntry[]> {
    return this.call('GET', `/v1/health/service/${encodeURIComponent(service)}${passing ? '?passing' : ''}`) as Promise<HealthEntry[]>;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    if (res.status !== 200) {
      const msg = typeof json === 'object' && json !== null && 'error' in json ? String((json as { error: unknown }).error) : text;
      throw new RegistryRequestError(res.status, msg);
    }
    return json;
  }
}

export class RegistryRequestError extends Error {
  override readonly name = 'RegistryRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
