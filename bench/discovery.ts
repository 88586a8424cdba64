/**
 * Service-discovery latency on loopback (seed 04.5.4: L = L_register + L_query + L_select),
 * for each registry store and each discovery model:
 *
 * - register → visible: PUT /v1/agent/service/register on registry node A until a watcher
 *   sees the instance: a Resolver (blocking queries) on node B for client-side discovery, the
 *   proxy's balancer (fed by its resolver) for server-side, and a DNS A answer from node B for
 *   the registry model (DNS polled every 2 ms, so ±2 ms). A and B share the store (one node for
 *   memory, which cannot be shared across processes).
 * - query: GET /v1/health/service/web?passing on B (client-side), one request through the
 *   proxy minus one direct request (server-side: the per-request hop), one DNS A query (registry).
 * - select: one Balancer.pick over the resolved endpoints (round robin).
 * - drop failed instance: a backend with a TCP check (interval 100 ms, 2 failures before
 *   critical) is closed; time until the watcher on B no longer lists it.
 *
 * Peer in the same run: a real etcd (Debian etcd 3.4) through its JSON gateway: a put until a
 * watch stream on another connection delivers it, and a range read.
 *
 * Run: node --import tsx bench/discovery.ts [--trials 20] [--queries 300]
 */
import http from 'node:http';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { Balancer } from '../src/balancing/balancer.ts';
import { RoundRobinPicker } from '../src/balancing/round-robin.ts';
import { RealClock } from '../src/core/clock.ts';
import { type DiscoveryModel, discoveryLatency, SEED_DISCOVERY_TABLE } from '../src/models/discovery.ts';
import { resolveProxyConfig } from '../src/proxy/config.ts';
import { ProxyServer } from '../src/proxy/server.ts';
import { RegistryAgent } from '../src/registry/agent.ts';
import { EtcdStore } from '../src/registry/etcd-store.ts';
import { GatewayStore } from '../src/registry/gateway-store.ts';
import { GossipStore, HttpGossipTransport } from '../src/registry/gossip-store.ts';
import { MemoryStore } from '../src/registry/memory-store.ts';
import { RegistryClient, Resolver } from '../src/registry/resolver.ts';
import type { RegistryStore } from '../src/registry/store.ts';
import { freePort, startClusterkitKv, startEtcd } from '../test/registry/backends.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
const trials = Number(arg('--trials', '20'));
const queries = Number(arg('--queries', '300'));
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}
const med = (xs: number[]) => quantile(xs, 0.5);
const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 0.1 ? ms.toFixed(2) : ms.toFixed(4));

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 1): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await cond())) {
    if (now() > deadline) throw new Error('timed out');
    await sleep(stepMs);
  }
}

async function dnsA(port: number, name: string): Promise<string[]> {
  const sock = dgram.createSocket('udp4');
  try {
    const reply = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
    sock.send(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] }), port, '127.0.0.1');
    const r = dnsPacket.decode(await reply);
    return (r.answers ?? []).map((a) => String((a as { data: unknown }).data));
  } finally {
    sock.close();
  }
}

async function backend(name: string): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer((_q, s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, server };
}

interface StoreSetup {
  readonly name: string;
  open(i: number): Promise<RegistryStore>;
  readonly shared: boolean;
  stop(): Promise<void>;
}

interface Row {
  store: string;
  model: string;
  registerMs: number[];
  queryMs: number[];
  selectMs: number;
  dropMs: number[];
}

