/**
 * The service registry (seed 04.5.3) in the shape of a Consul agent + catalog: instances are
 * registered with an optional health check, checks move them between passing / warning /
 * critical, critical instances are deregistered after a configured time, and readers either ask
 * (`health`), block until the answer changes (`blockingHealth`: Consul's blocking query — return
 * at once if the service's index moved past the caller's, else wait up to `waitMs`) or subscribe
 * to a stream (`watch`). The optional self-preservation mode is Eureka's: when more than
 * `thresholdShare` of the instances would expire within `windowMs`, the registry assumes the
 * network, not the instances, failed; it stops expiring TTLs and says so in `status()` and events.
 *
 * Records live in a `RegistryStore`; this object caches the store's latest snapshot and answers
 * reads from it. Checks of instances registered through this node run here (the agent model).
 * Time comes from the injected Clock and Timers and probes from the injected Prober, so the
 * simulator runs it in virtual time. No Date.now, no sockets here.
 * Leaves out: anti-entropy between agent and catalog (the agent re-puts its own records when
 * they change), multiple checks per instance, maintenance mode.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.ts';
import { ConfigError } from '../core/errors.ts';
import type { RegistryStore, StoreSnapshot } from './store.ts';
import {
  type CheckSpec,
  type HealthStatus,
  type InstanceRecord,
  type InstanceSpec,
  parseRegistration,
  RegistrationError,
  VALIDATION_DEFAULTS,
  type ValidationLimits,
} from './types.ts';

export interface ProbeResult {
  readonly status: HealthStatus;
  readonly output: string;
}

/** Runs one active check. The real one dials sockets (probe.ts); tests supply their own. */
export interface Prober {
  probe(check: Extract<CheckSpec, { type: 'http' | 'tcp' }>): Promise<ProbeResult>;
}

export interface SelfPreservationConfig {
  readonly enabled: boolean;
  /** Share of instances whose expiry within `windowMs` turns self-preservation on. Eureka: 0.15. */
  readonly thresholdShare: number;
  readonly windowMs: number;
  /** Below this many instances, never engage (one expiry of two is not a network failure). */
  readonly instancesMin: number;
}

export interface RegistryConfig {
  /** This registry node's name (recorded as the owner of the checks it runs). */
  readonly node: string;
  readonly selfPreservation: SelfPreservationConfig;
  /** Blocking queries waiting at once, at most; beyond it they return at once (clients poll). */
  readonly waitersMax: number;
  /** Longest `wait` a blocking query may ask for (Consul: 10 minutes). */
  readonly waitMaxMs: number;
  /** Instances this node runs checks for, at most. */
  readonly localInstancesMax: number;
  readonly limits: ValidationLimits;
}

export const REGISTRY_DEFAULTS: RegistryConfig = {
  node: 'registry-1',
  selfPreservation: { enabled: false, thresholdShare: 0.15, windowMs: 60_000, instancesMin: 4 },
  waitersMax: 4096,
  waitMaxMs: 600_000,
  localInstancesMax: 10_000,
  limits: VALIDATION_DEFAULTS,
};

export type RegistryEvent =
  | { readonly type: 'registered'; readonly id: string; readonly service: string }
  | { readonly type: 'deregistered'; readonly id: string; readonly reason: 'api' | 'critical' }
  | { readonly type: 'status'; readonly id: string; readonly from: HealthStatus; readonly to: HealthStatus; readonly output: string }
  | { readonly type: 'self-preservation'; readonly active: boolean; readonly expiringShare: number }
  | { readonly type: 'store-error'; readonly op: string; readonly message: string };

export interface HealthQuery {
  /** Only passing instances (Consul `?passing`); otherwise all. */
  readonly passing?: boolean;
  readonly tag?: string;
}

export interface HealthResult {
  readonly index: number;
  readonly instances: readonly InstanceRecord[];
}

export interface RegistryStats {
  registrations: number;
  deregistrations: number;
  ttlExpiries: number;
  expiriesSuppressed: number;
  checksRun: number;
  blockingQueries: number;
  storeErrors: number;
}

