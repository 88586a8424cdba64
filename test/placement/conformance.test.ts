/**
 * One conformance suite for every consistent-hashing placement (ring, ketama, rendezvous, jump,
 * maglev), each skip stating its reason. Properties: determinism (pinned across machines by a
 * checksum), independence from node order, every node reachable, balance, weights respected,
 * minimal disruption on add and remove (~1/(n+1) of keys move, and only to or from the node
 * that changed), distinct preference lists (optionally zone-distinct), and, for placements with
 * a preference walk, bounded load never above its cap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BoundedLoad } from '../../src/placement/bounded-load.ts';
import { murmur3 } from '../../src/placement/hash.ts';
import { createPlacement } from '../../src/placement/index.ts';
import type { NodeSpec, Placement, PlacementKind, WalkablePlacement } from '../../src/placement/types.ts';

interface Impl {
  readonly kind: PlacementKind;
  /** Pinned checksum of the owners of key:0..key:999 over n1..n7 (changes only deliberately). */
  readonly golden: number;
  /** max/mean key load bound, 10 nodes, 100k keys. */
  readonly balanceMax: number;
  /** Relative tolerance on each node's share for weights 1:2:3. */
  readonly weightTolerance: number;
  /** Moved-key fraction bounds relative to the ideal 1/(n+1). */
  readonly movedRatio: readonly [number, number];
  /** Share of all keys allowed to move between two unchanged nodes on add/remove (0: none). */
  readonly strayMax: number;
  readonly skip: {
    readonly orderIndependence?: string;
    readonly weights?: string;
    readonly removeAny?: string;
    readonly preference?: string;
    readonly boundedLoad?: string;
  };
}

const IMPLS: readonly Impl[] = [
  { kind: 'ring', golden: 3957428648, balanceMax: 1.15, weightTolerance: 0.15, movedRatio: [0.7, 1.3], strayMax: 0, skip: {} },
  { kind: 'ketama', golden: 3022661287, balanceMax: 1.2, weightTolerance: 0.15, movedRatio: [0.7, 1.3], strayMax: 0, skip: {} },
  { kind: 'rendezvous', golden: 165626889, balanceMax: 1.03, weightTolerance: 0.03, movedRatio: [0.95, 1.05], strayMax: 0, skip: {} },
  {
    kind: 'jump',
    golden: 1873144870,
    balanceMax: 1.03,
    weightTolerance: 0,
    movedRatio: [0.95, 1.05],
    strayMax: 0,
    skip: {
      orderIndependence: 'jump numbers its buckets in the order nodes are given; that order is part of its input',
      weights: 'jump consistent hash has no weights (it rejects unequal weights)',
      removeAny: 'jump only removes the last bucket minimally; removing another renumbers the buckets after it',
      preference: 'jump has no successor order for replicas (use a shard map)',
      boundedLoad: 'jump has no preference walk for bounded load to follow',
    },
  },
  { kind: 'maglev', golden: 1936952925, balanceMax: 1.03, weightTolerance: 0.03, movedRatio: [0.95, 1.2], strayMax: 0.01, skip: {} },
];

const KEYS = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);

