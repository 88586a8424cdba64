/** Test helpers: real etcd and clusterkit KV processes on loopback ports in temp dirs. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Backend {
  readonly endpoint: string;
  stop(): Promise<void>;
  /** SIGKILL and start again on the same ports and data (for restart tests). */
  restart?(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export const etcdMissing: string | false = spawnSync('etcd', ['--version']).status === 0 ? false : 'the etcd binary (Debian etcd-server) is not installed';

async function waitHealthy(url: string, what: string, proc: ChildProcess, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const t = await r.text();
      if (r.status === 200 && t.includes('true')) return;
      last = t;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not healthy in ${ms} ms: ${last}`);
}

function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

export async function startEtcd(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'ck-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `http://127.0.0.1:${client}`;
  const args = [
    '--name', 'e1', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `e1=http://127.0.0.1:${peer}`, '--log-level', 'error', '--logger', 'zap',
  ];
  let proc = spawn('etcd', args, { stdio: 'ignore' });
  await waitHealthy(`${endpoint}/health`, 'etcd', proc);
  return {
    endpoint,
    async restart() {
      await kill(proc, 'SIGKILL');
      proc = spawn('etcd', args, { stdio: 'ignore' });
      await waitHealthy(`${endpoint}/health`, 'etcd', proc);
    },
    async stop() {
      await kill(proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));

/** One clusterkit KV node (a single-member Raft cluster) as a separate process. */
export async function startClusterkitKv(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'ck-kv-'));
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `http://127.0.0.1:${client}`;
  const args = [bin, 'node', '--name', 'n1', '--listen-client', `127.0.0.1:${client}`, '--listen-peer', `127.0.0.1:${peer}`, '--data-dir', join(dir, 'n1'), '--tick-ms', '20', '--log-level', 'error'];
  let proc = spawn(process.execPath, args, { stdio: 'ignore' });
  await waitHealthy(`${endpoint}/health`, 'clusterkit node', proc);
  return {
    endpoint,
    async restart() {
      await kill(proc, 'SIGKILL');
      proc = spawn(process.execPath, args, { stdio: 'ignore' });
      await waitHealthy(`${endpoint}/health`, 'clusterkit node', proc);
    },
    async stop() {
      await kill(proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
