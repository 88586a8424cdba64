import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { lwwMapType } from '../../src/consistency/crdt/lww-map.ts';
import { checkConvergence, type LwwWrite, lwwMapLostUpdates } from '../../src/consistency/checkers.ts';
import { ReplicatedMap, type ReplicatedMapConfig, type ReplicatedMapMessage } from '../../src/consistency/replicated-map.ts';

function cluster(n: number, seed: number, config: Partial<ReplicatedMapConfig>) {
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const rng = createRng(seed);
  const maps = new Map(ids.map((id) => [id, new ReplicatedMap<number>({ self: id, rng: rng.fork(id), peers: () => ids, config })]));
  let now = 0;
  const round = (deliver: (from: string, to: string) => boolean = () => true) => {
    now += 100;
    const queue: { from: string; to: string; msg: ReplicatedMapMessage<number> }[] = [];
    for (const [id, m] of maps) {
      m.tick(now);
      for (const o of m.pollMessages()) queue.push({ from: id, ...o });
    }
    for (let q = 0; q < queue.length; q++) {
      const { from, to, msg } = queue[q]!;
      if (!deliver(from, to)) continue;
      const target = maps.get(to)!;
      target.handleMessage(from, msg, now);
      for (const o of target.pollMessages()) queue.push({ from: to, ...o });
    }
  };
  const converged = () => checkConvergence(lwwMapType<number>(), new Map([...maps].map(([id, m]) => [id, m.snapshot()]))).ok;
  return { ids, maps, round, converged, now: () => now };
}

describe('consistency/replicated-map: LWW-Map on rumor mongering + anti-entropy', () => {
  it('concurrent writes everywhere converge to the winning write of every key; no update lost', () => {
    const { ids, maps, round, converged, now } = cluster(8, 5, {});
    const writes: LwwWrite<number>[] = [];
    const rng = createRng(77);
    for (let i = 0; i < 40; i++) {
      const id = rng.pick(ids);
      const key = `k${rng.int(6)}`;
      const m = maps.get(id)!;
      if (rng.int(8) === 0) m.delete(key, now());
      else m.set(key, i, now());
      const reg = m.snapshot()[key]!;
      const e = reg.entry!;
      writes.push({ key, value: e.value.kind === 'value' ? e.value.value : undefined, stamp: e.stamp });
      if (i % 5 === 0) round();
    }
    let rounds = 0;
    while (!converged() && rounds < 100) {
      round();
      rounds++;
    }
    assert.ok(converged(), 'replicas did not converge');
    for (const m of maps.values()) assert.deepEqual(lwwMapLostUpdates(writes, m.snapshot()), []);
  });

  it('anti-entropy repairs what rumor mongering left behind (blind coin k = 1 dies early)', () => {
    const { maps, round, converged, now } = cluster(16, 9, {
      rumor: { mode: 'push', feedback: false, stop: { kind: 'coin', k: 1 } },
      antiEntropyEveryTicks: 3,
    });
    maps.get('n1')!.set('x', 1, now());
    for (let i = 0; i < 2; i++) round();
    const knowing = [...maps.values()].filter((m) => m.get('x') === 1).length;
    assert.ok(knowing < 16, `rumor alone reached ${knowing}`);
    let rounds = 0;
    while (!converged() && rounds < 200) {
      round();
      rounds++;
    }
    assert.ok([...maps.values()].every((m) => m.get('x') === 1));
    assert.ok([...maps.values()].some((m) => m.stats.antiEntropyKeysApplied > 0));
  });

  it('converges after a partition heals', () => {
    const { maps, round, converged, now } = cluster(6, 3, {});
    const left = new Set(['n1', 'n2', 'n3']);
    const split = (a: string, b: string) => left.has(a) === left.has(b);
    maps.get('n1')!.set('k', 1, now());
    maps.get('n5')!.set('k', 2, now() + 1);
    maps.get('n6')!.set('only-right', 3, now());
    for (let i = 0; i < 30; i++) round(split);
    assert.equal(converged(), false);
    assert.equal(maps.get('n2')!.get('k'), 1);
    assert.equal(maps.get('n4')!.get('k'), 2);
    let rounds = 0;
    while (!converged() && rounds < 100) {
      round();
      rounds++;
    }
    assert.ok(converged());
    assert.equal(maps.get('n1')!.get('k'), 2, 'the later write wins everywhere');
    assert.equal(maps.get('n1')!.get('only-right'), 3);
  });

  it('a delta window moves every exchange, so a large differing bucket still converges', () => {
    const ids = ['a', 'b'];
    const config = { digestBuckets: 1, deltaKeysMax: 3, rumor: { mode: 'push' as const, stop: { kind: 'rounds' as const, rounds: 1 } } };
    const a = new ReplicatedMap<number>({ self: 'a', rng: createRng(1), peers: () => ids, config });
    for (let i = 0; i < 10; i++) a.set(`k${i}`, i, 1);
    const b = new ReplicatedMap<number>({ self: 'b', rng: createRng(2), peers: () => ids, config, initial: a.snapshot() });
    a.pollMessages();
    a.set('k9', 99, 2); // only the last key differs
    a.pollMessages(); // the rumor is lost
    let t = 10;
    for (let r = 0; r < 20 && b.get('k9') !== 99; r++) {
      t += 1;
      b.tick(t);
      for (let i = 0; i < 4; i++) b.tick(t); // antiEntropyEveryTicks = 5
      let q = b.pollMessages().map((o) => ({ from: 'b', ...o }));
      while (q.length > 0) {
        const next: typeof q = [];
        for (const o of q) {
          const target = o.to === 'a' ? a : b;
          target.handleMessage(o.from, o.msg, t);
          for (const x of target.pollMessages()) next.push({ from: target.self, ...x });
        }
        q = next;
      }
    }
    assert.equal(b.get('k9'), 99);
  });
});
