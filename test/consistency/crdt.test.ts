import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GCounterType, gcounterIncrement, type GCounter } from '../../src/consistency/crdt/gcounter.ts';
import { lwwMapDelete, lwwMapGet, lwwMapSet, lwwMapType, type LwwMap } from '../../src/consistency/crdt/lww-map.ts';
import { lwwRegisterType, lwwSet, lwwValue, type LwwRegister } from '../../src/consistency/crdt/lww-register.ts';
import { ORSetType, orsetAdd, orsetHas, orsetMerge, orsetRemove, orsetValues, type ORSet } from '../../src/consistency/crdt/orset.ts';
import { PNCounterType, pncounterAdd, pncounterValue, type PNCounter } from '../../src/consistency/crdt/pncounter.ts';
import type { CrdtType } from '../../src/consistency/crdt/types.ts';
import { HybridLogicalClock } from '../../src/consistency/hlc.ts';

const NODES = ['n1', 'n2', 'n3'] as const;

/**
 * Builds reachable states: three replicas apply random local updates and random pairwise merges.
 * `update(state, node, arg, now)` performs one local operation.
 */
function replicasArb<S>(type: CrdtType<S, unknown>, update: (s: S, node: string, arg: number, hlc: HybridLogicalClock, nowMs: number) => S) {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('update' as const), at: fc.nat(2), arg: fc.nat(7) }),
    fc.record({ kind: fc.constant('merge' as const), at: fc.nat(2), from: fc.nat(2) }),
  );
  return fc.array(step, { maxLength: 30 }).map((steps) => {
    const states: S[] = NODES.map(() => type.empty());
    const clocks = NODES.map(() => new HybridLogicalClock());
    let nowMs = 0;
    for (const s of steps) {
      nowMs += 1;
      if (s.kind === 'update') {
        states[s.at] = update(states[s.at]!, NODES[s.at]!, s.arg, clocks[s.at]!, nowMs % 3 === 0 ? nowMs : 5); // stalled clocks too
      } else {
        states[s.at] = type.merge(states[s.at]!, states[s.from]!);
      }
    }
    return states;
  });
}

function mergeLaws<S>(type: CrdtType<S, unknown>, update: (s: S, node: string, arg: number, hlc: HybridLogicalClock, nowMs: number) => S) {
  describe(`${type.name} merge laws`, () => {
    const arb = replicasArb(type, update);
    it('merge is commutative: a ⊔ b = b ⊔ a', () => {
      fc.assert(fc.property(arb, ([a, b]) => assert.ok(type.equals(type.merge(a!, b!), type.merge(b!, a!)))));
    });
    it('merge is associative: (a ⊔ b) ⊔ c = a ⊔ (b ⊔ c)', () => {
      fc.assert(
        fc.property(arb, ([a, b, c]) =>
          assert.ok(type.equals(type.merge(type.merge(a!, b!), c!), type.merge(a!, type.merge(b!, c!)))),
        ),
      );
    });
    it('merge is idempotent: a ⊔ a = a, and (a ⊔ b) ⊔ b = a ⊔ b', () => {
      fc.assert(
        fc.property(arb, ([a, b]) => {
          assert.ok(type.equals(type.merge(a!, a!), a!));
          const ab = type.merge(a!, b!);
          assert.ok(type.equals(type.merge(ab, b!), ab));
        }),
      );
    });
    it('empty is the identity', () => {
      fc.assert(fc.property(arb, ([a]) => assert.ok(type.equals(type.merge(a!, type.empty()), a!))));
    });
    it('replicas that exchange all states converge to equal states and values, in any merge order', () => {
      fc.assert(
        fc.property(arb, ([a, b, c]) => {
          const x = type.merge(type.merge(a!, b!), c!);
          const y = type.merge(c!, type.merge(b!, a!));
          assert.ok(type.equals(x, y));
          assert.deepEqual(type.value(x), type.value(y));
        }),
      );
    });
  });
}

