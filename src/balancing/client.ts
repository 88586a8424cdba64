/**
 * Client-side balancing HTTP client (seed 04.7.3; Finagle/Ribbon/gRPC style) on undici: one
 * keep-alive `Pool` per endpoint, a `Balancer` picking an endpoint per request and counting
 * active requests, latency and outcome reported back to the picker and to outlier detection.
 *
 * Retries go to another endpoint, within a `RetryBudget` (default: retries ≤ 20% of requests
 * plus 3 per second) and `attemptsMax` tries: idempotent requests (GET, HEAD, OPTIONS, TRACE,
 * PUT, DELETE, or `idempotent: true`) after a connection error, a per-try timeout or a
 * 502/503/504; any request after a refused connection (it definitely was not sent). Bodies are
 * buffers, so they can be resent. When every try fails the error says whether the request may
 * have run (`IndefiniteError`) or definitely did not (`DefiniteError`).
 * Left out: streaming bodies, hedged requests, service discovery (endpoints are given).
 */
import { Pool } from 'undici';
import type { Clock } from '../core/clock.ts';
import { RealClock } from '../core/clock.ts';
import { DefiniteError, IndefiniteError } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import { Balancer, type BalancedEndpoint, type BalancerEvent } from './balancer.ts';
import { createPicker, parsePolicy } from './create-picker.ts';
import type { OutlierOptions } from './outlier.ts';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget.ts';
import type { SlowStartOptions } from './slow-start.ts';
import type { Picker, PickRequest, Policy } from './types.ts';

export interface ClientEndpoint {
  /** `host:port`. */
  readonly address: string;
  readonly weight?: number;
}

export interface BalancedClientOptions {
  readonly endpoints: readonly (string | ClientEndpoint)[];
  /** Policy name (default p2c) or a ready picker. */
  readonly policy?: Policy | string | Picker;
  readonly clock?: Clock;
  readonly seed?: number;
  readonly panicThresholdPercent?: number;
  readonly outlier?: OutlierOptions | false;
  readonly slowStart?: SlowStartOptions;
  /** Tries per request including the first. Default 3. */
  readonly attemptsMax?: number;
  readonly retryBudget?: RetryBudgetOptions;
  /** Per try: whole request (headers and body). Default 10_000 ms. */
  readonly perTryTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Keep-alive connections per endpoint, at most. Default 16. */
  readonly connectionsPerEndpoint?: number;
  /** Largest response body accepted, bytes. Default 64 MiB. */
  readonly responseBytesMax?: number;
  readonly onEvent?: (event: BalancerEvent) => void;
}

export interface ClientRequest {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Consistent-hash key (user id, session). */
  readonly key?: string;
  /** Overrides the method's idempotency. */
  readonly idempotent?: boolean;
}

export interface ClientResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** Endpoint that answered. */
  readonly endpoint: string;
  /** Tries made (1 = no retry). */
  readonly attempts: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const REFUSED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

interface TryFailure {
  readonly error: Error;
  /** True when the request definitely did not reach the endpoint. */
  readonly notSent: boolean;
}

export class BalancedClient {
  readonly balancer: Balancer<Pool>;
  readonly retryBudget: RetryBudget;
  private readonly clock: Clock;
  private readonly attemptsMax: number;
  private readonly perTryTimeoutMs: number;
  private readonly responseBytesMax: number;
  private readonly poolOptions: Pool.Options;
  /** Counters since creation. */
  readonly stats = { requests: 0, retries: 0, budgetExhausted: 0, failures: 0 };

  constructor(options: BalancedClientOptions) {
    this.clock = options.clock ?? new RealClock();
    this.attemptsMax = options.attemptsMax ?? 3;
    this.perTryTimeoutMs = options.perTryTimeoutMs ?? 10_000;
    this.responseBytesMax = options.responseBytesMax ?? 64 * 1024 * 1024;
    this.poolOptions = {
      connections: options.connectionsPerEndpoint ?? 16,
      connect: { timeout: options.connectTimeoutMs ?? 2000 },
      keepAliveTimeout: 4000,
    };
    const p = options.policy ?? 'p2c';
    const picker = typeof p === 'string' ? createPicker(parsePolicy(p), { rng: createRng(options.seed ?? 1), clock: this.clock }) : p;
    this.balancer = new Balancer<Pool>(
      options.endpoints.map((e) => this.spec(e)),
      {
        picker,
        clock: this.clock,
        ...(options.panicThresholdPercent === undefined ? {} : { panicThresholdPercent: options.panicThresholdPercent }),
        ...(options.outlier === undefined ? {} : { outlier: options.outlier }),
        ...(options.slowStart === undefined ? {} : { slowStart: options.slowStart }),
        ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
      },
    );
    this.retryBudget = new RetryBudget(this.clock, options.retryBudget);
  }