interface LocalInstance {
  record: InstanceRecord;
  timer: TimerHandle | undefined;
  deregisterTimer: TimerHandle | undefined;
  successes: number;
  failures: number;
  probing: boolean;
  /** Store writes of this instance, one at a time, so a slow write never lands after a newer one. */
  writing: Promise<void>;
}

interface Waiter {
  readonly service: string | undefined;
  readonly index: number;
  readonly resolve: () => void;
  timer: TimerHandle | undefined;
}

const OUTPUT_BYTES_MAX = 512;
const REMOVED_SERVICES_MAX = 1024;
const EXPIRY_HISTORY_MAX = 100_000;

export class Registry {
  readonly config: RegistryConfig;
  readonly store: RegistryStore;
  readonly stats: RegistryStats = {
    registrations: 0,
    deregistrations: 0,
    ttlExpiries: 0,
    expiriesSuppressed: 0,
    checksRun: 0,
    blockingQueries: 0,
    storeErrors: 0,
  };
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly prober: Prober | undefined;
  private readonly onEvent: ((e: RegistryEvent) => void) | undefined;
  private readonly local = new Map<string, LocalInstance>();
  private snap: StoreSnapshot = { index: 0, records: [] };
  private byService = new Map<string, InstanceRecord[]>();
  private readonly serviceIndex = new Map<string, number>();
  private readonly serviceFingerprint = new Map<string, string>();
  private readonly removedServices = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private readonly watchers = new Set<{ service: string; query: HealthQuery; listener: (r: HealthResult) => void }>();
  private readonly expiryTimesMs: number[] = [];
  private lastSuppressedMs = Number.NEGATIVE_INFINITY;
  private selfPreservationReported = false;
  private unsubscribe: (() => void) | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private closed = false;

