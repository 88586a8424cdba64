/**
 * Client-side balancing on real loopback backends: per-request picks with active counts,
 * retries of idempotent requests on another endpoint within the budget when one dies mid-load,
 * ejection and return (ManualClock), per-try timeout, definite vs indefinite errors.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { BalancerEvent } from '../../src/balancing/balancer.ts';
import { BalancedClient } from '../../src/balancing/client.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { DefiniteError, IndefiniteError } from '../../src/core/errors.ts';
import { startBackend, type TestBackend } from '../proxy/helpers.ts';

describe('BalancedClient', () => {
  it('spreads requests, and a backend killed mid-load costs no failures within the retry budget', async () => {
    const backends: TestBackend[] = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    const client = new BalancedClient({
      endpoints: backends.map((b) => b.address),
      policy: 'p2c',
      outlier: { consecutiveFailuresMax: 2, baseEjectionMs: 60_000 },
    });
    try {
      const total = 600;
      let started = 0;
      let failed = 0;
      let killed: Promise<void> | undefined;
      const worker = async () => {
        while (started < total) {
          started++;
          if (started === 100) killed = (backends[2] as TestBackend).kill();
          try {
            const r = await client.request({ path: '/' });
            if (r.statusCode !== 200) failed++;
          } catch {
            failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await killed;
      assert.ok(failed <= client.stats.budgetExhausted, `${failed} failed, budget refused ${client.stats.budgetExhausted}`);
      assert.equal(failed, 0);
      assert.ok(client.stats.retries >= 1, 'the kill caused retries');
      assert.ok((backends[0] as TestBackend).hits > 100 && (backends[1] as TestBackend).hits > 100);
      assert.ok(client.balancer.get((backends[2] as TestBackend).address)?.ejected, 'dead endpoint ejected');
      assert.ok(client.balancer.endpoints().every((e) => e.active === 0), 'active counts return to 0');
    } finally {
      await client.close();
      for (const b of backends) await b.kill().catch(() => {});
    }
  });

  it('an ejected endpoint returns after the ejection time once it recovers', async () => {
    const backends = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
    const clock = new ManualClock(0);
    const events: BalancerEvent[] = [];
    const client = new BalancedClient({
      endpoints: backends.map((b) => b.address),
      policy: 'round-robin',
      clock,
      outlier: { consecutiveFailuresMax: 1, baseEjectionMs: 1000 },
      onEvent: (e) => events.push(e),
    });
    try {
      const bad = backends[0] as TestBackend;
      bad.status = 503;
      for (let i = 0; i < 4; i++) assert.equal((await client.request({ path: '/' })).body.toString(), 'b');
      assert.ok(events.some((e) => e.type === 'ejected' && e.id === bad.address));
      bad.status = 200;
      clock.advance(1000);
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await client.request({ path: '/' })).body.toString());
      assert.deepEqual([...seen].sort(), ['a', 'b']);
    } finally {
      await client.close();
      for (const b of backends) await b.kill();
    }
  });

  it('retries a hanging endpoint on another after the per-try timeout; POST is not retried', async () => {
    const hang = http.createServer(() => {});
    hang.listen(0, '127.0.0.1');
    await once(hang, 'listening');
    const hangAddr = `127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const good = await startBackend('good');
    const client = new BalancedClient({ endpoints: [hangAddr, good.address], policy: 'round-robin', perTryTimeoutMs: 150, outlier: false });
    try {
      const r = await client.request({ path: '/' });
      assert.equal(r.body.toString(), 'good');
      assert.equal(r.attempts, 2);
      // Round robin now points at the hanging endpoint again; a POST there may have run: indefinite.
      await assert.rejects(client.request({ path: '/', method: 'POST', body: 'x' }), IndefiniteError);
    } finally {
      await client.close();
      hang.closeAllConnections();
      hang.close();
      await good.kill();
    }
  });

  it('a refused connection is retried even for POST, and all-refused is a DefiniteError', async () => {
    const dead = await startBackend('dead');
    await dead.kill();
    const good = await startBackend('good');
    const client = new BalancedClient({ endpoints: [dead.address, good.address], policy: 'round-robin', outlier: false });
    try {
      const r = await client.request({ path: '/', method: 'POST', body: 'hi' });
      assert.equal(r.body.toString(), 'good echo hi');
      await good.kill();
      await assert.rejects(client.request({ path: '/', method: 'POST', body: 'x' }), DefiniteError);
    } finally {
      await client.close();
    }
  });
});
