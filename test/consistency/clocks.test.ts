import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ClockDriftError, compareHlc, HybridLogicalClock } from '../../src/consistency/hlc.ts';
import { compareLamport, LamportClock } from '../../src/consistency/lamport.ts';
import { vcCompare, vcIncrement, vcLeq, vcMerge, vcNormalize, type VectorClock } from '../../src/consistency/vector-clock.ts';

describe('consistency/lamport', () => {
  it('a -> b implies C(a) < C(b): send then receive orders the receive after the send', () => {
    const a = new LamportClock();
    const b = new LamportClock(10);
    const sent = a.tick();
    const recv = b.receive(sent);
    assert.ok(recv > sent);
    assert.equal(recv, 11);
    const a2 = a.receive(recv);
    assert.equal(a2, 12);
  });
  it('breaks equal counters by node id, numeric-aware', () => {
    assert.ok(compareLamport({ counter: 3, node: 'n2' }, { counter: 3, node: 'n10' }) < 0);
    assert.ok(compareLamport({ counter: 2, node: 'n9' }, { counter: 3, node: 'n1' }) < 0);
    assert.equal(compareLamport({ counter: 3, node: 'n1' }, { counter: 3, node: 'n1' }), 0);
  });
});

describe('consistency/vector-clock', () => {
  it('classifies before / after / concurrent / equal', () => {
    const a: VectorClock = { n1: 1 };
    const b = vcIncrement(a, 'n2');
    const c = vcIncrement(a, 'n3');
    assert.equal(vcCompare(a, b), 'before');
    assert.equal(vcCompare(b, a), 'after');
    assert.equal(vcCompare(b, c), 'concurrent');
    assert.equal(vcCompare(b, { ...b, n9: 0 }), 'equal');
    assert.equal(vcCompare(vcMerge(b, c), b), 'after');
  });
  const vc = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat(5));
  it('merge is the least upper bound: commutative, associative, idempotent, dominates both', () => {
    fc.assert(
      fc.property(vc, vc, vc, (x, y, z) => {
        assert.deepEqual(vcNormalize(vcMerge(x, y)), vcNormalize(vcMerge(y, x)));
        assert.deepEqual(vcNormalize(vcMerge(vcMerge(x, y), z)), vcNormalize(vcMerge(x, vcMerge(y, z))));
        assert.deepEqual(vcNormalize(vcMerge(x, x)), vcNormalize(x));
        assert.ok(vcLeq(x, vcMerge(x, y)) && vcLeq(y, vcMerge(x, y)));
      }),
    );
  });
  it('compare is antisymmetric and agrees with leq', () => {
    fc.assert(
      fc.property(vc, vc, (x, y) => {
        const r = vcCompare(x, y);
        const back = vcCompare(y, x);
        const mirror = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
        assert.equal(back, mirror[r]);
        assert.equal(r === 'before' || r === 'equal', vcLeq(x, y));
      }),
    );
  });
});

describe('consistency/hlc (Kulkarni et al. 2014)', () => {
  it('send/receive: e -> f implies hlc(e) < hlc(f) even when the receiver physical clock lags', () => {
    const a = new HybridLogicalClock();
    const b = new HybridLogicalClock();
    const e = a.now(1000);
    const f = b.receive(e, 400); // b's physical clock is 600 ms behind
    assert.ok(compareHlc(e, f) < 0);
    assert.deepEqual(f, { l: 1000, c: 1 });
    const g = b.now(500);
    assert.deepEqual(g, { l: 1000, c: 2 });
    const h = b.now(1001);
    assert.deepEqual(h, { l: 1001, c: 0 }, 'counter resets once physical time passes l');
  });
  it('l never exceeds the largest physical time seen (bounded distance from physical time)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })), { maxLength: 60 }), (events) => {
        const a = new HybridLogicalClock();
        const b = new HybridLogicalClock();
        let pt = 0;
        let maxPt = 0;
        const last = new Map([[a, a.current()], [b, b.current()]]);
        for (const [fromA, dA, skew] of events) {
          pt += dA;
          const ptB = pt + skew - 50; // b's clock is skewed by up to +-50 ms
          maxPt = Math.max(maxPt, pt, ptB);
          const sender = fromA ? a : b;
          const receiver = fromA ? b : a;
          const s = sender.now(fromA ? pt : ptB);
          assert.ok(compareHlc(last.get(sender)!, s) < 0, 'each clock is strictly monotonic');
          const r = receiver.receive(s, fromA ? ptB : pt);
          assert.ok(compareHlc(last.get(receiver)!, r) < 0, 'each clock is strictly monotonic');
          assert.ok(compareHlc(s, r) < 0, 'receive after send');
          last.set(sender, s);
          last.set(receiver, r);
          assert.ok(r.l <= maxPt);
        }
      }),
    );
  });
  it('refuses a remote timestamp further ahead than driftMaxMs and stays unchanged', () => {
    const c = new HybridLogicalClock({ driftMaxMs: 100 });
    c.now(1000);
    assert.throws(() => c.receive({ l: 1101, c: 0 }, 1000), ClockDriftError);
    assert.deepEqual(c.current(), { l: 1000, c: 0 });
    assert.deepEqual(c.receive({ l: 1100, c: 4 }, 1000), { l: 1100, c: 5 });
  });
});
