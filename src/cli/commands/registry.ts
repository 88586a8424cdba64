/**
 * `clusterkit registry serve|register|deregister|pass|list|watch` and `clusterkit resolve NAME`:
 * run a registry node (HTTP API + DNS) over a chosen store, and talk to one.
 */
import type { Command } from 'commander';
import { RegistryAgent } from '../../registry/agent.ts';
import { openStore, STORE_KINDS } from '../../registry/open-store.ts';
import type { RegistryEvent } from '../../registry/registry.ts';
import { RegistryClient, RegistryRequestError, Resolver } from '../../registry/resolver.ts';
import { floatFlag, intFlag, printJson, table, UsageError } from '../util.ts';

const DEFAULT_REGISTRY = 'http://127.0.0.1:8500';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function registryUrl(v: string): string {
  if (!/^https?:\/\/[^\s/]+$/.test(v.replace(/\/$/, ''))) throw new UsageError(`--registry must be a URL like ${DEFAULT_REGISTRY}, got ${JSON.stringify(v)}`);
  return v.replace(/\/$/, '');
}

function logEvent(e: RegistryEvent): void {
  process.stderr.write(`${JSON.stringify({ level: e.type === 'store-error' ? 'warn' : 'info', msg: 'registry', ...e })}\n`);
}

