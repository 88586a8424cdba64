import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RealClock, RealTimers } from '../../src/core/clock.ts';
import { GossipHub, GossipStore } from '../../src/registry/gossip-store.ts';
import { Registry } from '../../src/registry/registry.ts';

async function eventually(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gossip store under a partition (Consul-agent-like, AP)', () => {
  it('both sides keep registering and answering during a partition, and converge after it heals', async () => {
    const hub = new GossipHub();
    const names = ['r1', 'r2', 'r3'];
    const regs = names.map(
      (n) =>
        new Registry({
          store: new GossipStore({ self: n, peers: () => names, transport: hub.transport(n), tickMs: 20, seed: 7 }),
          clock: new RealClock(),
          timers: new RealTimers(),
          config: { node: n },
        }),
    );
    const [r1, r2, r3] = regs as [Registry, Registry, Registry];
    try {
      for (const r of regs) await r.start();
      await r1.register({ Name: 'web', ID: 'w1', Port: 1 });
      await eventually('w1 everywhere', () => regs.every((r) => r.health('web').instances.length === 1));

      hub.partition(['r1'], ['r2', 'r3']);
      await r1.register({ Name: 'web', ID: 'w-left', Port: 2 });
      await r2.register({ Name: 'web', ID: 'w-right', Port: 3 });
      await eventually('right side converges within itself', () => r3.health('web').instances.some((i) => i.id === 'w-right'));
      // each side answers with what it knows
      assert.deepEqual(r1.health('web').instances.map((i) => i.id), ['w-left', 'w1']);
      assert.deepEqual(r3.health('web').instances.map((i) => i.id), ['w-right', 'w1']);
      assert.ok(hub.dropped > 0);

      hub.heal();
      await eventually('all replicas converge after the heal', () => regs.every((r) => r.health('web').instances.map((i) => i.id).join() === 'w-left,w-right,w1'));
    } finally {
      for (const r of regs) {
        await r.close();
        await r.store.close();
      }
    }
  });
});
