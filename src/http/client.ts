/**
 * A small client for the etcd v3 JSON gateway API (clusterkit's, or etcd's own): JSON bodies
 * with base64 keys, tried against each endpoint in turn when one cannot be reached. Used by the
 * CLI, the tests and the benchmark. undici underneath (one keep-alive pool per endpoint).
 *
 * Errors: a connection failure before the request was sent moves on to the next endpoint; an
 * error body from a server becomes `GatewayError` carrying etcd's code and clusterkit's
 * `definite` flag; a timeout is indefinite.
 *
 * Leaves out: leader discovery (every clusterkit node serves every call), auth, TLS.
 */
import { Pool } from 'undici';
import { ClusterkitError, InvalidArgumentError } from '../core/errors.ts';

export class GatewayError extends ClusterkitError {
  override name = 'GatewayError';
  readonly status: number;
  readonly grpcCode: number;
  readonly endpoint: string;
  constructor(endpoint: string, status: number, grpcCode: number, message: string, definite: boolean) {
    super(definite ? 'unavailable' : 'timeout', `${endpoint}: ${message} (HTTP ${status}, code ${grpcCode})`, definite);
    this.status = status;
    this.grpcCode = grpcCode;
    this.endpoint = endpoint;
  }
}

export const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');
export const unb64 = (s: string | undefined): string => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8'));

/** `a,b` or `a b` → normalised http URLs. */
export function parseEndpoints(text: string): string[] {
  const out = text
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map((s) => (/^https?:\/\//.test(s) ? s : `http://${s}`).replace(/\/$/, ''));
  if (out.length === 0) throw new InvalidArgumentError('--endpoints must name at least one endpoint, e.g. http://127.0.0.1:2379');
  for (const e of out) {
    try {
      new URL(e);
    } catch {
      throw new InvalidArgumentError(`--endpoints: ${JSON.stringify(e)} is not a URL`);
    }
  }
  return out;
}

export interface GatewayClientOptions {
  /** Per-request timeout. Default 10000 ms. */
  timeoutMs?: number;
  /** Connections per endpoint. Default 8. */
  connections?: number;
}

export class GatewayClient {
  readonly endpoints: string[];
  private readonly pools = new Map<string, Pool>();
  private readonly timeoutMs: number;
  private readonly connections: number;
  private preferred = 0;

  constructor(endpoints: string[], opts: GatewayClientOptions = {}) {
    if (endpoints.length === 0) throw new InvalidArgumentError('at least one endpoint is needed');
    this.endpoints = endpoints;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.connections = opts.connections ?? 8;
  }

  private pool(endpoint: string): Pool {
    let p = this.pools.get(endpoint);
    if (p === undefined) {
      p = new Pool(endpoint, { connections: this.connections, headersTimeout: this.timeoutMs, bodyTimeout: 0, connectTimeout: 2000 });
      this.pools.set(endpoint, p);
    }
    return p;
  }

  /** POSTs `body` to `path` on one endpoint (no failover). */
  async callOn<T = Record<string, unknown>>(endpoint: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.pool(endpoint).request({
      method: 'POST',
      path,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
      headersTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new GatewayError(endpoint, res.statusCode, 2, `non-JSON response: ${text.slice(0, 200)}`, false);
    }
    if (res.statusCode !== 200) {
      const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.error === 'string' ? parsed.error : text.slice(0, 200);
      const code = typeof parsed.code === 'number' ? parsed.code : 2;
      const definite = typeof parsed.definite === 'boolean' ? parsed.definite : res.statusCode < 500;
      throw new GatewayError(endpoint, res.statusCode, code, message, definite);
    }
    return parsed as T;
  }

  /** POSTs to the first endpoint that answers; connection errors fail over to the next one. */
  async call<T = Record<string, unknown>>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const k = (this.preferred + i) % this.endpoints.length;
      const endpoint = this.endpoints[k] as string;
      try {
        const out = await this.callOn<T>(endpoint, path, body, headers);
        this.preferred = k;
        return out;
      } catch (err) {
        if (err instanceof GatewayError) {
          // A node that is down-ish (no leader, shutting down, removed) may be fine elsewhere.
          if (err.status === 503 && err.definite) {
            last = err;
            continue;
          }
          throw err;
        }
        const code = (err as { code?: string }).code ?? '';
        if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
          last = new ClusterkitError('unavailable', `${endpoint}: ${code}`, code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT');
          continue;
        }
        throw err;
      }
    }
    throw last instanceof Error ? last : new ClusterkitError('unavailable', 'no endpoint answered', true);
  }

  put(key: string, value: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    return this.call('/v3/kv/put', { key: b64(key), value: b64(value), ...extra }, headers);
  }

  /** Values of the keys found (UTF-8), with the response. */
  async get(key: string, extra: Record<string, unknown> = {}): Promise<{ kvs: { key: string; value: string; mod_revision: string; version: string; lease: string; create_revision: string }[]; header: Record<string, string>; count: string }> {
    const r = await this.call<{ kvs?: { key: string; value?: string; mod_revision: string; version: string; lease?: string; create_revision: string }[]; header: Record<string, string>; count?: string }>('/v3/kv/range', {
      key: b64(key),
      ...extra,
    });
    return {
      header: r.header,
      count: r.count ?? '0',
      kvs: (r.kvs ?? []).map((kv) => ({ ...kv, key: unb64(kv.key), value: unb64(kv.value), lease: kv.lease ?? '0' })),
    };
  }

  del(key: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.call('/v3/kv/deleterange', { key: b64(key), ...extra });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

/** etcd's "every key with this prefix" range end. */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if ((bytes[i] as number) < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i] = (end[i] as number) + 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}
