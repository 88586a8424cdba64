import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assert as ckAssert, AssertionError } from '../src/core/assert.ts';
import { ManualClock } from '../src/core/clock.ts';
import { ConfigError, DefiniteError, IndefiniteError, isDefinite, TimeoutError } from '../src/core/errors.ts';
import { compareNodeIds, defaultNodeIds, parseNodeId } from '../src/core/ids.ts';
import { createRng } from '../src/core/rng.ts';

describe('core/rng', () => {
  it('gives the same sequence for the same seed (stable across machines: fixed vector)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextU32()));
    // Golden values pin the algorithm: a change here changes every recorded seed's replay.
    assert.deepEqual(xs, GOLDEN_42);
  });
  it('differs between seeds, including seeds that differ only above 2^32', () => {
    assert.notEqual(createRng(1).nextU32(), createRng(2).nextU32());
    assert.notEqual(createRng(5).nextU32(), createRng(5 + 2 ** 32).nextU32());
  });
  it('int(n) stays in range and is roughly uniform', () => {
    const r = createRng(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = r.int(10);
      assert.ok(x >= 0 && x < 10);
      counts[x] = (counts[x] ?? 0) + 1;
    }
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `bucket ${c}`);
  });
  it('float is in [0,1) with mean near 1/2; exponential has the asked mean', () => {
    const r = createRng(9);
    let s = 0;
    let e = 0;
    for (let i = 0; i < 50_000; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      s += f;
      e += r.exponential(3);
    }
    assert.ok(Math.abs(s / 50_000 - 0.5) < 0.01);
    assert.ok(Math.abs(e / 50_000 - 3) < 0.1);
  });
  it('fork gives independent, reproducible streams', () => {
    const a = createRng(3).fork('net');
    const b = createRng(3).fork('net');
    const c = createRng(3).fork('disk');
    const x = a.nextU32();
    assert.equal(x, b.nextU32());
    assert.notEqual(x, c.nextU32());
  });
  it('shuffle is a permutation', () => {
    const r = createRng(11);
    const s = r.shuffle([1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...s].sort(), [1, 2, 3, 4, 5, 6]);
  });
});

const GOLDEN_42 = [2837322924, 544945897, 479756282, 3500138142, 339756180];

describe('core/assert', () => {
  it('throws AssertionError with the message when the condition is false', () => {
    assert.throws(() => ckAssert(false, 'boom'), (e: unknown) => e instanceof AssertionError && e.message === 'boom');
    assert.doesNotThrow(() => ckAssert(1, 'fine'));
  });
});

describe('core/errors', () => {
  it('says whether an operation definitely failed or may have happened', () => {
    assert.equal(new DefiniteError('not-leader', 'x').definite, true);
    assert.equal(new IndefiniteError('timeout', 'x').definite, false);
    assert.equal(isDefinite(new TimeoutError('t')), false);
    assert.equal(isDefinite(new ConfigError('c')), true);
    assert.equal(isDefinite(new Error('plain')), false, 'unknown errors are indefinite');
  });
});

describe('core/ids', () => {
  it('validates node ids and orders them numerically', () => {
    assert.equal(parseNodeId('n1'), 'n1');
    assert.throws(() => parseNodeId('bad id'), ConfigError);
    assert.throws(() => parseNodeId(''), ConfigError);
    assert.deepEqual(defaultNodeIds(3), ['n1', 'n2', 'n3']);
    assert.deepEqual(['n10', 'n2', 'n1'].sort(compareNodeIds), ['n1', 'n2', 'n10']);
  });
});

describe('core/clock', () => {
  it('ManualClock moves only forward and only when told', () => {
    const c = new ManualClock(5);
    assert.equal(c.now(), 5);
    c.advance(10);
    assert.equal(c.now(), 15);
    assert.throws(() => c.advance(-1), RangeError);
  });
});
