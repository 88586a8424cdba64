import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';
import { freePort } from './backends.ts';

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));
/** Runs the CLI in this process (spawning tsx per command is slow), capturing its output. */
async function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const status = await main(['node', 'clusterkit', ...args]);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}

describe('clusterkit registry CLI', () => {
  it('bad flags exit 2 with a message naming the flag', async () => {
    const r = await run('registry', 'register', '--name', 'web', '--port', '0');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port must be >= 1/);
    const s = await run('registry', 'serve', '--store', 'zookeeper');
    assert.equal(s.status, 2);
    assert.match(s.stderr, /--store must be one of memory, kv, etcd-gateway, etcd, gossip/);
  });

  it('serve, register, resolve, list; a refused registration names the field and exits 2', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serve = spawn(process.execPath, [bin, 'registry', 'serve', '--http-port', String(port), '--no-dns'], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          if ((await fetch(`${url}/v1/status`)).status === 200) break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) assert.fail('registry serve did not come up');
        await new Promise((r) => setTimeout(r, 50));
      }
      const reg = await run('registry', 'register', '--registry', url, '--name', 'web', '--port', '8080', '--id', 'web-1', '--tag', 'v1', '--ttl', '30s');
      assert.equal(reg.status, 0, reg.stderr);
      assert.equal(reg.stdout.trim(), 'web-1');
      const bad = await run('registry', 'register', '--registry', url, '--name', 'web', '--port', '8081', '--meta', `k=${'x'.repeat(600)}`);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /Meta/);
      assert.equal((await run('resolve', 'web', '--registry', url)).stdout.trim(), '127.0.0.1:8080');
      assert.equal((await fetch(`${url}/v1/agent/check/fail/web-1`, { method: 'PUT' })).status, 200);
      const list = await run('registry', 'list', 'web', '--registry', url);
      assert.match(list.stdout, /web-1\s+127\.0\.0\.1\s+8080\s+critical/);
    } finally {
      await new Promise<void>((resolve) => {
        serve.once('exit', () => resolve());
        serve.kill('SIGTERM');
      });
    }
  });
});
