/**
 * The registry's HTTP API, shaped like Consul's agent/catalog/health endpoints so Consul-aware
 * tools can talk to it: register, deregister, TTL pass/warn/fail, catalog services, health of a
 * service (`?passing`, `?tag=`), blocking queries (`?index=&wait=`, answer index in `X-Index` and
 * `X-Consul-Index`), a streamed watch (`/v1/watch/service/:name`, one JSON line per change),
 * `/v1/status` and Prometheus `/metrics`. Malformed registrations get 400 naming the field.
 * Leaves out: ACL tokens, `?near`, `?filter`, `?stale`/`?consistent` modes, the KV endpoints.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry as PromRegistry } from 'prom-client';
import type { DnsStats } from '../dns/server.ts';
import type { HealthResult, Registry } from './registry.ts';
import { type HealthStatus, type InstanceRecord, RegistrationError } from './types.ts';

const BODY_BYTES_MAX = 64 * 1024;
const STREAMS_MAX = 1024;

/** Consul's health entry shape: `{ Node, Service, Checks }`. */
export interface HealthEntry {
  readonly Node: { readonly Node: string };
  readonly Service: {
    readonly ID: string;
    readonly Service: string;
    readonly Tags: readonly string[];
    readonly Address: string;
    readonly Port: number;
    readonly Meta: Readonly<Record<string, string>>;
    readonly Weights: { readonly Passing: number; readonly Warning: number };
  };
  readonly Checks: readonly { readonly CheckID: string; readonly Status: HealthStatus; readonly Output: string }[];
}

export function toHealthEntry(r: InstanceRecord): HealthEntry {
  return {
    Node: { Node: r.node },
    Service: { ID: r.id, Service: r.service, Tags: r.tags, Address: r.address, Port: r.port, Meta: r.meta, Weights: { Passing: r.weight, Warning: r.weight } },
    Checks: [{ CheckID: `service:${r.id}`, Status: r.status, Output: r.output }],
  };
}

