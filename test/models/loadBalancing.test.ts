import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  consistentHashIndex,
  leastConnectionsIndex,
  roundRobinIndex,
  roundRobinSeed,
  seedWeightedArgmax,
  weightedRoundRobinIndex,
  weightedShare,
} from '../../src/models/loadBalancing.ts';

describe('models/loadBalancing: seed 04.7.4 formulas', () => {
  it('round robin L_RR(i) = (i mod n) + 1', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((i) => roundRobinSeed(i, 3)),
      [1, 2, 3, 1, 2, 3, 1],
    );
    assert.equal(roundRobinIndex(7, 3), 1);
    assert.throws(() => roundRobinSeed(-1, 3), /request/);
    assert.throws(() => roundRobinSeed(1, 0), /instances/);
  });
  it('weighted share W_j / Σ W_k; the literal argmax always picks the heaviest', () => {
    assert.deepEqual(weightedShare([5, 1, 1]), [5 / 7, 1 / 7, 1 / 7]);
    assert.equal(seedWeightedArgmax([1, 5, 1]), 1);
    assert.throws(() => weightedShare([0, 0]), /zero/);
    assert.throws(() => weightedShare([1, -1]), /non-negative/);
  });
  it('smooth weighted round robin: 5,1,1 gives a a b a c a a, matching the shares over a period', () => {
    const picks = Array.from({ length: 7 }, (_, i) => weightedRoundRobinIndex(i, [5, 1, 1]));
    assert.deepEqual(picks, [0, 0, 1, 0, 2, 0, 0]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100 * 10; i++) counts[weightedRoundRobinIndex(i, [4, 3, 2, 1])]!++;
    assert.deepEqual(counts, [400, 300, 200, 100]);
  });
  it('least connections argmin C_j, ties to the lowest index', () => {
    assert.equal(leastConnectionsIndex([3, 1, 2]), 1);
    assert.equal(leastConnectionsIndex([2, 1, 1]), 1);
    assert.throws(() => leastConnectionsIndex([]), /at least one/);
  });
  it('consistent hashing argmin hash(k, j): stable, spreads keys, and removing an instance moves only its keys', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    const owner = keys.map((k) => nodes[consistentHashIndex(k, nodes)]);
    const counts = new Map<string, number>();
    for (const o of owner) counts.set(o ?? '', (counts.get(o ?? '') ?? 0) + 1);
    for (const n of nodes) assert.ok(Math.abs((counts.get(n) ?? 0) - 1000) < 150, `${n}: ${counts.get(n)}`);
    const without = nodes.filter((n) => n !== 'c');
    keys.forEach((k, i) => {
      const after = without[consistentHashIndex(k, without)];
      if (owner[i] !== 'c') assert.equal(after, owner[i], `key ${k} moved although its owner stayed`);
    });
  });
});
