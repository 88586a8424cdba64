/**
 * Active health checking for the proxy (HAProxy `check`, Envoy `health_checks`): every
 * `intervalMs` each backend is probed, over TCP (connect succeeds) or HTTP (GET `path` answers
 * 2xx/3xx), with a `timeoutMs` per probe; `HealthTracker` applies the healthy/unhealthy
 * thresholds. Probes run on injected `Timers`, one at a time per backend (a probe never
 * overlaps the next). Left out: gRPC and custom-payload checks, jitter.
 */
import http from 'node:http';
import net from 'node:net';
import type { Timers, TimerHandle } from '../core/clock.ts';
import { HealthTracker } from '../balancing/health.ts';
import type { HealthCheckConfig, HostPort } from './config.ts';

export interface ProbeResult {
  readonly passed: boolean;
  /** Why it failed ("connect ECONNREFUSED", "status 503", "timeout after 1000 ms"). */
  readonly detail: string;
}

export interface HealthTarget extends HostPort {
  readonly id: string;
}

type ActiveConfig = Exclude<HealthCheckConfig, { type: 'none' }>;

/** One probe of one target; never rejects. */
export function probe(target: HostPort, config: ActiveConfig): Promise<ProbeResult> {
  return config.type === 'tcp' ? probeTcp(target, config.timeoutMs) : probeHttp(target, config.path, config.timeoutMs);
}

export function probeTcp(target: HostPort, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => finish({ passed: false, detail: `timeout after ${timeoutMs} ms` }));
    socket.once('connect', () => finish({ passed: true, detail: 'connected' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ passed: false, detail: `connect ${err.code ?? err.message}` }));
  });
}

export function probeHttp(target: HostPort, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve(r);
    };
    const req = http.request(
      { host: target.host, port: target.port, path, method: 'GET', agent: false, headers: { 'user-agent': 'clusterkit-health-check' } },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.once('end', () => finish(status >= 200 && status < 400 ? { passed: true, detail: `status ${status}` } : { passed: false, detail: `status ${status}` }));
        res.once('error', (err) => finish({ passed: false, detail: err.message }));
      },
    );
    req.setTimeout(timeoutMs, () => finish({ passed: false, detail: `timeout after ${timeoutMs} ms` }));
    req.once('error', (err: NodeJS.ErrnoException) => finish({ passed: false, detail: `${err.code ?? err.message}` }));
    req.end();
  });
}

export interface HealthCheckerEvents {
  /** The health state of `id` changed. */
  onChange(id: string, healthy: boolean, result: ProbeResult): void;
  /** Every probe result (for metrics). */
  onProbe?(id: string, result: ProbeResult): void;
}

export class ActiveHealthChecker {
  private readonly config: ActiveConfig;
  private readonly timers: Timers;
  private readonly events: HealthCheckerEvents;
  private readonly trackers = new Map<string, { target: HealthTarget; tracker: HealthTracker; timer: TimerHandle | undefined }>();
  private stopped = false;

  constructor(targets: readonly HealthTarget[], config: ActiveConfig, timers: Timers, events: HealthCheckerEvents) {
    this.config = config;
    this.timers = timers;
    this.events = events;
    for (const t of targets) {
      this.trackers.set(t.id, {
        target: t,
        tracker: new HealthTracker({ healthyThreshold: config.healthyThreshold, unhealthyThreshold: config.unhealthyThreshold }),
        timer: undefined,
      });
    }
  }

  /** Runs the first probe of every target now; resolves with their results, then keeps probing. */
  async start(): Promise<Map<string, ProbeResult>> {
    const results = new Map<string, ProbeResult>();
    await Promise.all(
      [...this.trackers.keys()].map(async (id) => {
        const r = await this.runOne(id);
        if (r !== undefined) results.set(id, r);
      }),
    );
    return results;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.trackers.values()) {
      if (t.timer !== undefined) this.timers.clearTimeout(t.timer);
      t.timer = undefined;
    }
  }

  private async runOne(id: string): Promise<ProbeResult | undefined> {
    const entry = this.trackers.get(id);
    if (entry === undefined || this.stopped) return undefined;
    const result = await probe(entry.target, this.config);
    if (this.stopped) return result;
    this.events.onProbe?.(id, result);
    if (entry.tracker.record(result.passed)) this.events.onChange(id, entry.tracker.healthy, result);
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = undefined;
      void this.runOne(id);
    }, this.config.intervalMs);
    return result;
  }
}
