/**
 * Retry budget (Finagle `RetryBudget`, Envoy `retry_budget`): retries may add at most
 * `percentCanRetry` of the requests seen in the last `ttlMs`, plus a floor of
 * `minRetriesPerSec` so that a quiet client can still retry. Counts live in one-second
 * buckets over the ttl window (bounded memory); time from the injected `Clock`.
 */
import type { Clock } from '../core/clock.ts';
import { ConfigError } from '../core/errors.ts';

export interface RetryBudgetOptions {
  /** Share of requests that may be retried, 0..1. Default 0.2. */
  readonly percentCanRetry?: number;
  /** Retries always allowed per second. Default 3. */
  readonly minRetriesPerSec?: number;
  /** Window, ms (whole seconds). Default 10_000. */
  readonly ttlMs?: number;
}

const BUCKET_MS = 1000;

export class RetryBudget {
  private readonly clock: Clock;
  private readonly percent: number;
  private readonly minPerSec: number;
  private readonly buckets: number;
  private readonly requests: number[];
  private readonly retries: number[];
  private bucketIndex = -1;

  constructor(clock: Clock, options: RetryBudgetOptions = {}) {
    this.clock = clock;
    this.percent = options.percentCanRetry ?? 0.2;
    this.minPerSec = options.minRetriesPerSec ?? 3;
    const ttl = options.ttlMs ?? 10_000;
    if (!(this.percent >= 0 && this.percent <= 1)) throw new ConfigError(`retry budget percentCanRetry must be in 0..1, got ${this.percent}`);
    if (!(this.minPerSec >= 0)) throw new ConfigError(`retry budget minRetriesPerSec must be >= 0, got ${this.minPerSec}`);
    if (!(ttl >= BUCKET_MS && ttl <= 600_000)) throw new ConfigError(`retry budget ttlMs must be in 1000..600000, got ${ttl}`);
    this.buckets = Math.round(ttl / BUCKET_MS);
    this.requests = new Array<number>(this.buckets).fill(0);
    this.retries = new Array<number>(this.buckets).fill(0);
  }

  /** A first attempt was made. */
  deposit(): void {
    const i = this.advance();
    this.requests[i] = (this.requests[i] ?? 0) + 1;
  }

  /** Asks to retry; true (and counted) when within budget. */
  tryWithdraw(): boolean {
    const i = this.advance();
    if (this.balance() < 1) return false;
    this.retries[i] = (this.retries[i] ?? 0) + 1;
    return true;
  }

  /** Retries still allowed now. */
  balance(): number {
    this.advance();
    let req = 0;
    let ret = 0;
    for (let k = 0; k < this.buckets; k++) {
      req += this.requests[k] ?? 0;
      ret += this.retries[k] ?? 0;
    }
    const ttlSec = this.buckets;
    return Math.floor(this.minPerSec * ttlSec + this.percent * req) - ret;
  }

  private advance(): number {
    const idx = Math.floor(this.clock.now() / BUCKET_MS);
    if (this.bucketIndex < 0) this.bucketIndex = idx;
    if (idx > this.bucketIndex) {
      const steps = Math.min(this.buckets, idx - this.bucketIndex);
      for (let s = 1; s <= steps; s++) {
        const k = (this.bucketIndex + s) % this.buckets;
        this.requests[k] = 0;
        this.retries[k] = 0;
      }
      this.bucketIndex = idx;
    }
    return this.bucketIndex % this.buckets;
  }
}