function ids(n: number, prefix = 'n'): NodeSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i + 1}` }));
}

function owners(p: Placement, keys: readonly string[]): string[] {
  return keys.map((k) => p.lookup(k));
}

function checksum(values: readonly string[]): number {
  return murmur3(values.join(','));
}

function isWalkable(p: Placement): p is WalkablePlacement {
  return typeof (p as Partial<WalkablePlacement>).walk === 'function';
}

for (const impl of IMPLS) {
  const make = (nodes: readonly NodeSpec[]) => createPlacement(impl.kind, nodes);
  const itOrSkip = (reason: string | undefined, name: string, fn: () => void) =>
    reason === undefined ? it(name, fn) : it(name, { skip: reason }, fn);

  describe(`placement conformance: ${impl.kind}`, () => {
    it('is deterministic: same nodes, same owners; lookup, lookupIndex and lookupHashIndex agree', () => {
      const nodes = ids(7);
      const a = make(nodes);
      const b = make(nodes);
      const keys = KEYS.slice(0, 1000);
      const oa = owners(a, keys);
      assert.deepEqual(oa, owners(b, keys));
      for (const k of keys) {
        const i = a.lookupIndex(k);
        assert.equal(a.nodes[i]?.id, a.lookup(k));
        assert.equal(a.lookupHashIndex(a.hashKey(k)), i);
      }
      // Pinned: a change here changes where every deployed key lives.
      assert.equal(checksum(oa), impl.golden);
    });

    itOrSkip(impl.skip.orderIndependence, 'does not depend on the order nodes are given in', () => {
      fc.assert(
        fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 12 }), fc.integer(), (names, seed) => {
          const nodes = names.map((id) => ({ id }));
          const shuffled = nodes.slice().sort((x, y) => murmur3(x.id, seed) - murmur3(y.id, seed));
          const keys = KEYS.slice(0, 200);
          assert.deepEqual(owners(make(nodes), keys), owners(make(shuffled), keys));
        }),
        { numRuns: 30 },
      );
    });

    it('reaches every node (50 nodes, 20k keys)', () => {
      const p = make(ids(50));
      const hit = new Set(owners(p, KEYS.slice(0, 20_000)));
      assert.equal(hit.size, 50);
    });

    it(`balances 100k keys over 10 nodes (max/mean <= ${impl.balanceMax})`, () => {
      const p = make(ids(10));
      const counts = new Array<number>(10).fill(0);
      for (const k of KEYS) counts[p.lookupIndex(k)] = (counts[p.lookupIndex(k)] ?? 0) + 1;
      const ratio = Math.max(...counts) / (KEYS.length / 10);
      assert.ok(ratio <= impl.balanceMax, `max/mean ${ratio}`);
      assert.ok(Math.min(...counts) > 0);
    });

    itOrSkip(impl.skip.weights, 'respects weights 1:2:3', () => {
      const p = make([
        { id: 'a', weight: 1 },
        { id: 'b', weight: 2 },
        { id: 'c', weight: 3 },
      ]);
      const counts = new Map<string, number>();
      for (const k of KEYS) counts.set(p.lookup(k), (counts.get(p.lookup(k)) ?? 0) + 1);
      for (const [id, w] of [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ] as const) {
        const share = (counts.get(id) ?? 0) / KEYS.length;
        const want = w / 6;
        assert.ok(Math.abs(share - want) <= impl.weightTolerance * want, `${id}: share ${share}, want ${want}`);
      }
    });

    it('moves about 1/(n+1) of keys when a node joins, all to the new node', () => {
      const nodes = ids(10);
      const before = owners(make(nodes), KEYS);
      const after = owners(make([...nodes, { id: 'n11' }]), KEYS);
      let moved = 0;
      let stray = 0;
      for (let i = 0; i < KEYS.length; i++) {
        if (before[i] !== after[i]) {
          moved++;
          if (after[i] !== 'n11') stray++;
        }
      }
      const ratio = moved / KEYS.length / (1 / 11);
      assert.ok(ratio >= (impl.movedRatio[0] as number) && ratio <= (impl.movedRatio[1] as number), `moved ${moved} = ${ratio} x ideal`);
      assert.ok(stray <= impl.strayMax * KEYS.length, `${stray} keys moved between unchanged nodes`);
    });

    it('moves only the removed node’s keys when the last node leaves', () => {
      const nodes = ids(11);
      const before = owners(make(nodes), KEYS);
      const after = owners(make(nodes.slice(0, 10)), KEYS);
      let moved = 0;
      let stray = 0;
      for (let i = 0; i < KEYS.length; i++) {
        if (before[i] !== after[i]) {
          moved++;
          if (before[i] !== 'n11') stray++;
        }
      }
      const ratio = moved / KEYS.length / (1 / 11);
      assert.ok(ratio >= (impl.movedRatio[0] as number) && ratio <= (impl.movedRatio[1] as number), `moved ${moved} = ${ratio} x ideal`);
      assert.ok(stray <= impl.strayMax * KEYS.length, `${stray} keys moved between unchanged nodes`);
    });

    itOrSkip(impl.skip.removeAny, 'moves only the removed node’s keys when any node leaves', () => {
      const nodes = ids(11);
      const before = owners(make(nodes), KEYS);
      const after = owners(
        make(nodes.filter((n) => n.id !== 'n4')),
        KEYS,
      );
      let stray = 0;
      for (let i = 0; i < KEYS.length; i++) if (before[i] !== after[i] && before[i] !== 'n4') stray++;
      assert.ok(stray <= impl.strayMax * KEYS.length, `${stray} keys moved between unchanged nodes`);
    });

    itOrSkip(impl.skip.preference, 'gives preference lists of distinct nodes starting with the owner', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 25 }), fc.string(), (n, count, key) => {
          const p = make(ids(n));
          const list = p.preference(key, count);
          assert.equal(list.length, Math.min(n, count));
          assert.equal(new Set(list).size, list.length);
          assert.equal(list[0], p.lookup(key));
        }),
        { numRuns: 100 },
      );
    });

    itOrSkip(impl.skip.preference, 'gives zone-distinct preference lists when asked', () => {
      const zones = ['z1', 'z2', 'z3'];
      const nodes = Array.from({ length: 12 }, (_, i) => ({ id: `n${i + 1}`, zone: zones[i % 3] as string }));
      const p = make(nodes);
      const zoneOf = new Map(nodes.map((n) => [n.id, n.zone]));
      for (const key of KEYS.slice(0, 500)) {
        const list = p.preference(key, 3, { distinctZones: true });
        assert.equal(list.length, 3);
        assert.equal(new Set(list.map((id) => zoneOf.get(id))).size, 3);
        assert.equal(list[0], p.lookup(key));
        // Asking for more replicas than zones returns one per zone.
        assert.equal(p.preference(key, 5, { distinctZones: true }).length, 3);
      }
    });

    itOrSkip(impl.skip.boundedLoad, 'bounded load never exceeds ⌈(1+ε)·m/n⌉ (fast-check acquire/release sequences)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 12 }),
          fc.constantFrom(0.05, 0.25, 1),
          fc.array(fc.oneof(fc.string(), fc.constant(null)), { minLength: 1, maxLength: 300 }),
          (n, epsilon, ops) => {
            const p = make(ids(n));
            assert.ok(isWalkable(p));
            const bl = new BoundedLoad(p, { epsilon });
            const held: string[] = [];
            for (const op of ops) {
              if (op === null) {
                const id = held.pop();
                if (id !== undefined) bl.release(id);
                continue;
              }
              const id = bl.acquire(op);
              held.push(id);
              const m = bl.inFlight;
              const cap = Math.ceil(((1 + epsilon) * m) / n - 1e-9);
              assert.ok(bl.load(id) <= cap, `load ${bl.load(id)} > cap ${cap} (m=${m}, n=${n})`);
            }
            assert.equal(bl.inFlight, held.length);
          },
        ),
        { numRuns: 60 },
      );
    });

    itOrSkip(impl.skip.boundedLoad, 'bounded load keeps every node at or below the cap while keys only arrive (100 nodes, 20k keys)', () => {
      const p = make(ids(100));
      assert.ok(isWalkable(p));
      const bl = new BoundedLoad(p);
      let moved = 0;
      for (let i = 0; i < 20_000; i++) {
        const key = KEYS[i] as string;
        if (bl.acquire(key) !== p.lookup(key)) moved++;
      }
      const cap = Math.ceil((1.25 * 20_000) / 100);
      for (const load of bl.loadsByIndex()) assert.ok(load <= cap, `load ${load} > cap ${cap}`);
      // Most keys still go to their consistent-hashing owner.
      assert.ok(moved < 0.25 * 20_000, `${moved} keys displaced`);
    });
  });
}
