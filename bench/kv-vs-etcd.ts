/**
 * clusterkit KV vs etcd 3.4, same machine, same run, same HTTP load:
 *   node --import tsx bench/kv-vs-etcd.ts [--seconds 10] [--warmup 3] [--connections 64] [--keys 100000]
 *
 * Starts a 3-member clusterkit cluster (`clusterkit node` processes) and a 3-member etcd cluster
 * (the `etcd` binary: Debian's etcd-server package) on loopback, both fsyncing their logs, and
 * sends each the same load through their v3 JSON gateways: PUT of 256-byte values to random keys
 * over N connections to the leader, then linearizable GETs of random keys. Reports throughput,
 * p50/p99 latency, server CPU per operation and the clusterkit/etcd ratio. Each phase runs twice
 * per system in A-B-B-A order; the table shows the means.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
  return v;
}
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 64);
const KEYS = arg('keys', 100_000);
const WARMUP_SECONDS = arg('warmup', 3);
const VALUE = Buffer.alloc(256, 'v').toString('base64');
/**
 * Node flags of the clusterkit processes: the same young-generation size `clusterkit up` uses
 * (a 64 MiB semi-space: fewer scavenges, less promoted garbage, shorter tails). Override with
 * CLUSTERKIT_NODE_FLAGS ('' for Node's defaults).
 */