async function measureStore(setup: StoreSetup): Promise<Row[]> {
  const a = new RegistryAgent({ store: await setup.open(0), httpPort: 0, dnsPort: 0, config: { node: 'ra' } });
  await a.start();
  const b = setup.shared ? new RegistryAgent({ store: await setup.open(1), httpPort: 0, dnsPort: 0, config: { node: 'rb' } }) : a;
  if (b !== a) await b.start();
  const client = new RegistryClient(a.url);
  // a steady population of 20 instances
  for (let i = 0; i < 20; i++) await client.register({ Name: 'web', ID: `base-${i}`, Address: `127.0.0.${10 + i}`, Port: 8000 + i });
  const resolver = new Resolver({ registries: [b.url], service: 'web', waitMs: 30_000 });
  await resolver.start();
  await waitFor(() => resolver.endpoints().length === 20);

  const backends = [await backend('x'), await backend('y')];
  const proxyCfg = resolveProxyConfig({ listen: '127.0.0.1:0', backends: [], healthCheck: false, outlier: false }, { backendsFromRegistry: true });
  const proxy = new ProxyServer({ ...proxyCfg, listen: { host: '127.0.0.1', port: await freePort() } }, { log: () => {} });
  const proxyResolver = new Resolver({ registries: [b.url], service: 'hop', waitMs: 30_000, onChange: (eps) => proxy.setBackends(eps.map((e) => ({ address: `${e.address}:${e.port}`, weight: e.weight }))) });
  await proxy.start();
  void proxyResolver.start();
  const webResolverForProxy = new Resolver({ registries: [b.url], service: 'web', waitMs: 30_000 });
  const proxyBalancer = new Balancer<string>([], { picker: new RoundRobinPicker(), clock: new RealClock(), outlier: false });
  webResolverForProxy.attach(proxyBalancer);
  await webResolverForProxy.start();

  const reg = { client: [] as number[], server: [] as number[], dns: [] as number[] };
  for (let t = 0; t < trials; t++) {
    const id = `new-${t}`;
    const ip = `127.0.1.${(t % 200) + 1}`;
    const t0 = now();
    await client.register({ Name: 'web', ID: id, Address: ip, Port: 9000 });
    const seen = { client: -1, server: -1, dns: -1 };
    await waitFor(async () => {
      if (seen.client < 0 && resolver.endpoints().some((e) => e.id === id)) seen.client = now() - t0;
      if (seen.server < 0 && proxyBalancer.get(id) !== undefined) seen.server = now() - t0;
      if (seen.dns < 0 && (await dnsA(b.dnsPort, 'web.service.clusterkit')).includes(ip)) seen.dns = now() - t0;
      return seen.client >= 0 && seen.server >= 0 && seen.dns >= 0;
    }, 20_000, 0).catch((e) => {
      throw new Error(`${id}: ${JSON.stringify(seen)} ${e}`);
    });
    reg.client.push(seen.client);
    reg.server.push(seen.server);
    reg.dns.push(seen.dns);
    await client.deregister(id);
    await waitFor(() => !resolver.endpoints().some((e) => e.id === id));
  }

  // query latency
  const q = { client: [] as number[], proxy: [] as number[], direct: [] as number[], dns: [] as number[] };
  await client.register({ Name: 'hop', ID: 'hop-1', Port: backends[0]?.port ?? 0 });
  await waitFor(() => proxy.balancer.endpoints().length === 1);
  const proxyUrl = `http://127.0.0.1:${proxy.address.port}/`;
  const directUrl = `http://127.0.0.1:${backends[0]?.port}/`;
  for (let i = 0; i < queries; i++) {
    let t0 = now();
    const r = await fetch(`${b.url}/v1/health/service/web?passing`);
    await r.arrayBuffer();
    q.client.push(now() - t0);
    t0 = now();
    await (await fetch(directUrl)).arrayBuffer();
    q.direct.push(now() - t0);
    t0 = now();
    await (await fetch(proxyUrl)).arrayBuffer();
    q.proxy.push(now() - t0);
    t0 = now();
    await dnsA(b.dnsPort, 'web.service.clusterkit');
    q.dns.push(now() - t0);
  }
  // select latency: one pick over 20 resolved endpoints
  const n = 200_000;
  for (let i = 0; i < n; i++) proxyBalancer.pick({}); // warm-up (JIT)
  let t0 = now();
  for (let i = 0; i < n; i++) proxyBalancer.pick({});
  const selectMs = (now() - t0) / n;

  // time to drop a failed instance
  const drop: number[] = [];
  for (let t = 0; t < Math.max(3, Math.floor(trials / 4)); t++) {
    const be = await backend('dying');
    const id = `dying-${t}`;
    await client.register({ Name: 'web', ID: id, Port: be.port, Check: { TCP: `127.0.0.1:${be.port}`, Interval: '100ms', Timeout: '200ms', FailuresBeforeCritical: 2 } });
    await waitFor(() => resolver.endpoints().some((e) => e.id === id));
    await sleep(150);
    t0 = now();
    be.server.closeAllConnections();
    be.server.close();
    await waitFor(() => !resolver.endpoints().some((e) => e.id === id));
    drop.push(now() - t0);
    await client.deregister(id);
  }

  await resolver.close();
  await proxyResolver.close();
  await webResolverForProxy.close();
  await proxy.close();
  for (const x of backends) x.server.close();
  if (b !== a) await b.close();
  await a.close();
  const hop = q.proxy.map((p, i) => p - (q.direct[i] ?? 0));
  return [
    { store: setup.name, model: 'client-side', registerMs: reg.client, queryMs: q.client, selectMs, dropMs: drop },
    { store: setup.name, model: 'server-side', registerMs: reg.server, queryMs: hop, selectMs, dropMs: drop },
    { store: setup.name, model: 'registry', registerMs: reg.dns, queryMs: q.dns, selectMs, dropMs: drop },
  ];
}

