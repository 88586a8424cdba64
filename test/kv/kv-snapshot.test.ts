import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CorruptionError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { toTaggedJson } from '../../src/kv/codec.ts';
import { KvStateMachine } from '../../src/kv/state-machine.ts';
import { b, get, put, run } from './helpers.ts';

/** A state machine with history, deletions, a lease with a key and a client session. */
function populated(seed: number, writes: number): KvStateMachine {
  const rng = createRng(seed);
  const sm = new KvStateMachine();
  const lease = run(sm, { type: 'lease-grant', id: 0, ttlSec: 30, nowMs: 1000 });
  assert.equal(lease.type, 'lease-grant');
  put(sm, 'leased', 'x', { lease: lease.type === 'lease-grant' ? lease.response.id : 0 });
  for (let i = 0; i < writes; i++) {
    const k = `k${rng.int(40)}`;
    if (rng.int(5) === 0) run(sm, { type: 'delete-range', request: { key: b(k) } });
    else put(sm, k, `v${i}-${'z'.repeat(rng.int(300))}`);
  }
  const r = sm.apply({ command: { type: 'put', request: { key: b('tagged'), value: b('t') } }, client: { id: 'c1', seq: 1 } }, 10_000);
  assert.ok(r.ok);
  return sm;
}

describe('kv: binary snapshots built in steps', () => {
  it('a snapshot stepped a few versions at a time while writes, deletes and compactions go on gives the bytes of the state it began from', () => {
    const sm = populated(1, 400);
    const expected = sm.snapshot();
    const builder = sm.beginSnapshot();
    const rng = createRng(2);
    let steps = 0;
    let compactAt = sm.revision - 50;
    while (!builder.step(7)) {
      steps++;
      put(sm, `k${rng.int(40)}`, `later-${steps}`);
      run(sm, { type: 'delete-range', request: { key: b(`k${rng.int(40)}`) } });
      put(sm, `new-${steps}`, 'n');
      if (steps % 10 === 0) {
        run(sm, { type: 'compact', revision: compactAt });
        compactAt = sm.revision - 5;
      }
    }
    assert.ok(steps > 20, `${steps} steps`);
    const got = builder.finish();
    assert.deepEqual(got, expected);
    assert.notDeepEqual(sm.snapshot(), expected, 'the state did move on meanwhile');
    // The bytes restore to the state the snapshot began from.
    const restored = KvStateMachine.fromSnapshot(got);
    assert.deepEqual(restored.snapshot(), expected);
    assert.equal(text(get(restored, 'leased').kvs[0]?.value), 'x');
  });

  it('restores history, leases with their keys, sessions and the compact revision from the binary form', () => {
    const sm = populated(3, 300);
    run(sm, { type: 'compact', revision: sm.revision - 100 });
    const copy = KvStateMachine.fromSnapshot(sm.snapshot());
    assert.deepEqual(copy.status(), sm.status());
    const old = sm.revision - 50;
    assert.deepEqual(copy.range({ key: b('k'), rangeEnd: b('l'), revision: old }), sm.range({ key: b('k'), rangeEnd: b('l'), revision: old }));
    // The session answers a retry with the first result instead of applying it again.
    const again = copy.apply({ command: { type: 'put', request: { key: b('tagged'), value: b('other') } }, client: { id: 'c1', seq: 1 } }, 10_001);
    assert.ok(again.ok);
    assert.equal(text(get(copy, 'tagged').kvs[0]?.value), 't');
    // The lease still owns its key: revoking it deletes the key.
    const leaseId = get(copy, 'leased').kvs[0]?.lease ?? 0;
    run(copy, { type: 'lease-revoke', id: leaseId });
    assert.equal(get(copy, 'leased').count, 0);
  });

  it('a body with a valid checksum but damaged structure is refused with the body offset, and the state kept', () => {
    const sm = populated(4, 50);
    const snap = sm.snapshot();
    const target = new KvStateMachine();
    put(target, 'mine', '1');
    const reseal = (body: Uint8Array): Uint8Array => {
      const out = new Uint8Array(40 + body.length);
      out.set(snap.subarray(0, 8), 0);
      out.set(createHash('sha256').update(body).digest(), 8);
      out.set(body, 40);
      return out;
    };
    const body = snap.subarray(40);
    assert.throws(() => target.restore(reseal(body.subarray(0, body.length - 3))), (e: unknown) => e instanceof CorruptionError && e.offset === 40 && /truncated|trailing|exceeds/.test(e.message) && /body offset \d+/.test(e.message));
    const badFormat = body.slice();
    badFormat[0] = 9;
    assert.throws(() => target.restore(reseal(badFormat)), (e: unknown) => e instanceof CorruptionError && /unknown format/.test(e.message));
    assert.throws(() => target.restore(reseal(new Uint8Array([...body, 0]))), (e: unknown) => e instanceof CorruptionError && /trailing/.test(e.message));
    assert.equal(get(target, 'mine').count, 1);
  });

  it('still restores a snapshot in the earlier tagged-JSON format', () => {
    const sm = new KvStateMachine();
    put(sm, 'a', '1');
    put(sm, 'a', '2');
    const versions = [...sm.range({ key: b('a'), revision: 2 }).kvs, ...sm.range({ key: b('a') }).kvs].map((kv) => [kv.key, kv.modRevision, 0, kv.value, kv.createRevision, kv.version, 0, 0]);
    const body = new TextEncoder().encode(
      toTaggedJson({ format: 1, appliedIndex: 0, revision: sm.revision, compactRevision: 0, nextLeaseId: 1, versions, leases: [], sessions: [] }),
    );
    const bytes = new Uint8Array(40 + body.length);
    bytes.set(new TextEncoder().encode('CKKVSNAP'), 0);
    bytes.set(createHash('sha256').update(body).digest(), 8);
    bytes.set(body, 40);
    const restored = KvStateMachine.fromSnapshot(bytes);
    assert.deepEqual(restored.snapshot(), sm.snapshot());
  });

  it('the key-value hash is equal on replicas with the same history even when sessions and applied index differ', () => {
    const a = new KvStateMachine();
    const c = new KvStateMachine();
    a.apply({ command: { type: 'put', request: { key: b('k'), value: b('v') } }, client: { id: 'x', seq: 1 } }, 5);
    c.apply({ command: { type: 'put', request: { key: b('k'), value: b('v') } } }, 9);
    const hash = (sm: KvStateMachine) => {
      const h = sm.beginKvHash();
      while (!h.step(Number.POSITIVE_INFINITY));
      return Buffer.from(h.finish().subarray(8, 40)).toString('hex');
    };
    assert.equal(hash(a), hash(c));
    assert.notDeepEqual(a.snapshot(), c.snapshot());
    put(c, 'k', 'w');
    assert.notEqual(hash(a), hash(c));
  });
});

