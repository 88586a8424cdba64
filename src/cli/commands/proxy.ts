/**
 * `clusterkit proxy`: runs the HTTP/1.1 reverse proxy from flags or a JSON config file (flags
 * given on the command line override the file). Same config for one central proxy or one proxy
 * per node.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import { parseProxyConfigText, resolveProxyConfig } from '../../proxy/config.ts';
import { type Logger, ProxyServer } from '../../proxy/server.ts';
import { isWorkerProcess, runPrimary, runWorker, workerDone } from '../../proxy/workers.ts';
import { formatHostPort, type HostPort } from '../../proxy/config.ts';
import { Resolver } from '../../registry/resolver.ts';
import { durationFlag, floatFlag, intFlag, printJson, UsageError } from '../util.ts';

interface ProxyFlags {
  config?: string;
  listen?: string;
  admin?: string;
  backend?: string[];
  policy?: string;
  healthCheck?: string;
  healthPath?: string;
  healthInterval?: number;
  healthTimeout?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
  attempts?: number;
  connectTimeout?: number;
  upstreamTimeout?: number;
  panicThreshold?: number;
  slowStart?: number;
  hashHeader?: string;
  hashRing?: string;
  connections?: number;
  outlier?: boolean;
  seed?: number;
  check?: boolean;
  workers?: number;
  service?: string;
  registry?: string[];
  tag?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Merges flags over a raw config object (the file's, or empty). */