async function etcdPeer(endpoint: string): Promise<{ putToWatchMs: number[]; rangeMs: number[] }> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const post = async (path: string, body: unknown) => (await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) })).json();
  const ac = new AbortController();
  let events = 0;
  const res = await fetch(`${endpoint}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64('/peer/'), range_end: b64('/peer0') } }), signal: ac.signal });
  void (async () => {
    try {
      for await (const chunk of res.body ?? []) events += String(Buffer.from(chunk as Uint8Array)).split('"events"').length - 1;
    } catch {
      // aborted
    }
  })();
  await sleep(100);
  const putToWatchMs: number[] = [];
  for (let t = 0; t < trials; t++) {
    const before = events;
    const t0 = now();
    await post('/v3/kv/put', { key: b64(`/peer/k${t}`), value: b64('v') });
    await waitFor(() => events > before, 10_000, 0);
    putToWatchMs.push(now() - t0);
  }
  const rangeMs: number[] = [];
  for (let i = 0; i < queries; i++) {
    const t0 = now();
    await post('/v3/kv/range', { key: b64('/peer/'), range_end: b64('/peer0') });
    rangeMs.push(now() - t0);
  }
  ac.abort();
  return { putToWatchMs, rangeMs };
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const kv = await startClusterkitKv();
  let prefixN = 0;
  const gossipPorts = [await freePort(), await freePort()];
  const setups: StoreSetup[] = [
    { name: 'memory', shared: false, open: async () => new MemoryStore(), stop: async () => {} },
    { name: 'kv (clusterkit Raft, 1 node)', shared: true, open: async () => new GatewayStore({ endpoints: [kv.endpoint], prefix: `/bench${prefixN++}/`, kind: 'kv' }), stop: () => kv.stop() },
    { name: 'etcd JSON gateway', shared: true, open: async () => new GatewayStore({ endpoints: [etcd.endpoint], prefix: '/bench-gw/', kind: 'etcd-gateway' }), stop: async () => {} },
    { name: 'etcd (etcd3 client)', shared: true, open: async () => new EtcdStore({ hosts: [etcd.endpoint], prefix: '/bench-e3/' }), stop: async () => {} },
    {
      name: 'gossip (2 nodes, HTTP, 100 ms rounds)',
      shared: true,
      open: async (i) => {
        const names = ['g0', 'g1'];
        const self = names[i] ?? 'g0';
        const peers = new Map(names.map((n, j) => [n, `127.0.0.1:${gossipPorts[j]}`] as const));
        const t = new HttpGossipTransport(self, peers);
        await t.listen('127.0.0.1', gossipPorts[i] ?? 0);
        return new GossipStore({ self, peers: () => names, transport: t, tickMs: 100 });
      },
      stop: async () => {},
    },
  ];
  const rows: Row[] = [];
  // the kv setup's two agents must share one prefix
  for (const s of setups) {
    if (s.name.startsWith('kv')) {
      const p = `/bench-kv/`;
      s.open = async () => new GatewayStore({ endpoints: [kv.endpoint], prefix: p, kind: 'kv' });
    }
    process.stderr.write(`measuring ${s.name} ...\n`);
    rows.push(...(await measureStore(s)));
  }
  const peer = await etcdPeer(etcd.endpoint);
  await kv.stop();
  await etcd.stop();

  const out: string[] = [];
  out.push(`trials ${trials}, queries ${queries}; medians (p99 in brackets), ms`);
  out.push('');
  out.push('| store | model | register → visible | query | select (µs) | drop failed instance | seed (reg/query/select/total) | model L (ms) |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const seed = SEED_DISCOVERY_TABLE[r.model as DiscoveryModel];
    const l = discoveryLatency(r.model as DiscoveryModel, {
      registerMs: med(r.registerMs),
      registryRttMs: med(r.queryMs),
      cacheHitRatio: 0,
      selectMs: r.selectMs,
      lbHopMs: 0,
    });
    out.push(
      `| ${r.store} | ${r.model} | ${f(med(r.registerMs))} (${f(quantile(r.registerMs, 0.99))}) | ${f(med(r.queryMs))} (${f(quantile(r.queryMs, 0.99))}) | ${(r.selectMs * 1000).toFixed(3)} | ${f(med(r.dropMs))} | ${seed.register}/${seed.query}/${seed.select}/${seed.total} | ${f(l.totalMs)} |`,
    );
  }
  out.push('');
  out.push(`peer (same run): etcd 3.4 JSON gateway put → watch event ${f(med(peer.putToWatchMs))} ms (p99 ${f(quantile(peer.putToWatchMs, 0.99))}), range ${f(med(peer.rangeMs))} ms (p99 ${f(quantile(peer.rangeMs, 0.99))})`);
  for (const r of rows.filter((x) => x.model === 'client-side')) {
    out.push(`ratio ${r.store}: register→visible / etcd put→watch = ${(med(r.registerMs) / med(peer.putToWatchMs)).toFixed(2)}; query / etcd range = ${(med(r.queryMs) / med(peer.rangeMs)).toFixed(2)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