  private spec(e: string | ClientEndpoint) {
    const c = typeof e === 'string' ? { address: e } : e;
    return { id: c.address, ...(c.weight === undefined ? {} : { weight: c.weight }), data: new Pool(`http://${c.address}`, this.poolOptions) };
  }

  /** Replaces the endpoint set (e.g. from service discovery); new endpoints slow-start. */
  setEndpoints(endpoints: readonly (string | ClientEndpoint)[]): void {
    const keep = new Set(endpoints.map((e) => (typeof e === 'string' ? e : e.address)));
    for (const e of this.balancer.endpoints()) if (!keep.has(e.id)) void e.data.close();
    const specs = endpoints.map((e) => {
      const address = typeof e === 'string' ? e : e.address;
      const existing = this.balancer.get(address);
      if (existing === undefined) return this.spec(e);
      return { id: address, ...(typeof e !== 'string' && e.weight !== undefined ? { weight: e.weight } : {}), data: existing.data };
    });
    this.balancer.setEndpoints(specs);
  }

  async request(req: ClientRequest): Promise<ClientResponse> {
    const method = (req.method ?? 'GET').toUpperCase();
    const idempotent = req.idempotent ?? IDEMPOTENT.has(method);
    this.stats.requests++;
    this.retryBudget.deposit();
    let tried: Set<number> | undefined;
    let last: TryFailure | undefined;
    for (let attempt = 1; ; attempt++) {
      const pick: PickRequest =
        req.key === undefined ? (tried === undefined ? {} : { exclude: tried }) : tried === undefined ? { key: req.key } : { key: req.key, exclude: tried };
      const ep = this.balancer.pick(pick);
      if (ep === undefined) {
        this.stats.failures++;
        throw new DefiniteError('unavailable', 'no endpoint available (none configured, or all unhealthy with panic mode off)');
      }
      const result = await this.try(ep, method, req);
      if (!('error' in result)) {
        const retryStatus = result.statusCode === 502 || result.statusCode === 503 || result.statusCode === 504;
        if (!(retryStatus && idempotent && this.mayRetry(attempt))) return { ...result, attempts: attempt };
      } else {
        last = result;
        if (!((idempotent || result.notSent) && this.mayRetry(attempt))) {
          this.stats.failures++;
          const msg = `request to ${ep.id} failed after ${attempt} ${attempt === 1 ? 'try' : 'tries'}: ${last.error.message}`;
          throw last.notSent ? new DefiniteError('unavailable', msg, { cause: last.error }) : new IndefiniteError('crash', msg, { cause: last.error });
        }
      }
      tried ??= new Set();
      tried.add(ep.slot);
      this.stats.retries++;
    }
  }

  private mayRetry(attempt: number): boolean {
    if (attempt >= this.attemptsMax) return false;
    if (this.retryBudget.tryWithdraw()) return true;
    this.stats.budgetExhausted++;
    return false;
  }

  private async try(
    ep: BalancedEndpoint<Pool>,
    method: string,
    req: ClientRequest,
  ): Promise<Omit<ClientResponse, 'attempts'> | TryFailure> {
    this.balancer.begin(ep);
    const start = this.clock.now();
    let sent = false;
    try {
      const r = await ep.data.request({
        path: req.path,
        method: method as 'GET',
        headers: req.headers ?? {},
        body: req.body ?? null,
        signal: AbortSignal.timeout(this.perTryTimeoutMs),
      });
      sent = true;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of r.body) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > this.responseBytesMax) {
          r.body.destroy();
          throw new Error(`response body over ${this.responseBytesMax} bytes`);
        }
        chunks.push(b);
      }
      this.balancer.end(ep, r.statusCode >= 500 ? 'failure' : 'success', this.clock.now() - start);
      return { statusCode: r.statusCode, headers: r.headers, body: Buffer.concat(chunks), endpoint: ep.id };
    } catch (err) {
      this.balancer.end(ep, 'failure', this.clock.now() - start);
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (e as { code?: string }).code ?? (e.cause as { code?: string } | undefined)?.code;
      return { error: e, notSent: !sent && code !== undefined && REFUSED.has(code) };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.balancer.endpoints().map((e) => e.data.close()));
  }
}
