import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fastConfig, lanConfig, suspicionBoundsMs } from '../../src/membership/swim/config.ts';
import { MemCluster } from '../../src/membership/swim/memcluster.ts';

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `n${i + 1}`);
}

function boot(n: number, seed: number, lossRate = 0, cfg = lanConfig()): MemCluster {
  const c = new MemCluster({ seed, config: cfg, lossRate });
  const all = names(n);
  c.add('n1');
  for (const name of all.slice(1)) c.add(name, ['n1']);
  assert.ok(c.runUntil(() => c.converged(all), 60_000), 'cluster did not converge');
  return c;
}

describe('SWIM cluster (in-memory, virtual time)', () => {
  it('members joining through one seed converge to the full view', () => {
    const c = boot(12, 1);
    for (const n of names(12)) assert.equal(c.member(n).liveCount(), 12);
  });

  it('a crashed member is declared dead by every other member within the detection bound', () => {
    for (const seed of [2, 3, 4]) {
      const n = 10;
      const c = boot(n, seed);
      const cfg = c.config;
      c.kill('n4');
      const t0 = c.now();
      // Round-robin: some member probes n4 within ~one pass of its list (n − 1 periods, plus a
      // reshuffle boundary); then at most the max suspicion timeout; then gossip.
      const b = suspicionBoundsMs(cfg, n);
      const boundMs = 2 * (n - 1) * cfg.probeIntervalMs + b.maxMs + 10 * cfg.probeIntervalMs;
      assert.ok(c.runUntil(() => c.allSee('n4', 'dead'), boundMs), `seed ${seed}: not detected within ${boundMs} ms`);
      const fails = c.events.filter((e) => e.type === 'fail');
      assert.ok(fails.every((e) => e.member.name === 'n4'), 'a live member was declared dead');
      assert.ok(c.now() - t0 >= cfg.probeTimeoutMs);
    }
  });

  it('a restarted member rejoins with a higher incarnation and every member sees it alive', () => {
    const c = boot(6, 5);
    c.kill('n3');
    assert.ok(c.runUntil(() => c.allSee('n3', 'dead'), 120_000));
    c.add('n3', ['n1']);
    assert.ok(c.runUntil(() => c.converged(names(6)), 30_000));
    assert.ok(c.member('n1').member('n3')!.incarnation >= 1);
    const rejoins = c.events.filter((e) => e.type === 'join' && e.member.name === 'n3' && e.member.incarnation >= 1);
    assert.equal(new Set(rejoins.map((e) => e.observer)).size, 5);
  });

  it('a graceful leave reaches every member as left, not failed', () => {
    const c = boot(8, 6);
    c.member('n5').leave();
    assert.ok(c.runUntil(() => c.allSee('n5', 'left'), 20_000));
    assert.equal(c.events.filter((e) => e.type === 'fail').length, 0);
  });

  it('no false positives in ten minutes without faults', () => {
    const c = boot(10, 7);
    c.runFor(600_000);
    assert.equal(c.events.filter((e) => e.type === 'suspect' || e.type === 'fail').length, 0);
  });

  it('a partition is detected on both sides and heals through refutation and push-pull', () => {
    const c = boot(6, 8, 0, fastConfig());
    c.partition([
      ['n1', 'n2', 'n3'],
      ['n4', 'n5', 'n6'],
    ]);
    const crossDead = () => c.member('n4').member('n1')?.state === 'dead' && c.member('n1').member('n4')?.state === 'dead';
    assert.ok(c.runUntil(crossDead, 60_000), 'partition not detected on both sides');
    c.heal();
    assert.ok(c.runUntil(() => c.converged(names(6)), 120_000), 'did not reconverge after heal');
  });

  it('a cluster cut into singletons long enough to forget each other reassembles through reconnect', () => {
    const c = boot(5, 10, 0, fastConfig());
    c.partition(names(5).map((n) => [n]));
    c.runFor(30_000);
    for (const n of names(5)) assert.equal(c.member(n).membersView().length, 1, `${n} still remembers others`);
    c.heal();
    assert.ok(c.runUntil(() => c.converged(names(5)), 60_000), 'did not reassemble');
  });

  it('a paused (CPU-starved) member: suspicions on either side are refuted, nobody is declared dead', () => {
    const c = boot(8, 9);
    for (let round = 0; round < 5; round++) {
      c.pause('n2');
      c.runFor(2500);
      c.resume('n2');
      c.runFor(20_000);
    }
    assert.ok(c.converged(names(8)), 'view did not settle');
    const fails = c.events.filter((e) => e.type === 'fail');
    assert.deepEqual(fails, []);
    // On resume its timers fire before it reads the acks queued meanwhile (as on a real event
    // loop), so it does raise suspicions; the accused refute them.
    assert.ok(c.events.some((e) => e.type === 'alive'), 'no suspicion was ever refuted: the pause had no effect');
  });
});