/** Parses Consul's `wait` (`10s`, `500ms`, `5m`; bare number = seconds, as Consul does). */
export function parseWaitMs(v: string | null, dfltMs: number): number {
  if (v === null || v === '') return dfltMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new HttpError(400, `wait: must be a duration such as 10s or 500ms, got ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RegistryHttpOptions {
  readonly host?: string;
  readonly port?: number;
  /** Default `wait` for blocking queries without one (Consul: 5 minutes). */
  readonly defaultWaitMs?: number;
  /** DNS server stats, when a DNS server runs in the same process (for /metrics). */
  readonly dnsStats?: () => DnsStats;
}

export class RegistryHttpServer {
  readonly server: http.Server;
  readonly metrics = new PromRegistry();
  private readonly requests: Counter<'route' | 'code'>;
  private readonly streams = new Set<http.ServerResponse>();

  constructor(
    readonly registry: Registry,
    private readonly options: RegistryHttpOptions = {},
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.requests = new Counter({ name: 'clusterkit_registry_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [this.metrics] });
    const reg = registry;
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.metrics],
        collect() {
          this.set(value());
        },
      });
    gauge('clusterkit_registry_index', 'Current store index', () => reg.index);
    gauge('clusterkit_registry_instances', 'Registered instances (all nodes)', () => reg.instances().length);
    gauge('clusterkit_registry_instances_passing', 'Instances whose check passes', () => reg.instances().filter((r) => r.status === 'passing').length);
    gauge('clusterkit_registry_self_preservation', '1 while self-preservation stops TTL expiry', () => (reg.selfPreservationActive ? 1 : 0));
    gauge('clusterkit_registry_ttl_expiries', 'TTL checks expired', () => reg.stats.ttlExpiries);
    gauge('clusterkit_registry_expiries_suppressed', 'TTL expiries held back by self-preservation', () => reg.stats.expiriesSuppressed);
    gauge('clusterkit_registry_store_errors', 'Store operations that failed', () => reg.stats.storeErrors);
    gauge('clusterkit_registry_blocking_queries', 'Blocking queries served', () => reg.stats.blockingQueries);
    if (options.dnsStats !== undefined) {
      const dns = options.dnsStats;
      gauge('clusterkit_dns_queries', 'DNS queries answered', () => dns().queries);
      gauge('clusterkit_dns_malformed', 'DNS packets dropped as malformed', () => dns().malformed);
      gauge('clusterkit_dns_nxdomain', 'DNS answers with NXDOMAIN', () => dns().nxdomain);
    }
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 8500, this.options.host ?? '127.0.0.1', () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let route = 'other';
    try {
      const deregM = /^\/v1\/agent\/service\/deregister\/([^/]+)$/.exec(path);
      const checkM = /^\/v1\/agent\/check\/(pass|warn|fail)\/([^/]+)$/.exec(path);
      const healthM = /^\/v1\/health\/service\/([^/]+)$/.exec(path);
      const watchM = /^\/v1\/watch\/service\/([^/]+)$/.exec(path);
      if (path === '/v1/agent/service/register' && method === 'PUT') {
        route = 'register';
        const body = await readJson(req);
        const rec = await this.registry.register(body);
        return this.json(res, route, 200, { ID: rec.id });
      }
      if (deregM && method === 'PUT') {
        const m = deregM;
        route = 'deregister';
        const ok = await this.registry.deregister(decodeURIComponent(m[1] ?? ''));
        return ok ? this.json(res, route, 200, {}) : this.json(res, route, 404, { error: `no instance ${m[1]}` });
      }
      if (checkM && method === 'PUT') {
        const m = checkM;
        route = 'check';
        const status: HealthStatus = m[1] === 'pass' ? 'passing' : m[1] === 'warn' ? 'warning' : 'critical';
        const ok = await this.registry.updateTtl(decodeURIComponent(m[2] ?? ''), status, url.searchParams.get('note') ?? '');
        return ok ? this.json(res, route, 200, {}) : this.json(res, route, 404, { error: `no TTL check ${m[2]} on this node` });
      }
      if (path === '/v1/catalog/services' && method === 'GET') {
        route = 'catalog';
        const { index, waitMs } = this.blocking(url);
        const r = await this.registry.blockingServices(index, waitMs);
        return this.json(res, route, 200, r.services, r.index);
      }
      if (healthM && method === 'GET') {
        const m = healthM;
        route = 'health';
        const service = decodeURIComponent(m[1] ?? '');
        const { index, waitMs } = this.blocking(url);
        const tag = url.searchParams.get('tag');
        const r = await this.registry.blockingHealth(service, { index, waitMs, passing: url.searchParams.has('passing') && url.searchParams.get('passing') !== 'false', ...(tag === null ? {} : { tag }) });
        return this.json(res, route, 200, r.instances.map(toHealthEntry), r.index);
      }
      if (watchM && method === 'GET') {
        const m = watchM;
        route = 'watch';
        return this.stream(req, res, decodeURIComponent(m[1] ?? ''), url);
      }
      if (path === '/v1/status' && method === 'GET') {
        route = 'status';
        return this.json(res, route, 200, this.registry.status());
      }
      if (path === '/metrics' && method === 'GET') {
        route = 'metrics';
        const text = await this.metrics.metrics();
        this.requests.inc({ route, code: '200' });
        res.writeHead(200, { 'content-type': this.metrics.contentType });
        res.end(text);
        return;
      }
      throw new HttpError(404, `no route ${method} ${path}`);
    } catch (err) {
      if (err instanceof RegistrationError) return this.json(res, route, 400, { error: err.message, field: err.field });
      if (err instanceof HttpError) return this.json(res, route, err.status, { error: err.message });
      return this.json(res, route, 503, { error: `registry store unavailable: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  private blocking(url: URL): { index: number; waitMs: number } {
    const raw = url.searchParams.get('index');
    if (raw === null || raw === '') return { index: 0, waitMs: 0 };
    const index = Number(raw);
    if (!Number.isSafeInteger(index) || index < 0) throw new HttpError(400, `index: must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return { index, waitMs: parseWaitMs(url.searchParams.get('wait'), this.options.defaultWaitMs ?? 300_000) };
  }

  private stream(req: http.IncomingMessage, res: http.ServerResponse, service: string, url: URL): void {
    if (this.streams.size >= STREAMS_MAX) throw new HttpError(429, `too many watch streams (at most ${STREAMS_MAX})`);
    this.requests.inc({ route: 'watch', code: '200' });
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    this.streams.add(res);
    const tag = url.searchParams.get('tag');
    const query = { passing: url.searchParams.has('passing'), ...(tag === null ? {} : { tag }) };
    const stop = this.registry.watch(service, query, (r: HealthResult) => {
      res.write(`${JSON.stringify({ index: r.index, instances: r.instances.map(toHealthEntry) })}\n`);
    });
    const end = () => {
      stop();
      this.streams.delete(res);
    };
    req.once('close', end);
    res.once('close', end);
  }

  private json(res: http.ServerResponse, route: string, status: number, body: unknown, index?: number): void {
    this.requests.inc({ route, code: String(status) });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (index !== undefined) {
      headers['x-index'] = String(index);
      headers['x-consul-index'] = String(index);
    }
    res.writeHead(status, headers);
    res.end(`${JSON.stringify(body)}\n`);
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > BODY_BYTES_MAX) throw new RegistrationError('body', `larger than ${BODY_BYTES_MAX} bytes`);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RegistrationError('body', 'is not valid JSON');
  }
}
