/**
 * Real-process test harness: starts `clusterkit node` processes on loopback with free ports and
 * temporary data dirs, waits for readiness by polling /health with a deadline, kills (SIGKILL)
 * and restarts them, and always cleans up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { GatewayClient } from '../../src/http/client.ts';

const BIN = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ProcNode {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  url: string;
  proc: ChildProcess | undefined;
  log: string[];
  extraArgs: string[];
  join: boolean;
}

export interface ClusterOptions {
  nodes?: number;
  tickMs?: number;
  snapshotCount?: number;
  compactionLag?: number;
  walSegmentBytes?: number;
  proposalTimeoutMs?: number;
  /** The leader keeps this many revisions of history (0: no automatic compaction). */
  autoCompactionRetention?: number;
  clusterId?: string;
}

export async function until<T>(what: string, deadlineMs: number, f: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
}

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  readonly root: string;
  readonly opts: Required<ClusterOptions>;

  private constructor(root: string, opts: ClusterOptions) {
    this.root = root;
    this.opts = {
      nodes: 3,
      tickMs: 30,
      snapshotCount: 10_000,
      compactionLag: 5000,
      walSegmentBytes: 64 * 1024 * 1024,
      proposalTimeoutMs: 3000,
      autoCompactionRetention: 10_000,
      clusterId: 'test-cluster',
      ...opts,
    };
  }

  static async create(opts: ClusterOptions = {}): Promise<ProcCluster> {
    const root = await mkdtemp(join(tmpdir(), 'ck-kv-'));
    const c = new ProcCluster(root, opts);
    for (let i = 1; i <= c.opts.nodes; i++) await c.define(`n${i}`, false);
    return c;
  }

  async define(name: string, join: boolean): Promise<ProcNode> {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const n: ProcNode = { name, clientPort, peerPort, dataDir: join ? `${this.root}/${name}` : `${this.root}/${name}`, url: `http://127.0.0.1:${clientPort}`, proc: undefined, log: [], extraArgs: [], join };
    this.nodes.push(n);
    return n;
  }

  node(name: string): ProcNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  peersArg(names?: string[]): string {
    return this.nodes
      .filter((n) => names === undefined || names.includes(n.name))
      .map((n) => `${n.name}=127.0.0.1:${n.peerPort}`)
      .join(',');
  }

  /** Starts a node process (does not wait for health). */
  start(n: ProcNode, peers = this.peersArg(this.nodes.filter((x) => !x.join).map((x) => x.name)), clusterId = this.opts.clusterId): ChildProcess {
    const args = [
      BIN,
      'node',
      '--name',
      n.name,
      '--listen-client',
      `127.0.0.1:${n.clientPort}`,
      '--listen-peer',
      `127.0.0.1:${n.peerPort}`,
      '--peers',
      peers,
      '--data-dir',
      n.dataDir,
      '--cluster-id',
      clusterId,
      '--tick-ms',
      String(this.opts.tickMs),
      '--snapshot-count',
      String(this.opts.snapshotCount),
      '--compaction-lag',
      String(this.opts.compactionLag),
      '--wal-segment-bytes',
      String(this.opts.walSegmentBytes),
      '--proposal-timeout-ms',
      String(this.opts.proposalTimeoutMs),
      '--auto-compaction-retention',
      String(this.opts.autoCompactionRetention),
      '--log-level',
      'info',
      ...(n.join ? ['--join'] : []),
      ...n.extraArgs,
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    n.proc = proc;
    n.log = [];
    const keep = (chunk: Buffer) => {
      n.log.push(chunk.toString());
      if (n.log.length > 2000) n.log.splice(0, 1000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('exit', () => {
      if (n.proc === proc) n.proc = undefined;
    });
    return proc;
  }

  async health(n: ProcNode): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await request(`${n.url}/health`, { headersTimeout: 1000, bodyTimeout: 1000 });
      const body = (await res.body.json()) as Record<string, unknown>;
      return res.statusCode === 200 ? body : undefined;
    } catch {
      return undefined;
    }
  }

  async waitHealthy(ns: ProcNode[] = this.nodes, deadlineMs = 30_000): Promise<void> {
    await Promise.all(ns.map((n) => until(`${n.name} healthy`, deadlineMs, () => this.health(n))));
  }

  async startAll(): Promise<void> {
    for (const n of this.nodes) this.start(n);
    await this.waitHealthy();
  }

  /** The node every running member agrees is the leader. */
  async leader(deadlineMs = 10_000): Promise<ProcNode> {
    return until('an agreed leader', deadlineMs, async () => {
      const hs = await Promise.all(this.nodes.filter((n) => n.proc).map((n) => this.health(n)));
      const names = new Set(hs.map((h) => h?.leader));
      if (names.size !== 1) return undefined;
      const name = [...names][0];
      return typeof name === 'string' && name !== '' ? this.nodes.find((n) => n.name === name) : undefined;
    });
  }

  async kill(n: ProcNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = n.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
    n.proc = undefined;
  }

  /** Waits for a started process to exit; returns its exit code and output. */
  async exitOf(p: ChildProcess, n: ProcNode, deadlineMs = 30_000): Promise<{ code: number | null; output: string }> {
    if (p.exitCode !== null) return { code: p.exitCode, output: n.log.join('') };
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${n.name} did not exit within ${deadlineMs} ms`)), deadlineMs);
      p.once('exit', (code) => {
        clearTimeout(t);
        // Let buffered output arrive.
        setImmediate(() => resolve({ code, output: n.log.join('') }));
      });
    });
  }

  client(ns: ProcNode[] = this.nodes, timeoutMs = 5000): GatewayClient {
    return new GatewayClient(
      ns.map((n) => n.url),
      { timeoutMs, connections: 4 },
    );
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n)));
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Concurrent writers of unique keys through every endpoint; remembers what was acknowledged. */
export class WriteLoad {
  readonly acked = new Map<string, string>();
  errors = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(cluster: ProcCluster, writers: number, prefix: string) {
    for (let w = 0; w < writers; w++) {
      const client = cluster.client(cluster.nodes.filter((n) => !n.join), 3000);
      // Each writer starts on a different endpoint.
      for (let i = 0; i < w; i++) client.endpoints.push(client.endpoints.shift() as string);
      this.loops.push(
        (async () => {
          let i = 0;
          while (this.running) {
            const key = `${prefix}-${w}-${i++}`;
            const value = `v${i}-${'x'.repeat(200)}`;
            try {
              await client.put(key, value);
              this.acked.set(key, value);
            } catch {
              this.errors++;
              await new Promise((r) => setTimeout(r, 20));
            }
          }
          await client.close();
        })(),
      );
    }
  }

  async stop(): Promise<Map<string, string>> {
    this.running = false;
    await Promise.all(this.loops);
    return this.acked;
  }
}

export async function status(n: ProcNode): Promise<Record<string, unknown>> {
  const res = await request(`${n.url}/v3/maintenance/status`, { method: 'POST', body: '{}', headersTimeout: 2000 });
  return (await res.body.json()) as Record<string, unknown>;
}