export function registerRegistry(program: Command): void {
  const reg = program.command('registry').description('Service registry: register, health-check, watch and resolve services (Consul-like HTTP API, DNS)');

  reg
    .command('serve')
    .description('Run a registry node: HTTP API (default 127.0.0.1:8500) and DNS (default 127.0.0.1:8600)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--http-port <port>', 'HTTP API port (0 = any)', intFlag('--http-port', { min: 0, max: 65535 }), 8500)
    .option('--dns-port <port>', 'DNS port (0 = any)', intFlag('--dns-port', { min: 0, max: 65535 }), 8600)
    .option('--no-dns', 'do not serve DNS')
    .option('--domain <domain>', 'DNS domain', 'clusterkit.')
    .option('--node <name>', 'this registry node name', 'registry-1')
    .option('--store <kind>', `store: ${STORE_KINDS.join(', ')}`, 'memory')
    .option('--endpoint <url>', 'store backend endpoint (repeat)', collect)
    .option('--prefix <prefix>', 'key prefix in a KV store', '/clusterkit/registry/')
    .option('--gossip-listen <host:port>', 'gossip store: address for gossip between registry nodes', '127.0.0.1:8301')
    .option('--gossip-peer <name=host:port>', 'gossip store: a peer registry node (repeat)', collect)
    .option('--lease-ttl <sec>', 'kv/etcd stores: lease TTL of this node\'s records (they vanish this long after the node dies)', intFlag('--lease-ttl', { min: 2, max: 3600 }), 10)
    .option('--self-preservation', 'stop expiring TTLs when many expire at once (Eureka)')
    .option('--self-preservation-threshold <share>', 'share of instances expiring within the window that engages it', floatFlag('--self-preservation-threshold', { min: 0, max: 1, minExclusive: true }), 0.15)
    .action(async (o: { host: string; httpPort: number; dnsPort: number; dns: boolean; domain: string; node: string; store: string; endpoint?: string[]; prefix: string; gossipListen: string; gossipPeer?: string[]; leaseTtl: number; selfPreservation?: boolean; selfPreservationThreshold: number }) => {
      if (!(STORE_KINDS as readonly string[]).includes(o.store)) throw new UsageError(`--store must be one of ${STORE_KINDS.join(', ')}, got ${JSON.stringify(o.store)}`);
      const store = await openStore({ kind: o.store, endpoints: o.endpoint ?? [], prefix: o.prefix, node: o.node, gossipListen: o.gossipListen, gossipPeers: o.gossipPeer ?? [], leaseTtlSec: o.leaseTtl, memoryStartIndex: Math.floor(Date.now() / 1000) * 1000 });
      const agent = new RegistryAgent({
        store,
        host: o.host,
        httpPort: o.httpPort,
        dnsPort: o.dns ? o.dnsPort : false,
        domain: o.domain,
        config: { node: o.node, selfPreservation: { enabled: o.selfPreservation === true, thresholdShare: o.selfPreservationThreshold, windowMs: 60_000, instancesMin: 4 } },
        onEvent: logEvent,
      });
      await agent.start();
      process.stderr.write(`${JSON.stringify({ level: 'info', msg: 'registry serving', http: agent.url, dns: agent.dns === undefined ? null : `${o.host}:${agent.dnsPort}`, store: store.kind, node: o.node })}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await agent.close();
    });

  reg
    .command('register')
    .description('Register an instance')
    .requiredOption('--name <service>', 'service name')
    .requiredOption('--port <port>', 'instance port', intFlag('--port', { min: 1, max: 65535 }))
    .option('--id <id>', 'instance id (default <name>-<address>-<port>)')
    .option('--address <address>', 'instance address', '127.0.0.1')
    .option('--tag <tag>', 'tag (repeat)', collect)
    .option('--meta <k=v>', 'metadata (repeat)', collect)
    .option('--weight <w>', 'balancing weight', floatFlag('--weight', { min: 0, minExclusive: true }), 1)
    .option('--ttl <duration>', 'TTL check (heartbeat with `registry pass`), e.g. 10s')
    .option('--http-check <url>', 'HTTP check URL')
    .option('--tcp-check <host:port>', 'TCP check target')
    .option('--interval <duration>', 'active check interval', '10s')
    .option('--timeout <duration>', 'active check timeout', '2s')
    .option('--failures <n>', 'failures before critical', intFlag('--failures', { min: 1, max: 1000 }), 1)
    .option('--deregister-after <duration>', 'deregister after being critical this long')
    .option('--registry <url>', 'registry URL', DEFAULT_REGISTRY)
    .action(async (o: Record<string, unknown> & { name: string; port: number; registry: string; tag?: string[]; meta?: string[] }) => {
      const meta: Record<string, string> = {};
      for (const kv of o.meta ?? []) {
        const i = kv.indexOf('=');
        if (i < 1) throw new UsageError(`--meta must be key=value, got ${JSON.stringify(kv)}`);
        meta[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const kinds = [o.ttl, o.httpCheck, o.tcpCheck].filter((x) => x !== undefined).length;
      if (kinds > 1) throw new UsageError('give at most one of --ttl, --http-check, --tcp-check');
      const dereg = o.deregisterAfter === undefined ? {} : { DeregisterCriticalServiceAfter: o.deregisterAfter };
      const check =
        o.ttl !== undefined
          ? { TTL: o.ttl, ...dereg }
          : o.httpCheck !== undefined
            ? { HTTP: o.httpCheck, Interval: o.interval, Timeout: o.timeout, FailuresBeforeCritical: o.failures, ...dereg }
            : o.tcpCheck !== undefined
              ? { TCP: o.tcpCheck, Interval: o.interval, Timeout: o.timeout, FailuresBeforeCritical: o.failures, ...dereg }
              : undefined;
      const body = { Name: o.name, Port: o.port, Address: o.address, Tags: o.tag ?? [], Meta: meta, Weight: o.weight, ...(o.id === undefined ? {} : { ID: o.id }), ...(check === undefined ? {} : { Check: check }) };
      try {
        const r = await new RegistryClient(registryUrl(o.registry)).register(body);
        process.stdout.write(`${r.ID}\n`);
      } catch (err) {
        // The registry's 400 names the bad field: a usage error (exit 2), like a bad flag.
        if (err instanceof RegistryRequestError && err.status === 400) throw new UsageError(`registration refused: ${err.message}`);
        throw err;
      }
    });

  reg
    .command('deregister <id>')
    .description('Deregister an instance')
    .option('--registry <url>', 'registry URL', DEFAULT_REGISTRY)
    .action(async (id: string, o: { registry: string }) => {
      await new RegistryClient(registryUrl(o.registry)).deregister(id);
    });

  reg
    .command('pass <id>')
    .description('TTL heartbeat: mark an instance passing (or --warn / --fail)')
    .option('--warn', 'mark warning')
    .option('--fail', 'mark critical')
    .option('--note <text>', 'check output')
    .option('--registry <url>', 'registry URL', DEFAULT_REGISTRY)
    .action(async (id: string, o: { warn?: boolean; fail?: boolean; note?: string; registry: string }) => {
      await new RegistryClient(registryUrl(o.registry)).check(id, o.fail ? 'fail' : o.warn ? 'warn' : 'pass', o.note);
    });

  reg
    .command('list [service]')
    .description('List services, or the instances of one service')
    .option('--passing', 'only passing instances')
    .option('--json', 'print JSON')
    .option('--registry <url>', 'registry URL', DEFAULT_REGISTRY)
    .action(async (service: string | undefined, o: { passing?: boolean; json?: boolean; registry: string }) => {
      const c = new RegistryClient(registryUrl(o.registry));
      if (service === undefined) {
        const s = await c.services();
        if (o.json) return printJson(s);
        process.stdout.write(`${table(['service', 'tags'], Object.entries(s).map(([k, v]) => [k, v.join(',')]))}\n`);
        return;
      }
      const h = await c.health(service, o.passing === true);
      if (o.json) return printJson(h);
      process.stdout.write(`${table(['id', 'address', 'port', 'status', 'weight', 'tags'], h.map((e) => [e.Service.ID, e.Service.Address, e.Service.Port, e.Checks[0]?.Status ?? 'passing', e.Service.Weights.Passing, e.Service.Tags.join(',')]))}\n`);
    });

  reg
    .command('watch <service>')
    .description('Follow a service: print its passing instances whenever they change (blocking queries)')
    .option('--registry <url>', 'registry URL (repeat for failover)', collect)
    .option('--tag <tag>', 'only instances with this tag')
    .action(async (service: string, o: { registry?: string[]; tag?: string }) => {
      const r = new Resolver({
        registries: (o.registry ?? [DEFAULT_REGISTRY]).map(registryUrl),
        service,
        ...(o.tag === undefined ? {} : { tag: o.tag }),
        onChange: (eps) => process.stdout.write(`${JSON.stringify({ service, endpoints: eps.map((e) => `${e.address}:${e.port}`) })}\n`),
        onError: (err, url) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'registry unreachable, keeping cached endpoints', registry: url, error: err.message })}\n`),
      });
      void r.start();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await r.close();
    });

  program
    .command('resolve <service>')
    .description('Print the passing endpoints (host:port) of a service from the registry')
    .option('--registry <url>', 'registry URL', DEFAULT_REGISTRY)
    .option('--tag <tag>', 'only instances with this tag')
    .option('--json', 'print JSON')
    .action(async (service: string, o: { registry: string; tag?: string; json?: boolean }) => {
      const c = new RegistryClient(registryUrl(o.registry));
      const h = (await c.health(service, true)).filter((e) => o.tag === undefined || e.Service.Tags.includes(o.tag));
      if (o.json) return printJson(h.map((e) => ({ id: e.Service.ID, address: e.Service.Address, port: e.Service.Port, weight: e.Service.Weights.Passing })));
      for (const e of h) process.stdout.write(`${e.Service.Address}:${e.Service.Port}\n`);
      if (h.length === 0) process.exitCode = 1;
    });
}