export function flagsToRawConfig(flags: ProxyFlags, base: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = { ...base };
  const sub = (key: string): Record<string, unknown> => {
    const v = raw[key];
    const o = typeof v === 'object' && v !== null ? { ...(v as Record<string, unknown>) } : {};
    raw[key] = o;
    return o;
  };
  if (flags.listen !== undefined) raw.listen = flags.listen;
  if (flags.admin !== undefined) raw.admin = flags.admin;
  if (flags.backend !== undefined) raw.backends = flags.backend;
  if (flags.policy !== undefined) raw.policy = flags.policy;
  if (flags.hashHeader !== undefined) raw.hashHeader = flags.hashHeader;
  if (flags.hashRing !== undefined) raw.hashRing = flags.hashRing;
  if (flags.panicThreshold !== undefined) raw.panicThresholdPercent = flags.panicThreshold;
  if (flags.slowStart !== undefined) raw.slowStartMs = flags.slowStart;
  if (flags.connections !== undefined) raw.upstreamConnectionsMax = flags.connections;
  if (flags.seed !== undefined) raw.seed = flags.seed;
  if (flags.outlier === false) raw.outlier = false;
  if (flags.healthCheck === 'none') raw.healthCheck = false;
  else if (
    flags.healthCheck !== undefined ||
    flags.healthPath !== undefined ||
    flags.healthInterval !== undefined ||
    flags.healthTimeout !== undefined ||
    flags.healthyThreshold !== undefined ||
    flags.unhealthyThreshold !== undefined
  ) {
    if (raw.healthCheck === false) raw.healthCheck = {};
    const hc = sub('healthCheck');
    if (flags.healthCheck !== undefined) hc.type = flags.healthCheck;
    if (flags.healthPath !== undefined) hc.path = flags.healthPath;
    if (flags.healthInterval !== undefined) hc.intervalMs = flags.healthInterval;
    if (flags.healthTimeout !== undefined) hc.timeoutMs = flags.healthTimeout;
    if (flags.healthyThreshold !== undefined) hc.healthyThreshold = flags.healthyThreshold;
    if (flags.unhealthyThreshold !== undefined) hc.unhealthyThreshold = flags.unhealthyThreshold;
  }
  if (flags.attempts !== undefined) sub('retries').attemptsMax = flags.attempts;
  if (flags.connectTimeout !== undefined) sub('timeouts').connectMs = flags.connectTimeout;
  if (flags.upstreamTimeout !== undefined) sub('timeouts').upstreamHeadersMs = flags.upstreamTimeout;
  return raw;
}

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .description('HTTP/1.1 reverse proxy and load balancer (central, or one per node with the same config)')
    .option('--config <file>', 'JSON config file (see docs/balancing.md); flags override its fields')
    .option('--listen <host:port>', 'address to accept clients on, e.g. 127.0.0.1:8080')
    .option('--admin <host:port>', 'admin address serving /metrics, /healthz, /backends')
    .option('--backend <host:port[=weight]>', 'a backend (repeat for each)', collect)
    .option('--policy <name>', 'round-robin|weighted-round-robin|edf|least-connections|p2c|random|consistent-hash|peak-ewma (default round-robin)')
    .option('--health-check <type>', 'active health check: http, tcp or none (default tcp)')
    .option('--health-path <path>', 'path probed by http health checks (default /)')
    .option('--health-interval <duration>', 'time between health checks (default 5s)', durationFlag('--health-interval'))
    .option('--health-timeout <duration>', 'timeout of one health check (default 1s)', durationFlag('--health-timeout'))
    .option('--healthy-threshold <n>', 'passed checks in a row to become healthy (default 2)', intFlag('--healthy-threshold', { min: 1, max: 100 }))
    .option('--unhealthy-threshold <n>', 'failed checks in a row to become unhealthy (default 3)', intFlag('--unhealthy-threshold', { min: 1, max: 100 }))
    .option('--attempts <n>', 'tries per idempotent request including the first (default 3)', intFlag('--attempts', { min: 1, max: 10 }))
    .option('--connect-timeout <duration>', 'backend connect timeout (default 2s)', durationFlag('--connect-timeout'))
    .option('--upstream-timeout <duration>', 'per-try wait for response headers (default 15s)', durationFlag('--upstream-timeout'))
    .option('--panic-threshold <percent>', 'below this % healthy, use all backends (default 50; 0 = never)', floatFlag('--panic-threshold', { min: 0, max: 100 }))
    .option('--slow-start <duration>', 'weight ramp for recovering backends (default 0 = off)', durationFlag('--slow-start'))
    .option('--hash-header <name>', 'consistent-hash key header (default: client address)')
    .option('--hash-ring <kind>', 'table behind consistent-hash: builtin, ring, ketama, rendezvous or maglev (default builtin)')
    .option('--connections <n>', 'keep-alive connections per backend, at most (default 128)', intFlag('--connections', { min: 1, max: 100000 }))
    .option('--no-outlier', 'disable passive outlier detection')
    .option('--seed <n>', 'seed for randomised policies (default 1)', intFlag('--seed', { min: 0 }))
    .option('--workers <n>', 'worker processes sharing the listening socket (default 1)', intFlag('--workers', { min: 1, max: 64 }))
    .option('--check', 'validate the configuration, print it with defaults filled in, and exit')
    .option('--service <name>', 'server-side discovery: take the backends from the registry (passing instances) and follow changes')
    .option('--registry <url>', 'registry URL for --service (repeat for failover; default http://127.0.0.1:8500)', collect)
    .option('--tag <tag>', 'with --service: only instances with this tag')
    .action(async (flags: ProxyFlags) => {
      let base: Record<string, unknown> = {};
      if (flags.config !== undefined) {
        let text: string;
        try {
          text = readFileSync(flags.config, 'utf8');
        } catch (err) {
          throw new UsageError(`--config: cannot read ${flags.config}: ${err instanceof Error ? err.message : String(err)}`);
        }
        // Validate the file alone first so its errors name the file.
        parseProxyConfigText(text, flags.config);
        base = JSON.parse(text) as Record<string, unknown>;
      } else if ((flags.backend === undefined && flags.service === undefined) || flags.listen === undefined) {
        throw new UsageError('proxy needs --listen and at least one --backend (or --service NAME), or --config <file>');
      }
      if (flags.registry !== undefined && flags.service === undefined) throw new UsageError('--registry needs --service NAME');
      if (flags.service !== undefined && flags.backend !== undefined) throw new UsageError('give either --backend or --service, not both');
      // With --service the registry is the health authority; active checks only if asked for.
      if (flags.service !== undefined && flags.healthCheck === undefined && base.healthCheck === undefined) flags.healthCheck = 'none';
      const config = resolveProxyConfig(flagsToRawConfig(flags, base), { backendsFromRegistry: flags.service !== undefined });
      if (flags.check === true) {
        printJson({ ...config, listen: formatHostPort(config.listen), admin: config.admin && formatHostPort(config.admin) });
        return;
      }
      const log: Logger = (level, message) => process.stderr.write(`${level}: ${message}\n`);
      const workers = flags.workers ?? 1;
      // Server-side discovery: every serving process follows the registry itself.
      const followRegistry = (proxy: ProxyServer): Resolver | undefined => {
        if (flags.service === undefined) return undefined;
        const registries = (flags.registry ?? ['http://127.0.0.1:8500']).map((u) => {
          if (!/^https?:\/\/[^\s/]+\/?$/.test(u)) throw new UsageError(`--registry must be a URL like http://127.0.0.1:8500, got ${JSON.stringify(u)}`);
          return u.replace(/\/$/, '');
        });
        const service = flags.service;
        const resolver: Resolver = new Resolver({
          registries,
          service,
          ...(flags.tag === undefined ? {} : { tag: flags.tag }),
          onChange: (eps) => {
            proxy.setBackends(eps.map((e) => ({ address: `${e.address}:${e.port}`, weight: e.weight })));
            process.stderr.write(`clusterkit proxy: ${service} has ${eps.length} passing instances: ${eps.map((e) => `${e.address}:${e.port}`).join(' ')}\n`);
          },
          onError: (err, url) => process.stderr.write(`warn: registry ${url} unreachable (${err.message}); keeping ${resolver.endpoints().length} cached backends\n`),
        });
        void resolver.start();
        return resolver;
      };
      if (workers > 1 && isWorkerProcess()) {
        const proxy = await runWorker(config, log);
        const resolver = followRegistry(proxy);
        await untilSignal();
        await resolver?.close();
        await proxy.close();
        workerDone(); // closes the IPC channel so the worker process can exit
        return;
      }
      let running: { address: HostPort; adminAddress: HostPort | undefined; close(): Promise<void> };
      let resolver: Resolver | undefined;
      try {
        if (workers > 1) running = await runPrimary(config, workers, log);
        else {
          const proxy = new ProxyServer(config, { log });
          running = proxy;
          resolver = followRegistry(proxy);
          try {
            await proxy.start();
          } catch (err) {
            await proxy.close().catch(() => {});
            throw err;
          }
        }
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new ConfigError(`cannot listen: ${e.code ?? ''} ${e.message}`.trim());
      }
      const admin = running.adminAddress;
      process.stderr.write(
        `clusterkit proxy listening on ${formatHostPort(running.address)} (policy ${config.policy}, ${config.backends.length} backends${workers > 1 ? `, ${workers} workers` : ''}${admin ? `, admin http://${formatHostPort(admin)}/metrics` : ''})\n`,
      );
      await untilSignal();
      await resolver?.close();
      await running.close();
    });
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
