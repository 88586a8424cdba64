/**
 * Passive outlier detection, Envoy's consecutive-failure ejection: after
 * `consecutiveFailuresMax` failures in a row an endpoint is ejected for
 * `min(baseEjectionMs · timesEjected, maxEjectionMs)`; it returns by itself when that time is
 * up. At most `maxEjectionPercent` of the endpoints are ejected at once (at least one may be,
 * as in Envoy). `timesEjected` decays by one for every `baseEjectionMs` an endpoint spends
 * un-ejected, so an endpoint that recovered for good is not punished forever.
 * Pure arithmetic on a record; the `Balancer` owns the records and the clock.
 * Left out: success-rate and failure-percentage (statistical) ejection.
 */
import { ConfigError } from '../core/errors.ts';

export interface OutlierOptions {
  /** Failures in a row that eject an endpoint. Default 5 (Envoy `consecutive_5xx`). */
  readonly consecutiveFailuresMax?: number;
  /** Ejection time for the first ejection, ms. Default 30_000. */
  readonly baseEjectionMs?: number;
  /** Cap on one ejection, ms. Default 300_000. */
  readonly maxEjectionMs?: number;
  /** At most this share of endpoints ejected at once, percent (at least one). Default 50. */
  readonly maxEjectionPercent?: number;
}

export interface ResolvedOutlierOptions {
  readonly consecutiveFailuresMax: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

export function resolveOutlierOptions(o: OutlierOptions = {}): ResolvedOutlierOptions {
  const r = {
    consecutiveFailuresMax: o.consecutiveFailuresMax ?? 5,
    baseEjectionMs: o.baseEjectionMs ?? 30_000,
    maxEjectionMs: o.maxEjectionMs ?? 300_000,
    maxEjectionPercent: o.maxEjectionPercent ?? 50,
  };
  if (!Number.isInteger(r.consecutiveFailuresMax) || r.consecutiveFailuresMax < 1) {
    throw new ConfigError(`outlier consecutiveFailuresMax must be an integer >= 1, got ${r.consecutiveFailuresMax}`);
  }
  if (!(r.baseEjectionMs > 0)) throw new ConfigError(`outlier baseEjectionMs must be > 0, got ${r.baseEjectionMs}`);
  if (!(r.maxEjectionMs >= r.baseEjectionMs)) {
    throw new ConfigError(`outlier maxEjectionMs (${r.maxEjectionMs}) must be >= baseEjectionMs (${r.baseEjectionMs})`);
  }
  if (!(r.maxEjectionPercent >= 0 && r.maxEjectionPercent <= 100)) {
    throw new ConfigError(`outlier maxEjectionPercent must be in 0..100, got ${r.maxEjectionPercent}`);
  }
  return r;
}

/** Per-endpoint outlier state. */
export interface OutlierRecord {
  consecutiveFailures: number;
  timesEjected: number;
  /** 0 when not ejected. */
  ejectedUntilMs: number;
  /** When the endpoint last came back (or was added). */
  unejectedAtMs: number;
}

export function newOutlierRecord(nowMs: number): OutlierRecord {
  return { consecutiveFailures: 0, timesEjected: 0, ejectedUntilMs: 0, unejectedAtMs: nowMs };
}

/** How many endpoints of `total` may be ejected at once. */
export function maxEjected(total: number, o: ResolvedOutlierOptions): number {
  if (o.maxEjectionPercent === 0) return 0;
  return Math.max(1, Math.floor((total * o.maxEjectionPercent) / 100));
}

/** Ejection duration for the n-th ejection (n ≥ 1). */
export function ejectionMs(timesEjected: number, o: ResolvedOutlierOptions): number {
  return Math.min(o.baseEjectionMs * timesEjected, o.maxEjectionMs);
}

/**
 * Records a failure. Returns true when the endpoint should be ejected now (the caller checks
 * the ejection cap and then calls `eject`).
 */
export function recordFailure(r: OutlierRecord, o: ResolvedOutlierOptions): boolean {
  r.consecutiveFailures++;
  return r.ejectedUntilMs === 0 && r.consecutiveFailures >= o.consecutiveFailuresMax;
}

export function recordSuccess(r: OutlierRecord): void {
  r.consecutiveFailures = 0;
}

export function eject(r: OutlierRecord, nowMs: number, o: ResolvedOutlierOptions): number {
  const decay = Math.floor(Math.max(0, nowMs - r.unejectedAtMs) / o.baseEjectionMs);
  r.timesEjected = Math.max(0, r.timesEjected - decay) + 1;
  const d = ejectionMs(r.timesEjected, o);
  r.ejectedUntilMs = nowMs + d;
  r.consecutiveFailures = 0;
  return d;
}

/** Ends an ejection; it counts as having ended at its scheduled time, however late observed. */
export function uneject(r: OutlierRecord): void {
  r.unejectedAtMs = r.ejectedUntilMs;
  r.ejectedUntilMs = 0;
  r.consecutiveFailures = 0;
}