mergeLaws<GCounter>(GCounterType, (s, node, arg) => gcounterIncrement(s, node, arg));
mergeLaws<PNCounter>(PNCounterType, (s, node, arg) => pncounterAdd(s, node, arg - 3));
mergeLaws<LwwRegister<number>>(lwwRegisterType<number>(), (s, node, arg, hlc, now) => lwwSet(s, arg, hlc.now(now), node));
mergeLaws<ORSet>(ORSetType, (s, node, arg) => (arg % 2 === 0 ? orsetAdd(s, `e${arg % 3}`, node) : orsetRemove(s, `e${arg % 3}`)));
mergeLaws<LwwMap<number>>(lwwMapType<number>(), (s, node, arg, hlc, now) =>
  arg === 7 ? lwwMapDelete(s, `k${arg % 2}`, hlc.now(now), node) : lwwMapSet(s, `k${arg % 2}`, arg, hlc.now(now), node),
);

describe('crdt semantics', () => {
  it('G-Counter and PN-Counter: the merged value is the sum of every replica increment', () => {
    let a = gcounterIncrement({}, 'n1', 2);
    let b = gcounterIncrement({}, 'n2', 3);
    a = gcounterIncrement(a, 'n1', 1);
    assert.equal(GCounterType.value(GCounterType.merge(a, b)), 6);
    b = GCounterType.merge(b, a);
    assert.equal(GCounterType.value(GCounterType.merge(a, b)), 6, 'merging twice does not double count');
    const p = pncounterAdd(pncounterAdd(PNCounterType.empty(), 'n1', 5), 'n1', -7);
    const q = pncounterAdd(PNCounterType.empty(), 'n2', -1);
    assert.equal(pncounterValue(PNCounterType.merge(p, q)), -3);
  });
  it('LWW-Register: a causally later write wins even with a slower physical clock; HLC ties broken by node id', () => {
    const h1 = new HybridLogicalClock();
    const h2 = new HybridLogicalClock();
    const w1 = h1.now(1000);
    const r1 = lwwSet(lwwRegisterType<string>().empty(), 'first', w1, 'n1');
    h2.receive(w1, 10); // n2 saw n1's write; its physical clock is far behind
    const r2 = lwwSet(r1, 'second', h2.now(20), 'n2');
    assert.equal(lwwValue(lwwRegisterType<string>().merge(r1, r2)), 'second');
    const ta = lwwSet(lwwRegisterType<string>().empty(), 'from-n2', { l: 5, c: 0 }, 'n2');
    const tb = lwwSet(lwwRegisterType<string>().empty(), 'from-n10', { l: 5, c: 0 }, 'n10');
    assert.equal(lwwValue(lwwRegisterType<string>().merge(ta, tb)), 'from-n10');
    assert.equal(lwwValue(lwwRegisterType<string>().merge(tb, ta)), 'from-n10');
  });
  it('OR-Set: add wins over a concurrent remove; an observed remove removes; no tombstones are kept', () => {
    const base = orsetAdd(ORSetType.empty(), 'x', 'n1');
    const removed = orsetRemove(base, 'x'); // n1 removes the add it observed
    const readded = orsetAdd(base, 'x', 'n2'); // n2 concurrently adds x again
    const merged = orsetMerge(removed, readded);
    assert.equal(orsetHas(merged, 'x'), true, 'the concurrent add survives');
    assert.deepEqual(merged.entries.x, [{ node: 'n2', counter: 1 }]);
    const both = orsetMerge(removed, base);
    assert.equal(orsetHas(both, 'x'), false, 'a stale copy of the removed add does not resurrect it');
    assert.deepEqual(orsetValues(both), []);
    assert.equal(JSON.stringify(both.entries), '{}', 'no tombstone for x');
  });
  it('LWW-Map: a delete beats an older put arriving later, a newer put beats the delete', () => {
    const t = lwwMapType<number>();
    const put = lwwMapSet(t.empty(), 'k', 1, { l: 10, c: 0 }, 'n1');
    const del = lwwMapDelete(put, 'k', { l: 11, c: 0 }, 'n2');
    assert.equal(lwwMapGet(t.merge(del, put), 'k'), undefined);
    const again = lwwMapSet(t.empty(), 'k', 2, { l: 12, c: 0 }, 'n3');
    assert.equal(lwwMapGet(t.merge(del, again), 'k'), 2);
    assert.deepEqual(t.value(t.merge(again, del)), [['k', 2]]);
  });
});