  constructor(opts: {
    store: RegistryStore;
    clock: Clock;
    timers: Timers;
    prober?: Prober;
    config?: Partial<RegistryConfig>;
    onEvent?: (e: RegistryEvent) => void;
  }) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.timers = opts.timers;
    this.prober = opts.prober;
    this.onEvent = opts.onEvent;
    this.config = { ...REGISTRY_DEFAULTS, ...opts.config };
    const sp = this.config.selfPreservation;
    if (!(sp.thresholdShare > 0 && sp.thresholdShare <= 1)) throw new ConfigError(`selfPreservation.thresholdShare must be in (0, 1], got ${sp.thresholdShare}`);
    if (!(sp.windowMs > 0)) throw new ConfigError(`selfPreservation.windowMs must be > 0, got ${sp.windowMs}`);
    if (!(this.config.waitersMax >= 0)) throw new ConfigError(`waitersMax must be >= 0, got ${this.config.waitersMax}`);
  }

  /** Reads the store's current state and follows its changes. */
  async start(): Promise<void> {
    this.unsubscribe = this.store.subscribe(() => void this.refresh());
    await this.refresh();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const l of this.local.values()) this.cancelTimers(l);
    this.local.clear();
    for (const w of this.waiters) {
      if (w.timer !== undefined) this.timers.clearTimeout(w.timer);
      w.resolve();
    }
    this.waiters.clear();
    this.watchers.clear();
  }

  /** Re-reads the store (coalescing concurrent calls). Resolves when the cache is at least as new as the store was at the call. */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const s = await this.store.snapshot();
          if (!this.closed) this.apply(s);
        } catch (err) {
          this.storeError('snapshot', err);
        }
      } while (this.refreshAgain && !this.closed);
      this.refreshing = undefined;
    })();
    return this.refreshing;
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Validates and registers (or re-registers) an instance. Throws RegistrationError on bad input. */
  async register(body: unknown): Promise<InstanceRecord> {
    const spec = parseRegistration(body, this.config.limits);
    if (spec.check !== undefined && spec.check.type !== 'ttl' && this.prober === undefined) {
      throw new RegistrationError('Check', 'this registry has no prober for http/tcp checks');
    }
    if (!this.local.has(spec.id) && this.local.size >= this.config.localInstancesMax) {
      throw new RegistrationError('ID', `this node already runs ${this.config.localInstancesMax} instances (localInstancesMax)`);
    }
    return this.registerSpec(spec);
  }

  async registerSpec(spec: InstanceSpec): Promise<InstanceRecord> {
    const record: InstanceRecord = { ...spec, status: 'passing', output: '', node: this.config.node };
    const old = this.local.get(spec.id);
    if (old !== undefined) this.cancelTimers(old);
    const l: LocalInstance = { record, timer: undefined, deregisterTimer: undefined, successes: 0, failures: 0, probing: false, writing: Promise.resolve() };
    if (old !== undefined) await old.writing;
    this.local.set(spec.id, l);
    await this.persist(l);
    this.stats.registrations++;
    this.onEvent?.({ type: 'registered', id: spec.id, service: spec.service });
    this.armCheck(l);
    await this.refresh();
    return record;
  }

  /** Removes an instance; false when no such instance exists. */
  async deregister(id: string, reason: 'api' | 'critical' = 'api'): Promise<boolean> {
    const l = this.local.get(id);
    if (l !== undefined) {
      this.cancelTimers(l);
      this.local.delete(id);
      await l.writing; // a status write still in flight must not land after the removal
    }
    const removed = await this.store.remove(id);
    if (removed || l !== undefined) {
      this.stats.deregistrations++;
      this.onEvent?.({ type: 'deregistered', id, reason });
    }
    await this.refresh();
    return removed || l !== undefined;
  }

  /**
   * TTL heartbeat (Consul's /v1/agent/check/pass|warn|fail). `id` is the instance id or the
   * check id `service:<id>`. Returns false when this node runs no check by that id.
   */
  async updateTtl(id: string, status: HealthStatus, note = ''): Promise<boolean> {
    const key = id.startsWith('service:') ? id.slice('service:'.length) : id;
    const l = this.local.get(key);
    if (l === undefined || l.record.check?.type !== 'ttl') return false;
    this.armCheck(l);
    await this.setStatus(l, status, note);
    return true;
  }

  // ---- reads --------------------------------------------------------------------------------

  get index(): number {
    return this.snap.index;
  }

  /** Service names with the union of their tags (Consul /v1/catalog/services). */
  services(): { index: number; services: Record<string, string[]> } {
    const out: Record<string, string[]> = {};
    for (const [name, list] of [...this.byService.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      out[name] = [...new Set(list.flatMap((r) => r.tags))].sort();
    }
    return { index: this.snap.index, services: out };
  }

  /**
   * The index at which `service`'s instance list last changed; 1 for a service never seen (so a
   * blocking query on a service that does not exist yet waits for that service only).
   */
  serviceIndexOf(service: string | undefined): number {
    if (service === undefined) return this.snap.index;
    return this.serviceIndex.get(service) ?? this.removedServices.get(service) ?? 1;
  }

  health(service: string, query: HealthQuery = {}): HealthResult {
    const list = this.byService.get(service) ?? [];
    const instances = list.filter((r) => (!query.passing || r.status === 'passing') && (query.tag === undefined || r.tags.includes(query.tag)));
    return { index: this.serviceIndexOf(service), instances };
  }

  instances(): readonly InstanceRecord[] {
    return this.snap.records;
  }

  /**
   * Consul blocking query: resolves at once when the service's index is past `index` (or
   * `index` is 0), else when it moves or after `waitMs`, whichever is first.
   */
  async blockingHealth(service: string, query: HealthQuery & { index: number; waitMs: number }): Promise<HealthResult> {
    await this.waitForIndex(service, query.index, query.waitMs);
    return this.health(service, query);
  }

  async blockingServices(index: number, waitMs: number): Promise<{ index: number; services: Record<string, string[]> }> {
    await this.waitForIndex(undefined, index, waitMs);
    return this.services();
  }

  /** Streamed form: calls `listener` with the current answer and again whenever it changes. */
  watch(service: string, query: HealthQuery, listener: (r: HealthResult) => void): () => void {
    const w = { service, query, listener };
    this.watchers.add(w);
    listener(this.health(service, query));
    return () => this.watchers.delete(w);
  }

  waitForIndex(service: string | undefined, index: number, waitMs: number): Promise<void> {
    this.stats.blockingQueries++;
    if (index <= 0 || this.serviceIndexOf(service) !== index || this.closed) return Promise.resolve();
    if (this.waiters.size >= this.config.waitersMax) return Promise.resolve();
    const wait = Math.min(Math.max(0, waitMs), this.config.waitMaxMs);
    return new Promise<void>((resolve) => {
      const w: Waiter = { service, index, resolve, timer: undefined };
      w.timer = this.timers.setTimeout(() => {
        this.waiters.delete(w);
        resolve();
      }, wait);
      this.waiters.add(w);
    });
  }

  /** True while self-preservation keeps TTLs from expiring. */
  get selfPreservationActive(): boolean {
    return this.config.selfPreservation.enabled && this.clock.now() - this.lastSuppressedMs < this.config.selfPreservation.windowMs;
  }

  status(): Record<string, unknown> {
    const counts: Record<HealthStatus, number> = { passing: 0, warning: 0, critical: 0 };
    for (const r of this.snap.records) counts[r.status]++;
    return {
      node: this.config.node,
      store: this.store.kind,
      index: this.snap.index,
      services: this.byService.size,
      instances: this.snap.records.length,
      localInstances: this.local.size,
      byStatus: counts,
      selfPreservation: { enabled: this.config.selfPreservation.enabled, active: this.selfPreservationActive },
      waiters: this.waiters.size,
      stats: { ...this.stats },
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  private apply(s: StoreSnapshot): void {
    if (s.index < this.snap.index) return; // an older read finished late
    const groups = new Map<string, InstanceRecord[]>();
    for (const r of [...s.records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const g = groups.get(r.service);
      if (g === undefined) groups.set(r.service, [r]);
      else g.push(r);
    }
    const changed = new Set<string>();
    for (const [name, list] of groups) {
      const fp = JSON.stringify(list);
      if (this.serviceFingerprint.get(name) !== fp) {
        changed.add(name);
        this.serviceFingerprint.set(name, fp);
        this.serviceIndex.set(name, Math.max(1, s.index));
        this.removedServices.delete(name);
      }
    }
    for (const name of [...this.serviceFingerprint.keys()]) {
      if (groups.has(name)) continue;
      changed.add(name);
      this.serviceFingerprint.delete(name);
      this.serviceIndex.delete(name);
      this.removedServices.set(name, Math.max(1, s.index));
      if (this.removedServices.size > REMOVED_SERVICES_MAX) {
        const oldest = this.removedServices.keys().next().value;
        if (oldest !== undefined) this.removedServices.delete(oldest);
      }
    }
    const catalogMoved = s.index !== this.snap.index;
    this.snap = s;
    this.byService = groups;
    for (const w of [...this.waiters]) {
      const moved = w.service === undefined ? catalogMoved : changed.has(w.service) || this.serviceIndexOf(w.service) !== w.index;
      if (!moved) continue;
      this.waiters.delete(w);
      if (w.timer !== undefined) this.timers.clearTimeout(w.timer);
      w.resolve();
    }
    for (const w of [...this.watchers]) {
      if (!changed.has(w.service)) continue;
      w.listener(this.health(w.service, w.query));
    }
  }

  private cancelTimers(l: LocalInstance): void {
    if (l.timer !== undefined) this.timers.clearTimeout(l.timer);
    if (l.deregisterTimer !== undefined) this.timers.clearTimeout(l.deregisterTimer);
    l.timer = undefined;
    l.deregisterTimer = undefined;
  }

  private armCheck(l: LocalInstance): void {
    const c = l.record.check;
    if (c === undefined || this.closed) return;
    if (l.timer !== undefined) this.timers.clearTimeout(l.timer);
    switch (c.type) {
      case 'ttl':
        l.timer = this.timers.setTimeout(() => this.ttlExpired(l), c.ttlMs);
        return;
      case 'http':
      case 'tcp':
        l.timer = this.timers.setTimeout(() => void this.runProbe(l, c), c.intervalMs);
        return;
    }
  }

  private ttlExpired(l: LocalInstance): void {
    l.timer = undefined;
    if (this.local.get(l.record.id) !== l || l.record.check?.type !== 'ttl') return;
    if (l.record.status === 'critical') return;
    const now = this.clock.now();
    const sp = this.config.selfPreservation;
    if (sp.enabled) {
      while (this.expiryTimesMs.length > 0 && (this.expiryTimesMs[0] ?? 0) <= now - sp.windowMs) this.expiryTimesMs.shift();
      const total = Math.max(this.snap.records.length, this.local.size);
      const share = (this.expiryTimesMs.length + 1) / Math.max(1, total);
      if (total >= sp.instancesMin && share > sp.thresholdShare) {
        this.stats.expiriesSuppressed++;
        const wasActive = this.selfPreservationActive;
        this.lastSuppressedMs = now;
        if (!wasActive || !this.selfPreservationReported) {
          this.selfPreservationReported = true;
          this.onEvent?.({ type: 'self-preservation', active: true, expiringShare: share });
        }
        // Look again one TTL later; a heartbeat in between re-arms the timer anyway.
        this.armCheck(l);
        return;
      }
      if (this.selfPreservationReported && !this.selfPreservationActive) {
        this.selfPreservationReported = false;
        this.onEvent?.({ type: 'self-preservation', active: false, expiringShare: share });
      }
      this.expiryTimesMs.push(now);
      if (this.expiryTimesMs.length > EXPIRY_HISTORY_MAX) this.expiryTimesMs.shift();
    }
    this.stats.ttlExpiries++;
    void this.setStatus(l, 'critical', `TTL expired (no heartbeat in ${l.record.check.ttlMs} ms)`);
  }

  private async runProbe(l: LocalInstance, c: Extract<CheckSpec, { type: 'http' | 'tcp' }>): Promise<void> {
    l.timer = undefined;
    if (this.local.get(l.record.id) !== l || this.prober === undefined || l.probing) return;
    l.probing = true;
    let result: ProbeResult;
    try {
      result = await this.prober.probe(c);
    } catch (err) {
      result = { status: 'critical', output: err instanceof Error ? err.message : String(err) };
    }
    l.probing = false;
    if (this.local.get(l.record.id) !== l) return;
    this.stats.checksRun++;
    if (result.status === 'passing') {
      l.successes++;
      l.failures = 0;
    } else {
      l.failures++;
      l.successes = 0;
    }
    const successMin = c.successThreshold ?? 1;
    const failureMin = c.failureThreshold ?? 1;
    if (result.status === 'passing' && l.successes >= successMin) await this.setStatus(l, 'passing', result.output);
    else if (result.status !== 'passing' && l.failures >= failureMin) await this.setStatus(l, result.status, result.output);
    this.armCheck(l);
  }

  private async setStatus(l: LocalInstance, status: HealthStatus, output: string): Promise<void> {
    const from = l.record.status;
    const out = Buffer.byteLength(output) > OUTPUT_BYTES_MAX ? `${output.slice(0, OUTPUT_BYTES_MAX / 4)}…` : output;
    if (from === status && l.record.output === out) return;
    l.record = { ...l.record, status, output: out };
    if (from !== status) this.onEvent?.({ type: 'status', id: l.record.id, from, to: status, output: out });
    if (status === 'critical' && l.deregisterTimer === undefined) {
      const after = l.record.check?.deregisterCriticalAfterMs;
      if (after !== undefined) {
        l.deregisterTimer = this.timers.setTimeout(() => {
          l.deregisterTimer = undefined;
          if (this.local.get(l.record.id) === l && l.record.status === 'critical') void this.deregister(l.record.id, 'critical').catch((e) => this.storeError('deregister', e));
        }, after);
      }
    } else if (status !== 'critical' && l.deregisterTimer !== undefined) {
      this.timers.clearTimeout(l.deregisterTimer);
      l.deregisterTimer = undefined;
    }
    try {
      await this.persist(l);
      await this.refresh();
    } catch (err) {
      this.storeError('put', err);
    }
  }

  /** Writes the instance's latest record after any write already in flight; skipped once it is deregistered. */
  private persist(l: LocalInstance): Promise<void> {
    const next = l.writing.then(async () => {
      if (this.local.get(l.record.id) !== l) return;
      await this.store.put(l.record);
    });
    l.writing = next.catch(() => {});
    return next;
  }

  private storeError(op: string, err: unknown): void {
    this.stats.storeErrors++;
    this.onEvent?.({ type: 'store-error', op, message: err instanceof Error ? err.message : String(err) });
  }
}
