import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { AntiEntropy, type AntiEntropyMessage, type Reconcilable } from '../../src/gossip/anti-entropy.ts';
import type { GossipMode } from '../../src/gossip/config.ts';

/** A grow-only set whose digest is its element list (a full-exchange store). */
class SetStore implements Reconcilable<string[], string[]> {
  readonly items = new Set<string>();
  digest(): string[] {
    return [...this.items].sort();
  }
  deltaFor(remote: string[]): string[] | undefined {
    const have = new Set(remote);
    const missing = [...this.items].filter((x) => !have.has(x)).sort();
    return missing.length > 0 ? missing : undefined;
  }
  apply(delta: string[]): void {
    for (const x of delta) this.items.add(x);
  }
}

function cluster(n: number, mode: GossipMode, seed: number) {
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  const root = createRng(seed);
  const stores = ids.map(() => new SetStore());
  const nodes = ids.map((self, i) => new AntiEntropy({ self, rng: root.fork(self), peers: () => ids, store: stores[i]!, config: { mode } }));
  const round = () => {
    const queue: { from: string; to: string; msg: AntiEntropyMessage<string[], string[]> }[] = [];
    for (const x of nodes) for (const o of x.pollMessages()) queue.push({ from: x.self, ...o });
    for (const x of nodes) {
      x.tick();
      for (const o of x.pollMessages()) queue.push({ from: x.self, ...o });
    }
    for (let q = 0; q < queue.length; q++) {
      const m = queue[q]!;
      const target = nodes[ids.indexOf(m.to)]!;
      target.handleMessage(m.from, m.msg);
      for (const o of target.pollMessages()) queue.push({ from: target.self, ...o });
    }
  };
  return { ids, stores, nodes, round };
}

describe('gossip/anti-entropy (Demers et al. 1987, section 1.3)', () => {
  for (const mode of ['push', 'pull', 'push-pull'] as const) {
    it(`${mode}: every replica converges to the union of all updates`, () => {
      const { stores, round } = cluster(32, mode, 3);
      stores[0]!.items.add('a');
      stores[17]!.items.add('b');
      stores[31]!.items.add('c');
      let rounds = 0;
      while (!stores.every((s) => s.items.size === 3) && rounds < 60) {
        round();
        rounds += 1;
      }
      assert.ok(stores.every((s) => s.digest().join() === 'a,b,c'), `${mode} did not converge in ${rounds} rounds`);
      assert.ok(rounds <= 20, `${mode} took ${rounds} rounds for n = 32`);
    });
  }
  it('push-pull exchange: digest, reply with delta and digest, then the delta the partner lacks', () => {
    const a = new SetStore();
    const b = new SetStore();
    a.items.add('x');
    b.items.add('y');
    const ids = ['a', 'b'];
    const ea = new AntiEntropy({ self: 'a', rng: createRng(1), peers: () => ids, store: a });
    const eb = new AntiEntropy({ self: 'b', rng: createRng(2), peers: () => ids, store: b });
    ea.tick();
    const [d] = ea.pollMessages();
    assert.deepEqual(d, { to: 'b', msg: { type: 'ae-digest', digest: ['x'], mode: 'push-pull' } });
    eb.handleMessage('a', d!.msg);
    const [r] = eb.pollMessages();
    assert.deepEqual(r?.msg, { type: 'ae-reply', delta: ['y'], digest: ['y'] });
    ea.handleMessage('b', r!.msg);
    const [delta] = ea.pollMessages();
    assert.deepEqual(delta?.msg, { type: 'ae-delta', delta: ['x'] });
    eb.handleMessage('a', delta!.msg);
    assert.deepEqual(a.digest(), ['x', 'y']);
    assert.deepEqual(b.digest(), ['x', 'y']);
  });
  it('pull from an up-to-date partner sends nothing back', () => {
    const a = new SetStore();
    const b = new SetStore();
    const eb = new AntiEntropy({ self: 'b', rng: createRng(2), peers: () => ['a', 'b'], store: b });
    eb.handleMessage('a', { type: 'ae-digest', digest: a.digest(), mode: 'pull' });
    assert.deepEqual(eb.pollMessages(), []);
  });
});