const NODE_FLAGS = (process.env.CLUSTERKIT_NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter((s) => s !== '');
/** Extra `clusterkit node` flags, e.g. CLUSTERKIT_NODE_ARGS='--snapshot-count 1000000'. */
const NODE_ARGS = (process.env.CLUSTERKIT_NODE_ARGS ?? '').split(' ').filter((s) => s !== '');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

interface System {
  name: string;
  endpoints: string[];
  procs: ChildProcess[];
}

async function waitLeader(endpoints: string[]): Promise<string> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    for (const e of endpoints) {
      try {
        const res = await request(`${e}/v3/maintenance/status`, { method: 'POST', body: '{}', headersTimeout: 1000 });
        const s = (await res.body.json()) as { header?: { member_id?: string }; leader?: string };
        if (res.statusCode === 200 && s.leader !== undefined && s.leader !== '0' && s.leader === s.header?.member_id) return e;
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no leader among ${endpoints.join(', ')}`);
}

async function startClusterkit(root: string): Promise<System> {
  const bin = fileURLToPath(new URL('../bin/clusterkit.mjs', import.meta.url));
  const ports = await Promise.all(Array.from({ length: 6 }, freePort));
  const peers = [0, 1, 2].map((i) => `n${i + 1}=127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const procs = [0, 1, 2].map((i) =>
    spawn(
      process.execPath,
      [...NODE_FLAGS, bin, 'node', '--name', `n${i + 1}`, '--listen-client', `127.0.0.1:${ports[2 * i]}`, '--listen-peer', `127.0.0.1:${ports[2 * i + 1]}`, '--peers', peers, '--data-dir', join(root, `ck-n${i + 1}`), '--cluster-id', 'bench', '--log-level', 'warn', ...NODE_ARGS],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  return { name: 'clusterkit', endpoints: [0, 1, 2].map((i) => `http://127.0.0.1:${ports[2 * i]}`), procs };
}

async function startEtcd(root: string): Promise<System> {
  const ports = await Promise.all(Array.from({ length: 6 }, freePort));
  const cluster = [0, 1, 2].map((i) => `e${i + 1}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const procs = [0, 1, 2].map((i) =>
    spawn(
      'etcd',
      [
        '--name',
        `e${i + 1}`,
        '--data-dir',
        join(root, `etcd-e${i + 1}`),
        '--listen-client-urls',
        `http://127.0.0.1:${ports[2 * i]}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${ports[2 * i]}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${ports[2 * i + 1]}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${ports[2 * i + 1]}`,
        '--initial-cluster',
        cluster,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        'bench',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    ),
  );
  return { name: 'etcd', endpoints: [0, 1, 2].map((i) => `http://127.0.0.1:${ports[2 * i]}`), procs };
}

/** CPU seconds used so far by a process (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const systemCpu = (s: System) => s.procs.reduce((sum, p) => sum + cpuSeconds(p.pid), 0);

interface PhaseResult {
  /** CPU milliseconds the system's three processes spent per operation. */
  cpuMsPerOp: number;
  ops: number;
  errors: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function phase(system: System, endpoint: string, kind: 'put' | 'get'): Promise<PhaseResult> {
  const pool = new Pool(endpoint, { connections: CONNECTIONS, pipelining: 1 });
  const lat: number[] = [];
  let errors = 0;
  let running = true;
  const path = kind === 'put' ? '/v3/kv/put' : '/v3/kv/range';
  const worker = async () => {
    while (running) {
      const key = Buffer.from(`key-${Math.floor(Math.random() * KEYS)}`).toString('base64');
      const body = kind === 'put' ? `{"key":"${key}","value":"${VALUE}"}` : `{"key":"${key}"}`;
      const t = performance.now();
      try {
        const res = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
        await res.body.text();
        if (res.statusCode === 200) lat.push(performance.now() - t);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  // Warm-up, not measured (JIT, connection set-up, heap growth).
  const warm = Array.from({ length: CONNECTIONS }, worker);
  await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  running = false;
  await Promise.all(warm);
  lat.length = 0;
  errors = 0;
  running = true;
  const cpu0 = systemCpu(system);
  const t0 = performance.now();
  const workers = Array.from({ length: CONNECTIONS }, worker);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  running = false;
  await Promise.all(workers);
  const elapsed = (performance.now() - t0) / 1000;
  const cpuMsPerOp = ((systemCpu(system) - cpu0) * 1000) / Math.max(1, lat.length);
  await pool.close();
  const sorted = Float64Array.from(lat).sort();
  return { cpuMsPerOp, ops: lat.length, errors, perSec: lat.length / elapsed, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
}

const etcdVersion = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
if (etcdVersion.status !== 0) {
  console.error('etcd not found: apt-get install etcd-server etcd-client (Debian) and rerun');
  process.exit(2);
}
const root = await mkdtemp(join(tmpdir(), 'ck-bench-'));
const systems: System[] = [];
const stopAll = async () => {
  for (const s of systems) for (const p of s.procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const s of systems) for (const p of s.procs) if (p.exitCode === null) p.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
try {
  systems.push(await startClusterkit(root));
  systems.push(await startEtcd(root));
  const leaders = new Map<string, string>();
  for (const s of systems) leaders.set(s.name, await waitLeader(s.endpoints));
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${(etcdVersion.stdout.split('\n')[0] ?? '').trim()}`);
  console.log(`load: ${CONNECTIONS} connections to the leader, ${SECONDS} s per phase after ${WARMUP_SECONDS} s warm-up, 256-byte values, ${KEYS} random keys; data dirs under ${tmpdir()}`);
  // Two rounds per phase in A-B-B-A order (so neither system always runs first, on a warmer or
  // quieter machine); each system's figures are the mean of its two rounds.
  const results: Record<string, Record<string, PhaseResult>> = { clusterkit: {}, etcd: {} };
  for (const kind of ['put', 'get'] as const) {
    const runs: Record<string, PhaseResult[]> = { clusterkit: [], etcd: [] };
    for (const s of [...systems, ...[...systems].reverse()]) {
      const r = await phase(s, leaders.get(s.name) as string, kind);
      runs[s.name]?.push(r);
      console.log(`${s.name.padEnd(10)} ${kind === 'put' ? 'PUT' : 'GET (linearizable)'}: ${r.perSec.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.cpuMsPerOp.toFixed(3)} CPU ms/op (3 servers), ${r.errors} errors`);
    }
    for (const [name, rs] of Object.entries(runs)) {
      const mean = (f: (r: PhaseResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
      (results[name] as Record<string, PhaseResult>)[kind] = {
        ops: mean((r) => r.ops),
        errors: mean((r) => r.errors),
        perSec: mean((r) => r.perSec),
        p50Ms: mean((r) => r.p50Ms),
        p99Ms: mean((r) => r.p99Ms),
        cpuMsPerOp: mean((r) => r.cpuMsPerOp),
      };
    }
  }
  console.log('\n| phase | clusterkit ops/s | etcd ops/s | ratio | clusterkit p50 / p99 ms | etcd p50 / p99 ms | CPU ms/op clusterkit / etcd |');
  console.log('|---|---|---|---|---|---|---|');
  for (const kind of ['put', 'get'] as const) {
    const a = results.clusterkit?.[kind] as PhaseResult;
    const b = results.etcd?.[kind] as PhaseResult;
    console.log(
      `| ${kind === 'put' ? 'PUT 256 B' : 'GET linearizable'} | ${a.perSec.toFixed(0)} | ${b.perSec.toFixed(0)} | ${(a.perSec / b.perSec).toFixed(2)}x | ${a.p50Ms.toFixed(2)} / ${a.p99Ms.toFixed(2)} | ${b.p50Ms.toFixed(2)} / ${b.p99Ms.toFixed(2)} | ${a.cpuMsPerOp.toFixed(3)} / ${b.cpuMsPerOp.toFixed(3)} |`,
    );
  }
} finally {
  await stopAll();
}
