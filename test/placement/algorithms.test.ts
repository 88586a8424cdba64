/**
 * Algorithm-specific checks beyond the conformance suite: ketama mode equals npm `hashring`
 * (libketama) lookups; jump equals the paper's 64-bit function (BigInt reference); Maglev fills
 * its table to within one slot at equal weights and in proportion to weights; weight changes
 * move keys only to or from the node whose weight changed; bad configuration is rejected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import HashRing from 'hashring';
import { ConfigError } from '../../src/core/errors.ts';
import { BoundedLoad } from '../../src/placement/bounded-load.ts';
import { createPlacement, parsePlacementKind } from '../../src/placement/index.ts';
import { jumpHash } from '../../src/placement/jump.ts';
import { isPrime, Maglev } from '../../src/placement/maglev.ts';
import { Rendezvous } from '../../src/placement/rendezvous.ts';
import { Ring } from '../../src/placement/ring.ts';
import type { NodeSpec, Placement } from '../../src/placement/types.ts';

const KEYS = Array.from({ length: 50_000 }, (_, i) => `key:${i}`);

/** The paper's C++ JumpConsistentHash, transcribed with BigInt. */
function jumpReference(key: bigint, buckets: number): number {
  let b = -1n;
  let j = 0n;
  while (j < BigInt(buckets)) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & 0xffff_ffff_ffff_ffffn;
    j = BigInt(Math.floor(Number(b + 1n) * (2147483648 / Number((key >> 33n) + 1n))));
  }
  return Number(b);
}

function ids(n: number): NodeSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}` }));
}

describe('placement/ring ketama mode', () => {
  it('gives the same owner as npm hashring (libketama) for 1..50 servers', () => {
    for (const n of [1, 2, 3, 7, 10, 50]) {
      const servers = Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:11211`);
      const peer = new HashRing(servers, 'md5', { 'max cache size': 1 });
      const ours = createPlacement(
        'ketama',
        servers.map((id) => ({ id })),
      ) as Ring;
      assert.equal(ours.pointCount, peer.ring.length);
      for (const key of KEYS.slice(0, 5000)) assert.equal(ours.lookup(key), peer.get(key), `n=${n} key=${key}`);
    }
  });
  it('gives the same owner as npm hashring with weights', () => {
    const weights = { 'a:1': 1, 'b:1': 2, 'c:1': 5 };
    const peer = new HashRing(weights, 'md5', { 'max cache size': 1 });
    const ours = createPlacement(
      'ketama',
      Object.entries(weights).map(([id, weight]) => ({ id, weight })),
    );
    for (const key of KEYS.slice(0, 5000)) assert.equal(ours.lookup(key), peer.get(key));
  });
});

describe('placement/jump', () => {
  it('equals the paper’s 64-bit function (BigInt reference)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 1, max: 100_000 }), (key, n) => {
        const hi = Number(key >> 32n);
        const lo = Number(key & 0xffff_ffffn);
        assert.equal(jumpHash(hi, lo, n), jumpReference(key, n));
      }),
      { numRuns: 2000 },
    );
  });
  it('keeps a key in its bucket or moves it to the new last bucket as n grows (paper §2)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (hi, lo) => {
        let prev = jumpHash(hi, lo, 1);
        assert.equal(prev, 0);
        for (let n = 2; n <= 300; n++) {
          const b = jumpHash(hi, lo, n);
          assert.ok(b === prev || b === n - 1);
          prev = b;
        }
      }),
      { numRuns: 200 },
    );
  });
  it('rejects unequal weights with a clear error', () => {
    assert.throws(() => createPlacement('jump', [{ id: 'a', weight: 1 }, { id: 'b', weight: 2 }]), ConfigError);
    assert.throws(() => createPlacement('jump', ids(3)).preference('k', 2), /no preference order/);
  });
});

describe('placement/maglev', () => {
  it('fills the table to within one slot of M/n at equal weights (paper §3.4)', () => {
    for (const n of [1, 3, 10, 100, 1000]) {
      const m = new Maglev(ids(n));
      const counts = m.slotCounts();
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        65537,
      );
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `n=${n}: ${Math.min(...counts)}..${Math.max(...counts)}`);
    }
  });
  it('gives slots in proportion to weights', () => {
    const m = new Maglev([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 5 },
    ]);
    const counts = m.slotCounts();
    const total = 65537;
    for (const [i, w] of [1, 2, 5].entries()) assert.ok(Math.abs((counts[i] as number) / total - w / 8) < 0.001, `node ${i}: ${counts[i]}`);
  });
  it('rejects a table size that is not prime or not larger than the node count', () => {
    assert.ok(isPrime(65537) && isPrime(2) && !isPrime(65536) && !isPrime(1) && !isPrime(9));
    assert.throws(() => new Maglev(ids(3), { tableSize: 65536 }), /prime/);
    assert.throws(() => new Maglev(ids(20), { tableSize: 17 }), /exceed the number of nodes/);
  });
});

