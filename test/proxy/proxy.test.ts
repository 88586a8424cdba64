/**
 * The reverse proxy on real loopback sockets: forwarding and X-Forwarded-*, hop-by-hop
 * stripping, 400 on malformed requests, retries of idempotent requests when a backend dies
 * mid-load (within the retry budget), ejection / health-check removal and return after
 * recovery, unreachable backends at start, /metrics, config errors.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { Pool } from 'undici';
import { ManualClock } from '../../src/core/clock.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { parseProxyConfigText, resolveProxyConfig } from '../../src/proxy/config.ts';
import { ProxyServer } from '../../src/proxy/server.ts';
import { startBackend, type TestBackend, waitFor } from './helpers.ts';

const logs: string[] = [];
const log = (level: string, message: string) => logs.push(`${level}: ${message}`);

async function startProxy(backends: readonly string[], extra: Record<string, unknown> = {}, clock?: ManualClock) {
  const config = resolveProxyConfig({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    backends,
    healthCheck: { type: 'tcp', intervalMs: 20, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 1 },
    ...extra,
  });
  const proxy = new ProxyServer(config, clock === undefined ? { log } : { log, clock });
  await proxy.start();
  const url = `http://127.0.0.1:${proxy.address.port}`;
  const client = new Pool(url, { connections: 16 });
  return { proxy, url, client };
}

async function get(client: Pool, path = '/', headers: Record<string, string> = {}) {
  const r = await client.request({ path, method: 'GET', headers });
  const body = await r.body.text();
  return { status: r.statusCode, body, headers: r.headers };
}

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
    });
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('proxy forwarding', async () => {
  const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
  cleanup.push(async () => {
    for (const b of backends) await b.kill().catch(() => {});
  });
  const { proxy, client } = await startProxy(
    backends.map((b) => b.address),
    { policy: 'round-robin' },
  );
  cleanup.push(async () => {
    await client.close();
    await proxy.close();
  });

  it('spreads requests round robin and sets X-Forwarded-For/Proto/Host', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await get(client, '/hello?x=1', { 'x-forwarded-for': '10.0.0.9' });
      assert.equal(r.status, 200);
      seen.push(r.body);
    }
    assert.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c']);
    const h = backends[2]?.lastHeaders ?? {};
    assert.equal(h['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], `127.0.0.1:${proxy.address.port}`);
  });

  it('strips hop-by-hop headers, including those named in Connection', async () => {
    const out = await rawRequest(
      proxy.address.port,
      'GET / HTTP/1.1\r\nHost: h\r\nX-Secret-Hop: 1\r\nConnection: close, X-Secret-Hop\r\nX-Kept: yes\r\nTE: trailers\r\n\r\n',
    );
    assert.match(out, /^HTTP\/1\.1 200/);
    const h = backends.find((b) => b.lastHeaders['x-kept'] === 'yes')?.lastHeaders;
    assert.ok(h !== undefined);
    assert.equal(h['x-secret-hop'], undefined);
    assert.equal(h.te, undefined);
    assert.equal(h['x-forwarded-proto'], 'http');
  });

  it('forwards request bodies (POST, not retried)', async () => {
    const r = await client.request({ path: '/p', method: 'POST', body: 'payload' });
    assert.equal(r.statusCode, 200);
    assert.match(await r.body.text(), /echo payload$/);
  });

  it('answers a malformed request with 400 and keeps serving', async () => {
    const out = await rawRequest(proxy.address.port, 'GARBAGE NOT HTTP\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 Bad Request/);
    const out2 = await rawRequest(proxy.address.port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n');
    assert.match(out2, /^HTTP\/1\.1 400/);
    const r = await get(client);
    assert.equal(r.status, 200);
  });

  it('serves Prometheus metrics on the admin port', async () => {
    const admin = proxy.adminAddress;
    assert.ok(admin !== undefined);
    const res = await fetch(`http://127.0.0.1:${admin.port}/metrics`);
    const text = await res.text();
    assert.match(text, /clusterkit_proxy_requests_total\{code="2xx"\} \d+/);
    assert.match(text, /clusterkit_proxy_bad_requests_total [1-9]/);
    assert.match(text, /clusterkit_proxy_backend_healthy\{backend="127\.0\.0\.1:\d+"\} 1/);
  });
});

describe('proxy under faults', async () => {
  it('kills a backend mid-load: idempotent requests do not fail beyond the retry budget; it returns after recovery', async () => {
    const backends: TestBackend[] = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    const { proxy, client } = await startProxy(
      backends.map((b) => b.address),
      {
        policy: 'p2c',
        outlier: { consecutiveFailuresMax: 2, baseEjectionMs: 50, maxEjectionMs: 200 },
        retries: { attemptsMax: 3, percentCanRetry: 0.2, minRetriesPerSec: 3 },
      },
    );
    try {
      const victim = backends[1] as TestBackend;
      const total = 600;
      let done = 0;
      let failed = 0;
      let killed: Promise<void> | undefined;
      const unhealthy = waitFor<{ id: string; healthy: boolean }>(proxy, 'health', (e) => e.id === victim.address && !e.healthy);
      const worker = async () => {
        while (done < total) {
          done++;
          const r = await get(client, '/load');
          if (r.status !== 200) failed++;
          if (done === 100) killed = victim.kill();
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await killed;
      await unhealthy;
      const exhausted = (await proxy.metrics.retryBudgetExhausted.get()).values[0]?.value ?? 0;
      const retries = (await proxy.metrics.retries.get()).values[0]?.value ?? 0;
      assert.ok(failed <= exhausted, `${failed} failed, but only ${exhausted} retries were refused by the budget`);
      assert.ok(retries >= 1, 'killing a backend mid-load caused at least one retry');
      assert.equal(failed, 0, 'budget of 3/s·10 s + 20% covers the retries of one dead backend');

      const healthy = waitFor<{ id: string; healthy: boolean }>(proxy, 'health', (e) => e.id === victim.address && e.healthy);
      await victim.revive();
      await healthy;
      const before = victim.hits;
      for (let i = 0; i < 60; i++) assert.equal((await get(client)).status, 200);
      assert.ok(victim.hits > before, 'recovered backend gets requests again');
    } finally {
      await client.close();
      await proxy.close();
      for (const b of backends) await b.kill().catch(() => {});
    }
  });

  it('ejects a backend answering 503 (passive outlier detection), retries elsewhere, and takes it back after the ejection time', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    const clock = new ManualClock(0);
    const { proxy, client } = await startProxy(
      backends.map((b) => b.address),
      { policy: 'round-robin', healthCheck: false, outlier: { consecutiveFailuresMax: 3, baseEjectionMs: 10_000, maxEjectionMs: 10_000 } },
      clock,
    );
    try {
      const bad = backends[0] as TestBackend;
      bad.status = 503;
      const ejected = waitFor<{ id: string }>(proxy, 'ejected', (e) => e.id === bad.address);
      for (let i = 0; i < 30; i++) {
        const r = await get(client);
        assert.equal(r.status, 200, 'a 503 on a GET is retried on another backend');
      }
      await ejected;
      const hitsWhileEjected = bad.hits;
      for (let i = 0; i < 10; i++) await get(client);
      assert.equal(bad.hits, hitsWhileEjected, 'no requests while ejected');
      bad.status = 200;
      const back = waitFor<{ id: string }>(proxy, 'unejected', (e) => e.id === bad.address);
      clock.advance(10_000);
      for (let i = 0; i < 6; i++) assert.equal((await get(client)).status, 200);
      await back;
      assert.ok(bad.hits > hitsWhileEjected, 'back in rotation after the ejection time');
    } finally {
      await client.close();
      await proxy.close();
      for (const b of backends) await b.kill().catch(() => {});
    }
  });

  it('starts with an unreachable backend: warns, keeps serving from the others', async () => {
    const up = await startBackend('up');
    const dead = await startBackend('dead');
    await dead.kill();
    logs.length = 0;
    const { proxy, client } = await startProxy([up.address, dead.address], { policy: 'round-robin' });
    try {
      assert.ok(
        logs.some((l) => l.startsWith('warn:') && l.includes(dead.address) && l.includes('unreachable at start')),
        logs.join('\n'),
      );
      for (let i = 0; i < 10; i++) assert.equal((await get(client)).body, 'up');
    } finally {
      await client.close();
      await proxy.close();
      await up.kill();
    }
  });

  it('answers 502 (not a crash) when every backend is down', async () => {
    const dead = await startBackend('dead');
    await dead.kill();
    const { proxy, client } = await startProxy([dead.address], { retries: { attemptsMax: 1 } });
    try {
      const r = await get(client);
      assert.equal(r.status, 502);
      assert.match(r.body, /bad gateway/);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('consistent-hash with hashHeader keeps a user on one backend', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    const { proxy, client } = await startProxy(
      backends.map((b) => b.address),
      { policy: 'consistent-hash', hashHeader: 'x-user' },
    );
    try {
      const owners = new Set<string>();
      for (let u = 0; u < 30; u++) {
        const first = (await get(client, '/', { 'x-user': `u${u}` })).body;
        owners.add(first);
        for (let k = 0; k < 3; k++) assert.equal((await get(client, '/', { 'x-user': `u${u}` })).body, first);
      }
      assert.equal(owners.size, 3, '30 users land on all 3 backends');
    } finally {
      await client.close();
      await proxy.close();
      for (const b of backends) await b.kill().catch(() => {});
    }
  });
});

describe('proxy health checks and CLI', () => {
  it('HTTP health checks take a backend out on a failing status and back on success', async () => {
    const backends = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
    const { proxy, client } = await startProxy(
      backends.map((b) => b.address),
      { policy: 'round-robin', healthCheck: { type: 'http', path: '/health', intervalMs: 20, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 2 } },
    );
    try {
      const sick = backends[0] as TestBackend;
      const down = waitFor<{ id: string; healthy: boolean }>(proxy, 'health', (e) => e.id === sick.address && !e.healthy);
      sick.status = 500;
      await down;
      assert.equal(sick.lastHeaders['user-agent'], 'clusterkit-health-check');
      for (let i = 0; i < 6; i++) assert.equal((await get(client)).body, 'b');
      const up = waitFor<{ id: string; healthy: boolean }>(proxy, 'health', (e) => e.id === sick.address && e.healthy);
      sick.status = 200;
      await up;
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await get(client)).body);
      assert.deepEqual([...seen].sort(), ['a', 'b']);
    } finally {
      await client.close();
      await proxy.close();
      for (const b of backends) await b.kill();
    }
  });

  it('clusterkit proxy --config runs, serves, and exits 0 on SIGTERM', async () => {
    const backend = await startBackend('only');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ck-proxy-'));
    const file = path.join(dir, 'lb.json');
    writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:0', backends: [backend.address], policy: 'lc', healthCheck: { type: 'tcp' } }));
    const child = spawn(process.execPath, ['bin/clusterkit.mjs', 'proxy', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /listening on 127\.0\.0\.1:(\d+) \(policy least-connections, 1 backends/.exec(err);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${err}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await res.text(), 'only');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      await backend.kill();
    }
  });
});

describe('proxy config errors', () => {
  it('names the field and the allowed values', () => {
    assert.throws(() => resolveProxyConfig({ listen: '127.0.0.1:8080', backends: ['127.0.0.1:1'], policy: 'fastest' }), /unknown policy "fastest": use one of round-robin/);
    assert.throws(() => resolveProxyConfig({ listen: '127.0.0.1:8080', backends: [] }), /backends must be a non-empty list/);
    assert.throws(() => resolveProxyConfig({ listen: '127.0.0.1:8080', backends: ['nohost'] }), /backends\[0\] must be host:port/);
    assert.throws(() => resolveProxyConfig({ listen: '127.0.0.1:8080', backends: ['127.0.0.1:1'], retries: { attemptsMax: 0 } }), /retries\.attemptsMax must be an integer in 1\.\.10/);
    assert.throws(() => resolveProxyConfig({ listen: 'x', backends: ['127.0.0.1:1'] }), ConfigError);
    assert.throws(() => resolveProxyConfig({ listen: '127.0.0.1:1', backends: ['127.0.0.1:1'], colour: 'red' }), /unknown field "colour"/);
    assert.throws(() => parseProxyConfigText('{"listen": ', 'lb.json'), /lb\.json: not valid JSON/);
    assert.throws(() => parseProxyConfigText('{"listen": "127.0.0.1:1", "backends": ["127.0.0.1:2=0"]}', 'lb.json'), /lb\.json: backends\[0\] weight must be/);
  });

  it('the CLI exits 2 with the message for an unknown policy', () => {
    const r = spawnSync(process.execPath, ['bin/clusterkit.mjs', 'proxy', '--listen', '127.0.0.1:0', '--backend', '127.0.0.1:9', '--policy', 'nope'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unknown policy "nope"/);
  });
});
