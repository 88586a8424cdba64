import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { Awareness } from '../../src/membership/swim/awareness.ts';
import { BroadcastQueue } from '../../src/membership/swim/broadcast.ts';
import {
  lanConfig,
  presetConfig,
  pushPullIntervalFor,
  retransmitLimit,
  SWIM_PRESETS,
  suspicionBoundsMs,
  swimConfig,
} from '../../src/membership/swim/config.ts';
import { Suspicion, suspicionTimeoutMs } from '../../src/membership/swim/suspicion.ts';

describe('swim config', () => {
  it('every preset validates', () => {
    for (const p of SWIM_PRESETS) assert.doesNotThrow(() => swimConfig({}, presetConfig(p)));
  });

  it('rejects fields that contradict each other, naming them', () => {
    assert.throws(() => swimConfig({ probeTimeoutMs: 1000 }), (e: unknown) => e instanceof ConfigError && /probeTimeoutMs/.test(e.message));
    assert.throws(() => swimConfig({ metaBytesMax: 1000 }), /metaBytesMax/);
    assert.throws(() => swimConfig({ packetBytesMax: 100 }), /packetBytesMax/);
    assert.throws(() => swimConfig({ gossipNodes: 0 }), /gossipNodes/);
    assert.throws(() => swimConfig({ retransmitMult: 1.5 }), /retransmitMult/);
    assert.throws(() => swimConfig({ probeIntervalMs: -1 }), /probeIntervalMs/);
  });

  it('retransmit limit is retransmitMult · ceil(log10(n + 1))', () => {
    assert.equal(retransmitLimit(4, 1), 4);
    assert.equal(retransmitLimit(4, 9), 4);
    assert.equal(retransmitLimit(4, 10), 8);
    assert.equal(retransmitLimit(4, 99), 8);
    assert.equal(retransmitLimit(4, 100), 12);
    assert.equal(retransmitLimit(3, 1000), 12);
  });

  it('suspicion bounds: min = α·max(1, log10 n)·T, max = β·min, K = α − 2 (0 when n − 2 < K)', () => {
    const cfg = lanConfig();
    assert.deepEqual(suspicionBoundsMs(cfg, 5), { minMs: 4000, maxMs: 24000, expectedConfirmations: 2 });
    assert.deepEqual(suspicionBoundsMs(cfg, 100), { minMs: 8000, maxMs: 48000, expectedConfirmations: 2 });
    assert.equal(suspicionBoundsMs(cfg, 3).expectedConfirmations, 0);
    const plain = suspicionBoundsMs({ ...cfg, lifeguard: false }, 100);
    assert.deepEqual(plain, { minMs: 8000, maxMs: 8000, expectedConfirmations: 0 });
  });

  it('push-pull interval scales with log2 n above 32 members', () => {
    assert.equal(pushPullIntervalFor(30_000, 32), 30_000);
    assert.equal(pushPullIntervalFor(30_000, 64), 60_000);
    assert.equal(pushPullIntervalFor(30_000, 65), 90_000);
  });
});

describe('lifeguard pieces', () => {
  it('suspicion timeout starts at max and reaches min after K confirmations (log-shaped)', () => {
    assert.equal(suspicionTimeoutMs(0, 3, 1000, 6000), 6000);
    assert.equal(suspicionTimeoutMs(3, 3, 1000, 6000), 1000);
    const one = suspicionTimeoutMs(1, 3, 1000, 6000);
    // max − (max − min)·log 2 / log 4 = 6000 − 5000·0.5
    assert.equal(one, 3500);
    assert.equal(suspicionTimeoutMs(0, 0, 1000, 6000), 1000);
  });

  it('a suspicion counts each confirmer once, never the raiser, and at most K', () => {
    const s = new Suspicion('a', 100, 1000, 6000, 2);
    assert.equal(s.deadlineMs(), 6100);
    assert.equal(s.confirm('a'), false);
    assert.equal(s.confirm('b'), true);
    assert.equal(s.confirm('b'), false);
    assert.ok(s.deadlineMs() < 6100);
    assert.equal(s.confirm('c'), true);
    assert.equal(s.deadlineMs(), 1100);
    assert.equal(s.confirm('d'), false);
  });

  it('local health multiplier stays in [0, max − 1] and scales timeouts by score + 1', () => {
    const a = new Awareness(8);
    a.applyDelta(-3);
    assert.equal(a.score, 0);
    a.applyDelta(3);
    assert.equal(a.scaleMs(500), 2000);
    a.applyDelta(100);
    assert.equal(a.score, 7);
    assert.equal(a.scaleMs(1000), 8000);
  });
});

describe('broadcast queue', () => {
  const alive = (name: string, inc = 0) => ({ type: 'alive' as const, name, address: name, meta: '', incarnation: inc });

  it('takes least-transmitted updates first and retires an update after the limit', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(alive('a'));
    q.enqueue(alive('b'));
    // Only room for one: the newest of the never-sent goes first.
    assert.deepEqual(q.take(70, 3).map((u) => u.name), ['b']);
    assert.deepEqual(q.take(70, 3).map((u) => u.name), ['a']);
    assert.deepEqual(q.take(1000, 3).map((u) => u.name).sort(), ['a', 'b']);
    assert.deepEqual(q.take(1000, 3).map((u) => u.name).sort(), ['a', 'b']);
    assert.equal(q.size, 0);
  });

  it('a newer update about a member replaces the older one', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(alive('a', 1));
    q.enqueue({ type: 'suspect', name: 'a', incarnation: 1, from: 'x' });
    assert.equal(q.size, 1);
    assert.equal(q.pending('a')?.type, 'suspect');
  });

  it('is bounded: beyond queueMax the most-sent update is dropped', () => {
    const q = new BroadcastQueue(2);
    q.enqueue(alive('a'));
    q.take(1000, 10);
    q.enqueue(alive('b'));
    q.enqueue(alive('c'));
    assert.equal(q.size, 2);
    assert.equal(q.dropped, 1);
    assert.equal(q.pending('a'), undefined);
  });

  it('never returns more bytes than asked for', () => {
    const q = new BroadcastQueue(1000);
    for (let i = 0; i < 200; i++) q.enqueue(alive(`member-${i}`, i));
    const got = q.take(1000, 5);
    const bytes = got.reduce((s, u) => s + JSON.stringify(u).length + 1, 0);
    assert.ok(bytes <= 1000 && got.length > 5, `${bytes} bytes, ${got.length} updates`);
  });
});