describe('placement: weight changes move keys only to or from the changed node', () => {
  const cases: [string, (nodes: NodeSpec[]) => Placement, number][] = [
    ['ring', (nodes) => new Ring(nodes), 0],
    ['rendezvous', (nodes) => new Rendezvous(nodes), 0],
    // Maglev refills its table: a few keys also change hands between other nodes.
    ['maglev', (nodes) => new Maglev(nodes), 0.01],
  ];
  for (const [name, make, strayMax] of cases) {
    it(`${name}: doubling n3's weight moves keys only to n3`, () => {
      const nodes = ids(8);
      const before = make(nodes);
      const after = make(nodes.map((n) => (n.id === 'n3' ? { ...n, weight: 2 } : n)));
      let toN3 = 0;
      let stray = 0;
      for (const key of KEYS) {
        const a = before.lookup(key);
        const b = after.lookup(key);
        if (a === b) continue;
        if (b === 'n3') toN3++;
        else stray++;
      }
      // n3's share goes from 1/8 to 2/9: ideal moved share 2/9 - 1/8 ≈ 0.097.
      const movedShare = toN3 / KEYS.length;
      assert.ok(movedShare > 0.07 && movedShare < 0.13, `moved share ${movedShare}`);
      assert.ok(stray <= strayMax * KEYS.length, `${stray} keys moved between other nodes`);
    });
  }
});

describe('placement/bounded-load with weights', () => {
  it('keeps node i at or below ⌈(1+ε)·m·w_i/Σw⌉ at every acquire (fast-check)', () => {
    const weights = [1, 2, 5];
    const nodes = weights.map((weight, i) => ({ id: `w${i}`, weight }));
    fc.assert(
      fc.property(fc.constantFrom('ring', 'maglev', 'rendezvous'), fc.array(fc.string(), { minLength: 1, maxLength: 400 }), (kind, keys) => {
        const base = createPlacement(kind, nodes);
        const bl = new BoundedLoad(base as Ring | Maglev | Rendezvous, { epsilon: 0.1 });
        for (const key of keys) {
          const id = bl.acquire(key);
          const w = weights[Number(id.slice(1))] as number;
          const cap = Math.ceil((1.1 * bl.inFlight * w) / 8 - 1e-9);
          assert.ok(bl.load(id) <= cap, `${id}: load ${bl.load(id)} > cap ${cap} at m=${bl.inFlight}`);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('placement: configuration errors', () => {
  it('rejects empty node lists, duplicate ids and bad weights', () => {
    for (const kind of ['ring', 'ketama', 'rendezvous', 'jump', 'maglev'] as const) {
      assert.throws(() => createPlacement(kind, []), /at least one node/);
      assert.throws(() => createPlacement(kind, [{ id: 'a' }, { id: 'a' }]), /duplicate node id/);
      assert.throws(() => createPlacement(kind, [{ id: 'a', weight: 0 }]), /weight/);
      assert.throws(() => createPlacement(kind, [{ id: 'a', weight: Number.NaN }]), /weight/);
      assert.throws(() => createPlacement(kind, [{ id: '' }]), /node id/);
    }
    assert.throws(() => createPlacement('ring', ids(2), { pointsPerWeight: 0 }), /pointsPerWeight/);
    assert.throws(() => createPlacement('ring', ids(3)).preference('k', 0), /count/);
    assert.throws(() => parsePlacementKind('hashring'), /must be one of ring, ketama, rendezvous, jump, maglev/);
  });
  it('bounded load rejects a bad epsilon and unknown or idle nodes on release', () => {
    const ring = new Ring(ids(3));
    assert.throws(() => new BoundedLoad(ring, { epsilon: 0 }), /epsilon/);
    const bl = new BoundedLoad(ring);
    assert.throws(() => bl.release('n9'), /unknown node/);
    assert.throws(() => bl.release('n1'), /no keys to release/);
  });
});
