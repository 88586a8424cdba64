/**
 * `ProxyServer`: an HTTP/1.1 reverse proxy (seed 04.7.1 centralized balancing; run one per node
 * for 04.7.2) on `node:http`, forwarding to backends through keep-alive undici `Pool`s, choosing
 * backends with a `Balancer` (any picker, health checks, outlier ejection, panic, slow start).
 *
 * Per request: pick a backend, stream the request to it, stream the response back. Idempotent
 * requests without a body (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) are retried on another
 * backend after a connection error, a timeout before response headers, or a 502/503/504, up to
 * `retries.attemptsMax` tries and within a retry budget. Adds X-Forwarded-For/Proto/Host and
 * strips hop-by-hop headers (RFC 9110 §7.6.1). A malformed request gets a 400 and the proxy keeps
 * serving. Left out: TLS, HTTP/2, WebSocket/Upgrade, request bodies on retries, caching.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { Balancer, type BalancedEndpoint, type BalancerEvent } from '../balancing/balancer.ts';
import { createPicker } from '../balancing/create-picker.ts';
import { placementKeyRing } from '../balancing/placement-ring.ts';
import type { PickRequest } from '../balancing/types.ts';
import { RetryBudget } from '../balancing/retry-budget.ts';
import { type Clock, RealClock, RealTimers, type Timers } from '../core/clock.ts';
import { createRng } from '../core/rng.ts';
import { type BackendConfig, formatHostPort, type HostPort, parseHostPort, type ProxyConfig } from './config.ts';
import { ActiveHealthChecker, type ProbeResult, probeTcp } from './health-check.ts';
import { ProxyMetrics } from './metrics.ts';

export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export interface ProxyDeps {
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly log?: Logger;
}

/** Per-backend state carried by each balancer endpoint. */
export interface Backend {
  readonly address: HostPort;
  readonly pool: Pool;
  readonly success: { inc(): void };
  readonly failure: { inc(): void };
}

const NO_KEY: PickRequest = {};
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Request headers never forwarded (hop-by-hop, RFC 9110 §7.6.1), plus ones the proxy sets. */
const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-for',
  'proxy-authorization',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'te']);

/** Error used to abandon a try whose response we will not forward (a retry follows). */
class RetryAbort extends Error {
  override readonly name = 'RetryAbort';
}

