/**
 * Prometheus metrics of one proxy (prom-client, a registry per proxy so several proxies can
 * live in one process, as in tests). Names follow `clusterkit_proxy_*`; per-backend series
 * carry a `backend` label with the backend's `host:port`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface BackendStatus {
  readonly id: string;
  readonly healthy: boolean;
  readonly ejected: boolean;
  readonly active: number;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'code'>;
  readonly upstream: Counter<'backend' | 'outcome'>;
  readonly retries: Counter;
  readonly retryBudgetExhausted: Counter;
  readonly badRequests: Counter;
  readonly noBackend: Counter;
  readonly ejections: Counter<'backend'>;
  readonly duration: Histogram;
  private readonly byClass: Counter.Internal[];

  constructor(status: () => readonly BackendStatus[], panic: () => boolean) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'clusterkit_proxy_requests_total', help: 'Client requests answered, by status class', labelNames: ['code'], registers });
    this.byClass = ['1xx', '2xx', '3xx', '4xx', '5xx'].map((c) => this.requests.labels(c));
    this.upstream = new Counter({
      name: 'clusterkit_proxy_upstream_requests_total',
      help: 'Tries sent to backends, by outcome (success, failure = 5xx or connection error)',
      labelNames: ['backend', 'outcome'],
      registers,
    });
    this.retries = new Counter({ name: 'clusterkit_proxy_retries_total', help: 'Retries of idempotent requests on another backend', registers });
    this.retryBudgetExhausted = new Counter({ name: 'clusterkit_proxy_retry_budget_exhausted_total', help: 'Retries refused by the retry budget', registers });
    this.badRequests = new Counter({ name: 'clusterkit_proxy_bad_requests_total', help: 'Malformed client requests answered with 400', registers });
    this.noBackend = new Counter({ name: 'clusterkit_proxy_no_backend_total', help: 'Requests answered 503 because no backend could be picked', registers });
    this.ejections = new Counter({ name: 'clusterkit_proxy_ejections_total', help: 'Outlier ejections', labelNames: ['backend'], registers });
    this.duration = new Histogram({
      name: 'clusterkit_proxy_request_duration_seconds',
      help: 'Time from request to end of response, seconds',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'clusterkit_proxy_backend_healthy',
      help: '1 when the backend passes active health checks and is not ejected',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        for (const b of status()) this.set({ backend: b.id }, b.healthy && !b.ejected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'clusterkit_proxy_backend_active_requests',
      help: 'Requests in flight per backend',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        for (const b of status()) this.set({ backend: b.id }, b.active);
      },
    });
    new Gauge({
      name: 'clusterkit_proxy_panic',
      help: '1 while fewer than the panic threshold of backends are healthy (all backends used)',
      registers,
      collect() {
        this.set(panic() ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'clusterkit_proxy_' });
  }

  /** Counts a client response by status class. */
  response(status: number): void {
    const i = Math.floor(status / 100) - 1;
    (this.byClass[i] ?? this.byClass[4])?.inc();
  }
}