describe('kv: compaction touches only keys changed since the last one', () => {
  it('after every compaction, reads at any revision still held equal those of a replica that never compacted; older versions are gone', () => {
    const rng = createRng(11);
    const sm = new KvStateMachine();
    const ref = new KvStateMachine();
    const both = (f: (x: KvStateMachine) => void) => {
      f(sm);
      f(ref);
    };
    let compactions = 0;
    for (let i = 0; i < 2500; i++) {
      const k = `k${rng.int(60)}`;
      const x = rng.int(10);
      if (x < 6) both((m) => put(m, k, `v${i}`));
      else if (x < 8) both((m) => run(m, { type: 'delete-range', request: { key: b(k) } }));
      else if (x === 8 && sm.revision - 2 > sm.status().compactRevision) {
        const at = sm.status().compactRevision + 1 + rng.int(sm.revision - 2 - sm.status().compactRevision);
        run(sm, { type: 'compact', revision: at });
        compactions++;
        for (let r = at; r <= sm.revision; r += 1 + rng.int(7)) {
          assert.deepEqual(sm.range({ key: b('k'), rangeEnd: b('l'), revision: r }).kvs, ref.range({ key: b('k'), rangeEnd: b('l'), revision: r }).kvs, `revision ${r} after compacting at ${at}`);
        }
        if (at > 1) assert.throws(() => sm.range({ key: b('k'), rangeEnd: b('l'), revision: at - 1 }), /compacted/);
      }
    }
    assert.ok(compactions > 50, `${compactions} compactions`);
    // What compaction keeps: one version per live key at the compact revision, plus later ones.
    const held = sm.status().keysHeld;
    assert.ok(held <= ref.status().keysHeld);
    const restored = KvStateMachine.fromSnapshot(sm.snapshot());
    run(restored, { type: 'compact', revision: restored.revision });
    run(sm, { type: 'compact', revision: sm.revision });
    assert.deepEqual(restored.snapshot(), sm.snapshot(), 'a compaction after a restore drops the same versions');
    const live = ref.range({ key: b('k'), rangeEnd: b('l') }).count;
    let versions = 0;
    const h = sm.beginKvHash();
    versions = h.versionCount;
    h.close();
    assert.equal(versions, live, 'after compacting at the current revision only live versions remain');
  });
});

describe('kv: key order with new keys merged lazily', () => {
  it('range scans stay in key order and complete while new keys, deletions, compactions and views interleave', () => {
    const rng = createRng(9);
    const sm = new KvStateMachine();
    const model = new Set<string>();
    const views: { close(): void }[] = [];
    for (let i = 0; i < 3000; i++) {
      const k = `k${rng.int(2000).toString(36)}`;
      const x = rng.int(20);
      if (x < 12) {
        put(sm, k, 'v');
        model.add(k);
      } else if (x < 15) {
        run(sm, { type: 'delete-range', request: { key: b(k) } });
        model.delete(k);
      } else if (x < 18) {
        const got = sm.range({ key: b('k'), rangeEnd: b('l'), keysOnly: true }).kvs.map((kv) => new TextDecoder().decode(kv.key));
        assert.deepEqual(got, [...model].sort(), `scan at step ${i}`);
      } else if (x === 18 && sm.revision - 3 > sm.status().compactRevision) {
        run(sm, { type: 'compact', revision: sm.revision - 3 });
      } else {
        views.push(sm.beginSnapshot());
      }
    }
    for (const v of views) v.close();
    assert.ok(sm.status().compactRevision > 100, 'compactions ran');
    assert.ok(sm.status().keysHeld >= model.size);
    const restored = KvStateMachine.fromSnapshot(sm.snapshot());
    assert.deepEqual(restored.snapshot(), sm.snapshot());
  });
});

function text(v: Uint8Array | undefined): string {
  return v === undefined ? '' : new TextDecoder().decode(v);
}
