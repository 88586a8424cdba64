/**
 * Client-side and server-side discovery on real processes: a resolver keeps its cached
 * endpoints while the registry process is SIGKILLed and reconnects when it is back; an instance
 * whose process dies turns critical after failureThreshold failed checks; `clusterkit proxy
 * --service` follows the registry.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Balancer } from '../../src/balancing/balancer.ts';
import { RoundRobinPicker } from '../../src/balancing/round-robin.ts';
import { RealClock } from '../../src/core/clock.ts';
import { RegistryAgent } from '../../src/registry/agent.ts';
import { MemoryStore } from '../../src/registry/memory-store.ts';
import { RegistryClient, Resolver } from '../../src/registry/resolver.ts';
import { freePort } from './backends.ts';

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));

async function eventually(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function stop(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

async function serveRegistry(httpPort: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, [bin, 'registry', 'serve', '--http-port', String(httpPort), '--no-dns'], { stdio: 'ignore' });
  await eventually('registry process up', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${httpPort}/v1/status`)).status === 200;
    } catch {
      return false;
    }
  });
  return p;
}

/** A backend HTTP server in its own process, answering its name. */
async function backendProcess(name: string): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const code = `require('node:http').createServer((q,s)=>s.end(${JSON.stringify(name)})).listen(${port},'127.0.0.1')`;
  const proc = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  await eventually(`backend ${name} up`, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/`)).status === 200;
    } catch {
      return false;
    }
  });
  return { proc, port };
}

describe('discovery on real processes', () => {
  it('registry node killed: the resolver keeps its cached endpoints, reconnects, and follows the restarted registry', async () => {
    const port = await freePort();
    let reg = await serveRegistry(port);
    const url = `http://127.0.0.1:${port}`;
    const client = new RegistryClient(url);
    await client.register({ Name: 'web', ID: 'a', Port: 1001 });
    await client.register({ Name: 'web', ID: 'b', Port: 1002 });
    const balancer = new Balancer<string>([], { picker: new RoundRobinPicker(), clock: new RealClock(), outlier: false });
    const errors: string[] = [];
    const resolver = new Resolver({ registries: [url], service: 'web', waitMs: 5000, backoffBaseMs: 20, backoffMaxMs: 200, onError: (e) => errors.push(e.message) });
    resolver.attach(balancer);
    try {
      await resolver.start();
      assert.deepEqual(resolver.endpoints().map((e) => e.id), ['a', 'b']);
      assert.deepEqual(balancer.endpoints().map((e) => e.data).sort(), ['127.0.0.1:1001', '127.0.0.1:1002']);

      await stop(reg, 'SIGKILL');
      await eventually('resolver notices the registry is gone', () => !resolver.connected && resolver.stats.errors >= 2);
      assert.deepEqual(resolver.endpoints().map((e) => e.id), ['a', 'b'], 'cached endpoints survive the registry');
      assert.equal(balancer.endpoints().length, 2);
      assert.ok(balancer.pick({}) !== undefined, 'the balancer still picks from the cache');

      reg = await serveRegistry(port);
      await client.register({ Name: 'web', ID: 'a', Port: 1001 });
      await client.register({ Name: 'web', ID: 'c', Port: 1003 });
      await eventually('resolver follows the restarted registry', () => resolver.endpoints().map((e) => e.id).join() === 'a,c');
      assert.ok(resolver.connected);
      assert.ok(resolver.stats.reconnects >= 1);
      assert.deepEqual(balancer.endpoints().map((e) => e.data).sort(), ['127.0.0.1:1001', '127.0.0.1:1003']);
    } finally {
      await resolver.close();
      await stop(reg);
    }
  });

  it('the resolver fails over to the next registry node and keeps following the service', async () => {
    const store = new MemoryStore();
    const a = new RegistryAgent({ store, httpPort: 0, dnsPort: false, config: { node: 'a' } });
    const b = new RegistryAgent({ store, httpPort: 0, dnsPort: false, config: { node: 'b' } });
    await a.start();
    await b.start();
    const resolver = new Resolver({ registries: [a.url, b.url], service: 'api', waitMs: 5000, backoffBaseMs: 10, backoffMaxMs: 50 });
    try {
      await b.registry.register({ Name: 'api', ID: 'x', Port: 1 });
      await resolver.start();
      assert.equal(resolver.registry, a.url);
      assert.deepEqual(resolver.endpoints().map((e) => e.id), ['x']);
      await a.http.close(); // node a's API goes away; the shared store stays
      await eventually('resolver moved to b', () => resolver.registry === b.url && resolver.connected);
      await b.registry.register({ Name: 'api', ID: 'y', Port: 2 });
      await eventually('update seen through b', () => resolver.endpoints().length === 2);
    } finally {
      await resolver.close();
      await a.registry.close();
      await b.registry.close();
      await b.http.close();
    }
  });

  it('an instance whose process dies is critical after failureThreshold failed TCP checks; the proxy (--service) drops it', async () => {
    const agent = new RegistryAgent({ store: new MemoryStore(), httpPort: 0, dnsPort: false });
    await agent.start();
    const b1 = await backendProcess('b1');
    const b2 = await backendProcess('b2');
    const proxyPort = await freePort();
    let proxy: ChildProcess | undefined;
    try {
      const client = new RegistryClient(agent.url);
      for (const [id, b] of [['b1', b1], ['b2', b2]] as const) {
        await client.register({ Name: 'web', ID: id, Port: b.port, Check: { TCP: `127.0.0.1:${b.port}`, Interval: '100ms', Timeout: '500ms', FailuresBeforeCritical: 3 } });
      }
      proxy = spawn(process.execPath, [bin, 'proxy', '--listen', `127.0.0.1:${proxyPort}`, '--service', 'web', '--registry', agent.url, '--no-outlier'], { stdio: 'ignore' });
      const seen = new Set<string>();
      await eventually('proxy routes to both instances', async () => {
        try {
          seen.add(await (await fetch(`http://127.0.0.1:${proxyPort}/`)).text());
        } catch {
          // proxy still starting
        }
        return seen.has('b1') && seen.has('b2');
      });

      const checksBefore = agent.registry.stats.checksRun;
      await stop(b1.proc, 'SIGKILL');
      await eventually('b1 critical', () => agent.registry.health('web').instances.find((i) => i.id === 'b1')?.status === 'critical');
      const checksToCritical = agent.registry.stats.checksRun - checksBefore;
      // Two instances are checked; b1 needs exactly 3 failures, so at most 2 × (3 + 1) checks ran.
      assert.ok(checksToCritical <= 8, `critical after ${checksToCritical} checks of two instances (threshold 3)`);
      assert.equal(agent.registry.health('web').instances.find((i) => i.id === 'b2')?.status, 'passing');

      await eventually('proxy only routes to b2', async () => {
        const bodies = await Promise.all(Array.from({ length: 4 }, async () => (await fetch(`http://127.0.0.1:${proxyPort}/`)).text()));
        return bodies.every((b) => b === 'b2');
      });
    } finally {
      if (proxy !== undefined) await stop(proxy);
      await stop(b1.proc);
      await stop(b2.proc);
      await agent.close();
    }
  });
});
