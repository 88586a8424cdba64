import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { GatewayClient } from '../../src/http/client.ts';
import { freePort, until } from './harness.ts';

const BIN = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));

/** A base port whose next 5 ports are free too (checked by binding each). */
async function freeBlock(): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base > 60_000) continue;
    const ok = await Promise.all(
      [1, 2, 3, 4, 5].map(
        (i) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve(false));
            s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
}

function up(dataDir: string, base: number): { proc: ChildProcess; out: string[] } {
  const out: string[] = [];
  const proc = spawn(process.execPath, [BIN, 'up', '--data-dir', dataDir, '--base-port', String(base), '--tick-ms', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (c: Buffer) => out.push(c.toString()));
  proc.stderr?.on('data', (c: Buffer) => out.push(c.toString()));
  return { proc, out };
}

async function stop(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  return new Promise((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });
}

describe('clusterkit up (what npm start runs)', () => {
  let dir = '';
  const procs: ChildProcess[] = [];
  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('starts 3 nodes, prints endpoints and status, stops on SIGTERM, and restarts from its data', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ck-up-'));
    const base = await freeBlock();
    const first = up(dir, base);
    procs.push(first.proc);
    await until('the cluster to be up', 60_000, async () => (first.out.join('').includes('is up') ? true : undefined), 100);
    const text = first.out.join('');
    assert.match(text, /creating cluster ck-[0-9a-f]+/);
    for (let i = 0; i < 3; i++) assert.match(text, new RegExp(`n${i + 1}\\s+http://127\\.0\\.0\\.1:${base + 2 * i}`));
    assert.match(text, /leader n[123], term \d+, members n1,n2,n3/);
    const endpoints = [0, 1, 2].map((i) => `http://127.0.0.1:${base + 2 * i}`);
    const cl = new GatewayClient([endpoints[1] as string]);
    await cl.put('persisted', 'yes');
    await cl.close();
    assert.equal(await stop(first.proc), 0);
    assert.match(first.out.join(''), /stopped; data kept/);
    // Every member is gone.
    const down = new GatewayClient(endpoints, { timeoutMs: 1000 });
    await assert.rejects(down.get('persisted'));
    await down.close();

    const second = up(dir, base);
    procs.push(second.proc);
    await until('the cluster to be up again', 60_000, async () => (second.out.join('').includes('is up') ? true : undefined), 100);
    assert.match(second.out.join(''), /restarting cluster ck-[0-9a-f]+/);
    const again = new GatewayClient([endpoints[2] as string]);
    assert.equal((await again.get('persisted')).kvs[0]?.value, 'yes');
    await again.close();
    assert.equal(await stop(second.proc), 0);
  });
});
