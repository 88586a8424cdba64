/**
 * Seeded simulation of the registry core in virtual time: random registrations, heartbeats,
 * deregistrations and clock advances; after every step the registry must agree with a model of
 * TTL semantics (passing while the last heartbeat is younger than the TTL, critical after,
 * removed once critical for DeregisterCriticalServiceAfter), and blocking queries must return
 * exactly when their service changes or their wait runs out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { MemoryStore } from '../../src/registry/memory-store.ts';
import { Registry } from '../../src/registry/registry.ts';
import { VirtualTime } from '../../src/registry/virtual-time.ts';

interface ModelInstance {
  ttlMs: number;
  deregMs: number;
  lastBeatMs: number;
}

async function runSeed(seed: number): Promise<void> {
  const rng = createRng(seed);
  const time = new VirtualTime();
  const registry = new Registry({ store: new MemoryStore(), clock: time, timers: time });
  await registry.start();
  const model = new Map<string, ModelInstance>();
  let nextId = 0;
  const pending: { service: string; index: number; startMs: number; waitMs: number; done: boolean; resultIndex: number; atMs: number }[] = [];

  for (let step = 0; step < 120; step++) {
    const op = rng.range(0, 9);
    if (op <= 2 || model.size === 0) {
      const id = `i${nextId++}`;
      const ttlMs = rng.range(5, 30) * 100;
      const deregMs = rng.range(5, 30) * 100;
      await registry.register({ Name: `s${rng.range(0, 2)}`, ID: id, Port: 1000 + nextId, Check: { TTL: ttlMs, DeregisterCriticalServiceAfter: deregMs } });
      model.set(id, { ttlMs, deregMs, lastBeatMs: time.now() });
    } else if (op <= 5) {
      const ids = [...model.keys()];
      const id = ids[rng.range(0, ids.length - 1)] as string;
      const m = model.get(id) as ModelInstance;
      const ok = await registry.updateTtl(id, 'passing');
      // a heartbeat after deregistration is refused (404 at the API)
      assert.equal(ok, time.now() - m.lastBeatMs < m.ttlMs + m.deregMs, `seed ${seed}: heartbeat on ${id} accepted=${ok}`);
      if (ok) m.lastBeatMs = time.now();
      else model.delete(id);
    } else if (op === 6) {
      const ids = [...model.keys()];
      const id = ids[rng.range(0, ids.length - 1)] as string;
      await registry.deregister(id);
      model.delete(id);
    } else if (op === 7) {
      const service = `s${rng.range(0, 2)}`;
      const index = registry.health(service).index;
      const w = { service, index, startMs: time.now(), waitMs: rng.range(1, 20) * 100, done: false, resultIndex: 0, atMs: 0 };
      pending.push(w);
      void registry.blockingHealth(service, { index, waitMs: w.waitMs }).then((r) => {
        w.done = true;
        w.resultIndex = r.index;
        w.atMs = time.now();
      });
    } else {
      await time.advance(rng.range(1, 15) * 100 + rng.range(0, 99));
    }
    // TTL model
    const now = time.now();
    for (const [id, m] of [...model]) {
      const age = now - m.lastBeatMs;
      const rec = registry.instances().find((r) => r.id === id);
      if (age >= m.ttlMs + m.deregMs) {
        assert.equal(rec, undefined, `seed ${seed} step ${step}: ${id} should be deregistered (age ${age})`);
        model.delete(id);
      } else if (age >= m.ttlMs) {
        assert.equal(rec?.status, 'critical', `seed ${seed} step ${step}: ${id} should be critical (age ${age}, ttl ${m.ttlMs})`);
      } else {
        assert.equal(rec?.status, 'passing', `seed ${seed} step ${step}: ${id} should be passing (age ${age}, ttl ${m.ttlMs})`);
      }
    }
    assert.equal(registry.instances().length, model.size, `seed ${seed} step ${step}: instance count`);
    // blocking-query contract
    for (const w of pending) {
      const current = registry.health(w.service).index;
      if (!w.done) {
        assert.equal(current, w.index, `seed ${seed}: a waiter on ${w.service} still waits although its index moved`);
        assert.ok(now - w.startMs < w.waitMs, `seed ${seed}: a waiter outlived its wait`);
      } else if (w.resultIndex === w.index) {
        assert.equal(w.atMs - w.startMs, w.waitMs, `seed ${seed}: an unchanged answer must come at the end of the wait`);
      }
    }
  }
  await registry.close();
}

describe('registry core, seeded simulation in virtual time', () => {
  it('agrees with the TTL model and the blocking-query contract over 30 seeds', async () => {
    for (let seed = 1; seed <= 30; seed++) await runSeed(seed);
  });
});