export class ProxyServer extends EventEmitter {
  readonly config: ProxyConfig;
  readonly balancer: Balancer<Backend>;
  readonly metrics: ProxyMetrics;
  readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  readonly retryBudget: RetryBudget;
  private readonly server: http.Server;
  private admin: http.Server | undefined;
  private checker: ActiveHealthChecker | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(config: ProxyConfig, deps: ProxyDeps = {}) {
    super();
    this.config = config;
    this.clock = deps.clock ?? new RealClock();
    this.timers = deps.timers ?? new RealTimers();
    this.log = deps.log ?? ((level, message) => process.stderr.write(`${level}: ${message}\n`));
    this.metrics = new ProxyMetrics(
      () => this.balancer.endpoints().map((e) => ({ id: e.id, healthy: e.healthy, ejected: e.ejected, active: e.active })),
      () => this.balancer.panic,
    );
    const picker = createPicker(config.policy, { rng: createRng(config.seed), clock: this.clock, keyRing: placementKeyRing(config.hashRing) });
    this.balancer = new Balancer<Backend>(
      config.backends.map((b) => ({ id: b.address, weight: b.weight, data: this.makeBackend(b.address) })),
      {
        picker,
        clock: this.clock,
        panicThresholdPercent: config.panicThresholdPercent,
        outlier: config.outlier.enabled ? config.outlier : false,
        ...(config.slowStartMs > 0 ? { slowStart: { windowMs: config.slowStartMs } } : {}),
        onEvent: (e) => this.onBalancerEvent(e),
      },
    );
    this.retryBudget = new RetryBudget(this.clock, {
      percentCanRetry: config.retries.percentCanRetry,
      minRetriesPerSec: config.retries.minRetriesPerSec,
    });
    const t = config.timeouts;
    this.server = http.createServer({
      keepAliveTimeout: t.clientKeepAliveMs,
      headersTimeout: t.clientHeadersMs,
      requestTimeout: 0,
      noDelay: true,
    });
    this.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  private makeBackend(address: string): Backend {
    const hp = parseHostPort(address, 'backend');
    const t = this.config.timeouts;
    const pool = new Pool(`http://${formatHostPort(hp)}`, {
      connections: this.config.upstreamConnectionsMax,
      pipelining: 1,
      keepAliveTimeout: 4000,
      headersTimeout: t.upstreamHeadersMs,
      bodyTimeout: t.upstreamBodyMs,
      connect: { timeout: t.connectMs, noDelay: true },
    });
    // Connection errors surface per request; keep the pool's own error events from crashing us.
    pool.on('connectionError', () => {});
    return {
      address: hp,
      pool,
      success: this.metrics.upstream.labels(address, 'success'),
      failure: this.metrics.upstream.labels(address, 'failure'),
    };
  }

  /**
   * Probes every backend once (warning about unreachable ones: they stay out of rotation until
   * their health checks pass, the proxy does not exit), starts periodic health checks, then
   * listens. Resolves once the listeners are bound.
   */
  async start(): Promise<void> {
    const hc = this.config.healthCheck;
    const targets = this.balancer.endpoints().map((e) => ({ id: e.id, ...e.data.address }));
    if (hc.type !== 'none') {
      this.checker = new ActiveHealthChecker(targets, hc, this.timers, {
        onChange: (id, healthy, r) => {
          this.log(healthy ? 'info' : 'warn', `backend ${id} is ${healthy ? 'healthy' : 'unhealthy'} (${r.detail})`);
          this.balancer.setHealthy(id, healthy);
        },
      });
      const first = await this.checker.start();
      this.warnUnreachable(first);
    } else {
      const first = new Map<string, ProbeResult>();
      await Promise.all(targets.map(async (t) => first.set(t.id, await probeTcp(t, this.config.timeouts.connectMs))));
      this.warnUnreachable(first);
    }
    await listen(this.server, this.config.listen);
    if (this.config.admin !== undefined) {
      this.admin = http.createServer((req, res) => void this.handleAdmin(req, res));
      await listen(this.admin, this.config.admin);
    }
  }

  private warnUnreachable(results: Map<string, ProbeResult>): void {
    const down = [...results].filter(([, r]) => !r.passed);
    for (const [id, r] of down) {
      this.log(
        'warn',
        `backend ${id} is unreachable at start (${r.detail}); ${this.config.healthCheck.type === 'none' ? 'requests to it will fail until it answers (no health checks configured)' : 'it stays out of rotation until its health checks pass'}`,
      );
    }
    if (down.length === results.size && results.size > 0) {
      this.log('warn', 'no backend is reachable: requests get 502/503 until one comes up');
    }
  }

  /** The bound client address (port resolved when `listen` asked for port 0). */
  get address(): HostPort {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  get adminAddress(): HostPort | undefined {
    const a = this.admin?.address() as AddressInfo | undefined;
    return a === undefined ? undefined : { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    this.checker?.stop();
    const closing = [new Promise<void>((r) => this.server.close(() => r()))];
    if (this.admin !== undefined) {
      const admin = this.admin;
      closing.push(new Promise<void>((r) => admin.close(() => r())));
      admin.closeAllConnections();
    }
    this.server.closeIdleConnections();
    for (const s of this.sockets) s.destroy();
    await Promise.all(closing);
    await Promise.all(this.balancer.endpoints().map((e) => e.data.pool.destroy()));
  }

  /**
   * Replaces the backend set (server-side discovery: the registry's passing instances). New
   * backends get a connection pool, removed ones have theirs closed, kept ones keep theirs and
   * take the new weight. Health then comes from the registry and passive outlier detection.
   */
  setBackends(backends: readonly BackendConfig[]): void {
    const keep = new Set(backends.map((b) => b.address));
    const gone = this.balancer.endpoints().filter((e) => !keep.has(e.id));
    this.balancer.setEndpoints(
      backends.map((b) => ({ id: b.address, weight: b.weight, data: this.balancer.get(b.address)?.data ?? this.makeBackend(b.address) })),
    );
    for (const e of gone) void e.data.pool.close().catch(() => {});
    this.emit('backends', backends.length);
  }

  /** Status of each backend (what `/backends` serves). */
  status(): object[] {
    return this.balancer.endpoints().map((e) => ({
      backend: e.id,
      weight: e.weight,
      effectiveWeight: e.effectiveWeight,
      healthy: e.healthy,
      ejected: e.ejected,
      timesEjected: e.outlier.timesEjected,
      active: e.active,
      successes: e.successes,
      failures: e.failures,
    }));
  }

  private onBalancerEvent(e: BalancerEvent): void {
    switch (e.type) {
      case 'ejected':
        this.metrics.ejections.labels(e.id).inc();
        this.log('warn', `backend ${e.id} ejected for ${e.durationMs} ms (ejection ${e.timesEjected}) after consecutive failures`);
        break;
      case 'unejected':
        this.log('info', `backend ${e.id} returns from ejection`);
        break;
      case 'health':
        break;
      case 'panic':
        this.log('warn', e.panic ? 'panic: too few healthy backends, balancing over all of them' : 'panic over');
        break;
    }
    this.emit(e.type, e);
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let head = 'HTTP/1.1 400 Bad Request';
    if (err.code === 'HPE_HEADER_OVERFLOW') head = 'HTTP/1.1 431 Request Header Fields Too Large';
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') head = 'HTTP/1.1 408 Request Timeout';
    else this.metrics.badRequests.inc();
    socket.end(`${head}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url === '/metrics') {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(body);
    } else if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    } else if (url === '/backends') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ policy: this.config.policy, panic: this.balancer.panic, backends: this.status() }, null, 2)}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /metrics, /healthz or /backends\n');
    }
  }

  /** Entry point for one client request. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const ex = new Exchange(this, req, res);
    ex.begin();
  }

  /** @internal */
  get logger(): Logger {
    return this.log;
  }
}

/** One client request and its tries. Implements undici's dispatch handler for each try. */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly proxy: ProxyServer;
  private readonly req: http.IncomingMessage;
  private readonly res: http.ServerResponse;
  private readonly startMs: number;
  private path = '/';
  private headers: string[] = [];
  private hasBody = false;
  private key: string | undefined;
  private retryable = false;
  private tries = 0;
  private tried: Set<number> | undefined;
  private endpoint: BalancedEndpoint<Backend> | undefined;
  private tryStartMs = 0;
  private currentSlot = -1;
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private finished = false;
  private clientGone = false;
  private lastError: Error | undefined;

  constructor(proxy: ProxyServer, req: http.IncomingMessage, res: http.ServerResponse) {
    this.proxy = proxy;
    this.req = req;
    this.res = res;
    this.startMs = proxy.clock.now();
  }

  begin(): void {
    const req = this.req;
    const url = req.url ?? '/';
    if (url.charCodeAt(0) === 47 /* / */) this.path = url;
    else if (url === '*' && req.method === 'OPTIONS') this.path = url;
    else {
      const m = /^https?:\/\/[^/?#]+([/?][^#]*)?$/i.exec(url);
      if (m === null) {
        this.reply(400, 'bad request target\n');
        return;
      }
      this.path = m[1] ?? '/';
    }
    this.buildHeaders();
    const method = req.method ?? 'GET';
    this.retryable = !this.hasBody && IDEMPOTENT.has(method) && this.proxy.config.retries.attemptsMax > 1;
    this.res.once('close', () => {
      if (!this.finished) {
        this.clientGone = true;
        this.controller?.abort(new Error('client closed the connection'));
      }
    });
    this.proxy.retryBudget.deposit();
    this.send();
  }

  private buildHeaders(): void {
    const raw = this.req.rawHeaders;
    const out = this.headers;
    const hashHeader = this.proxy.config.hashHeader;
    let xff: string | undefined;
    let host: string | undefined;
    let connectionTokens: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const value = raw[i + 1] as string;
      const lower = name.toLowerCase();
      if (DROP_REQUEST.has(lower)) {
        if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
        else if (lower === 'transfer-encoding') this.hasBody = true;
        else if (lower === 'connection') connectionTokens = value;
        continue;
      }
      if (lower === 'host') host = value;
      else if (lower === 'content-length' && value !== '0') this.hasBody = true;
      if (lower === hashHeader) this.key = value;
      out.push(name, value);
    }
    if (connectionTokens !== undefined) this.dropConnectionTokens(connectionTokens);
    const client = this.req.socket.remoteAddress ?? 'unknown';
    // Only the consistent-hash policy reads a key; by default it is the client address.
    if (hashHeader === undefined && this.proxy.config.policy === 'consistent-hash') this.key = client;
    this.headers.push('x-forwarded-for', xff === undefined ? client : `${xff}, ${client}`, 'x-forwarded-proto', 'http');
    if (host !== undefined) this.headers.push('x-forwarded-host', host);
  }

  /** Headers named in `Connection` are hop-by-hop too (RFC 9110 §7.6.1). */
  private dropConnectionTokens(tokens: string): void {
    const names = new Set(tokens.split(',').map((t) => t.trim().toLowerCase()));
    names.delete('keep-alive');
    names.delete('close');
    if (names.size === 0) return;
    const kept: string[] = [];
    for (let i = 0; i < this.headers.length; i += 2) {
      if (!names.has((this.headers[i] as string).toLowerCase())) kept.push(this.headers[i] as string, this.headers[i + 1] as string);
    }
    this.headers = kept;
  }

  private send(): void {
    const proxy = this.proxy;
    const ep = proxy.balancer.pick(this.pickRequest());
    if (ep === undefined) {
      proxy.metrics.noBackend.inc();
      this.reply(503, 'no backend available\n');
      return;
    }
    this.tries++;
    this.endpoint = ep;
    this.currentSlot = ep.slot;
    this.status = 0;
    this.controller = undefined;
    proxy.balancer.begin(ep);
    this.tryStartMs = proxy.clock.now();
    ep.data.pool.dispatch(
      {
        path: this.path,
        method: (this.req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: this.headers,
        body: this.hasBody ? this.req : null,
      },
      this,
    );
  }

  private pickRequest(): PickRequest {
    if (this.tried === undefined) return this.key === undefined ? NO_KEY : { key: this.key };
    return this.key === undefined ? { exclude: this.tried } : { key: this.key, exclude: this.tried };
  }

  /** Ends the current try on its endpoint with an outcome (exactly once per try). */
  private endTry(outcome: 'success' | 'failure'): void {
    const ep = this.endpoint;
    if (ep === undefined) return;
    this.endpoint = undefined;
    this.proxy.balancer.end(ep, outcome, this.proxy.clock.now() - this.tryStartMs);
    if (outcome === 'success') ep.data.success.inc();
    else ep.data.failure.inc();
  }

  private canRetry(): boolean {
    if (!this.retryable || this.clientGone || this.tries >= this.proxy.config.retries.attemptsMax) return false;
    if (!this.proxy.retryBudget.tryWithdraw()) {
      this.proxy.metrics.retryBudgetExhausted.inc();
      return false;
    }
    return true;
  }

  /** Tries again, avoiding every backend already tried. */
  private retry(): void {
    this.tried ??= new Set();
    this.tried.add(this.currentSlot);
    this.proxy.metrics.retries.inc();
    this.send();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.status = statusCode;
    if ((statusCode === 502 || statusCode === 503 || statusCode === 504) && this.canRetry()) {
      this.endTry('failure');
      controller.abort(new RetryAbort(`status ${statusCode}`));
      return;
    }
    const flat: string[] = [];
    for (const name in headers) {
      if (DROP_RESPONSE.has(name)) continue;
      const v = headers[name];
      if (v === undefined) continue;
      if (typeof v === 'string') flat.push(name, v);
      else for (const x of v) flat.push(name, x);
    }
    this.res.writeHead(statusCode, statusMessage ?? '', flat);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.finished = true;
    this.endTry(this.status >= 500 ? 'failure' : 'success');
    this.res.end();
    this.record(this.status);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (err instanceof RetryAbort) {
      this.retry();
      return;
    }
    if (this.clientGone) {
      // The client left: not the backend's fault.
      const ep = this.endpoint;
      this.endpoint = undefined;
      if (ep !== undefined) this.proxy.balancer.end(ep, 'success', this.proxy.clock.now() - this.tryStartMs);
      this.finished = true;
      return;
    }
    this.lastError = err;
    const sent = this.res.headersSent;
    this.endTry('failure');
    if (!sent && this.canRetry()) {
      this.retry();
      return;
    }
    if (sent) {
      this.finished = true;
      this.res.destroy(err);
      this.record(502);
      return;
    }
    const timeout = (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' || (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT';
    this.reply(timeout ? 504 : 502, `${timeout ? 'upstream timeout' : 'bad gateway'}: ${this.lastError.message}\n`);
  }

  private reply(status: number, body: string): void {
    this.finished = true;
    if (this.res.headersSent) {
      this.res.destroy();
    } else {
      this.res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      this.res.end(body);
    }
    this.record(status);
  }

  private record(status: number): void {
    this.proxy.metrics.response(status);
    this.proxy.metrics.duration.observe((this.proxy.clock.now() - this.startMs) / 1000);
  }
}

function listen(server: http.Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
