/**
 * Multi-process proxy (`clusterkit proxy --workers N`), like nginx `worker_processes` or HAProxy
 * `nbthread`: the primary process forks N workers with node:cluster; each worker runs a full
 * `ProxyServer` on the shared listening socket (its own pools, balancer and health checks, as N
 * per-node proxies would), and the primary serves the admin endpoint with metrics aggregated
 * over the workers (prom-client `AggregatorRegistry`). A worker that dies is replaced.
 * Left out: sharing balancer state between workers (each balances its own connections).
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { HostPort, ProxyConfig } from './config.ts';
import { type Logger, ProxyServer } from './server.ts';

/** Restarts of crashed workers allowed per minute before the primary gives up. */
const RESTARTS_PER_MINUTE_MAX = 10;

export function isWorkerProcess(): boolean {
  return cluster.isWorker;
}

/** Called by a worker after its proxy closed: disconnects from the primary so the process exits. */
export function workerDone(): void {
  if (cluster.worker?.isConnected()) cluster.worker.disconnect();
}

/** Runs in a worker: the proxy without its own admin endpoint; metrics go to the primary. */
export async function runWorker(config: ProxyConfig, log: Logger): Promise<ProxyServer> {
  const proxy = new ProxyServer({ ...config, admin: undefined }, { log: (level, msg) => log(level, `worker ${cluster.worker?.id}: ${msg}`) });
  AggregatorRegistry.setRegistries([proxy.metrics.registry]);
  // Constructing one installs the listener that answers the primary's metric requests.
  new AggregatorRegistry();
  await proxy.start();
  return proxy;
}

export interface Primary {
  /** Where clients connect (as bound by the workers). */
  readonly address: HostPort;
  readonly adminAddress: HostPort | undefined;
  close(): Promise<void>;
}

/** Runs in the primary: forks `workers` processes and serves aggregated metrics. */
export async function runPrimary(config: ProxyConfig, workers: number, log: Logger): Promise<Primary> {
  let stopping = false;
  const restarts: number[] = [];
  const listening = new Promise<HostPort>((resolve) => {
    let count = 0;
    cluster.on('listening', (_w: Worker, address: { address: string; port: number }) => {
      if (address.port === config.listen.port || config.listen.port === 0) {
        count++;
        if (count === workers) resolve({ host: address.address ?? config.listen.host, port: address.port });
      }
    });
  });
  cluster.on('exit', (w: Worker, code: number | null, signal: string | null) => {
    if (stopping) return;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && (restarts[0] as number) < now - 60_000) restarts.shift();
    if (restarts.length > RESTARTS_PER_MINUTE_MAX) {
      log('error', `worker ${w.id} exited (${code ?? signal}); too many restarts, not replacing it`);
      return;
    }
    log('warn', `worker ${w.id} exited (${code ?? signal}); starting a replacement`);
    cluster.fork();
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  const address = await listening;

  let admin: http.Server | undefined;
  if (config.admin !== undefined) {
    const aggregator = new AggregatorRegistry();
    admin = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        aggregator.clusterMetrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': aggregator.contentType });
            res.end(body);
          },
          (err: Error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`cannot collect worker metrics: ${err.message}\n`);
          },
        );
      } else if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: with --workers the admin endpoint serves /metrics (summed over workers) and /healthz\n');
      }
    });
    const a = admin;
    const adminAt = config.admin;
    await new Promise<void>((resolve, reject) => {
      a.once('error', reject);
      a.listen(adminAt.port, adminAt.host, () => resolve());
    });
  }
  const adminInfo = admin?.address() as AddressInfo | undefined;
  return {
    address,
    adminAddress: adminInfo === undefined ? undefined : { host: adminInfo.address, port: adminInfo.port },
    async close() {
      stopping = true;
      const exits = Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w === undefined || w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.kill('SIGTERM');
          }),
      );
      await Promise.all(exits);
      if (admin !== undefined) {
        const a = admin;
        await new Promise<void>((r) => a.close(() => r()));
      }
    },
  };
}
