import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptionError } from '../../src/core/errors.ts';
import { createRng, type Rng } from '../../src/core/rng.ts';
import { text, utf8 } from '../../src/kv/bytes.ts';
import { decodeEntry, encodeEntry } from '../../src/kv/codec.ts';
import { KV_DEFAULTS, KvStateMachine } from '../../src/kv/state-machine.ts';
import type { KvCommand, KvEntry, KvResponse } from '../../src/kv/types.ts';
import { b, get, put, run } from './helpers.ts';

describe('kv: client request de-duplication', () => {
  it('a retried request (same client id and seq) returns the first result and is applied once', () => {
    const sm = new KvStateMachine();
    const entry: KvEntry = { command: { type: 'put', request: { key: b('k'), value: b('v'), prevKv: true } }, client: { id: 'c1', seq: 1 } };
    const first = sm.apply(entry);
    const retry = sm.apply(entry);
    assert.deepEqual(retry, first);
    assert.equal(sm.revision, 2);
    assert.equal(get(sm, 'k').kvs[0]?.version, 1);
  });
  it('the next seq is applied; an older seq is refused as stale', () => {
    const sm = new KvStateMachine();
    const putV = (seq: number, v: string) => sm.apply({ command: { type: 'put', request: { key: b('k'), value: b(v) } }, client: { id: 'c1', seq } });
    putV(1, 'a');
    putV(2, 'b');
    const stale = putV(1, 'a');
    assert.equal(stale.ok, false);
    if (!stale.ok) assert.equal(stale.error.code, 'stale-request');
    assert.equal(text(get(sm, 'k').kvs[0]?.value ?? new Uint8Array()), 'b');
  });
  it('remembers failed results too: a retry of a failed request fails the same way without re-running', () => {
    const sm = new KvStateMachine();
    const entry: KvEntry = { command: { type: 'lease-revoke', id: 5 }, client: { id: 'c', seq: 1 } };
    const first = sm.apply(entry);
    assert.equal(first.ok, false);
    run(sm, { type: 'lease-grant', id: 5, ttlSec: 10, nowMs: 0 });
    assert.deepEqual(sm.apply(entry), first, 'the retry does not revoke the new lease 5');
    assert.deepEqual(sm.leases(), [5]);
  });
  it('different clients are independent; the table evicts the least recently used beyond its limit', () => {
    const sm = new KvStateMachine({ clientSessionsMax: 2 });
    const inc = (client: string, seq: number) => sm.apply({ command: { type: 'put', request: { key: b(client), value: b(String(seq)) } }, client: { id: client, seq } });
    inc('a', 1);
    inc('b', 1);
    inc('a', 2); // a is now most recent
    inc('c', 1); // evicts b
    assert.equal(sm.status().clientSessions, 2);
    const revBefore = sm.revision;
    inc('a', 2); // still remembered: not applied again
    assert.equal(sm.revision, revBefore);
    inc('b', 1); // forgotten: applied again (the bounded table's documented cost)
    assert.equal(sm.revision, revBefore + 1);
  });
});

describe('kv: command encoding', () => {
  it('round-trips every command type through bytes, with binary keys and values', () => {
    const bin = new Uint8Array([0, 255, 10, 34, 92]);
    const commands: KvCommand[] = [
      { type: 'put', request: { key: bin, value: bin, lease: 3, prevKv: true } },
      { type: 'range', request: { key: bin, rangeEnd: new Uint8Array([0]), limit: 5, revision: 2, sortOrder: 'descend', sortTarget: 'mod', keysOnly: true } },
      { type: 'delete-range', request: { key: b('a'), rangeEnd: b('b'), prevKv: true } },
      {
        type: 'txn',
        request: {
          compare: [
            { key: b('a'), target: 'value', result: 'equal', value: bin },
            { key: b('a'), target: 'mod', result: 'less', number: 9 },
          ],
          success: [{ type: 'put', request: { key: b('a'), value: b('1') } }],
          failure: [{ type: 'range', request: { key: b('a') } }],
        },
      },
      { type: 'compact', revision: 4 },
      { type: 'lease-grant', id: 0, ttlSec: 30, nowMs: 123 },
      { type: 'lease-revoke', id: 2 },
      { type: 'lease-keepalive', id: 2, nowMs: 99 },
      { type: 'lease-expire', nowMs: 5, ids: [1, 2] },
    ];
    for (const command of commands) {
      const entry: KvEntry = { command, client: { id: 'cli', seq: 7 } };
      assert.deepEqual(decodeEntry(encodeEntry(entry), KV_DEFAULTS), entry);
    }
    // A Buffer (a Uint8Array subclass with its own toJSON) is encoded as bytes too.
    const buf = decodeEntry(encodeEntry({ command: { type: 'put', request: { key: Buffer.from('k'), value: Buffer.from('v') } } }), KV_DEFAULTS);
    assert.deepEqual(buf.command, { type: 'put', request: { key: b('k'), value: b('v') } });
  });
  it('refuses malformed bytes with a clear InvalidArgumentError; applyEncoded turns them into error results', () => {
    const sm = new KvStateMachine();
    const bad = (s: string, re: RegExp) => {
      assert.throws(() => decodeEntry(utf8(s), KV_DEFAULTS), re);
      const r = sm.applyEncoded(utf8(s));
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, 'invalid-argument');
    };
    bad('{"command":', /malformed JSON/);
    bad('{"command":{"type":"put","request":{"key":{"$b64":"***"},"value":{"$b64":""}}}}', /not valid base64/);
    bad('{"command":{"type":"put","request":{"key":"k","value":{"$b64":""}}}}', /command\.request\.key must be bytes/);
    bad('{"cmd":{}}', /entry\.cmd is not a known field/);
    assert.equal(sm.revision, 1);
    assert.ok(sm.applyEncoded(encodeEntry({ command: { type: 'put', request: { key: b('k'), value: b('v') } } })).ok);
  });
});

// A workload of random commands, valid and not, tagged with client ids (some retried).
function randomEntries(rng: Rng, count: number): KvEntry[] {
  const keys = ['a', 'b', 'c', 'd/1', 'd/2', 'd/3', 'e'];
  const entries: KvEntry[] = [];
  let nowMs = 0;
  const seqs = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    nowMs += rng.int(2000);
    const key = b(rng.pick(keys));
    const x = rng.int(100);
    let command: KvCommand;
    if (x < 35) command = { type: 'put', request: { key, value: b(`v${i}`), lease: rng.chance(0.3) ? 1 + rng.int(4) : 0, prevKv: rng.chance(0.5) } };
    else if (x < 45) command = { type: 'delete-range', request: rng.chance(0.5) ? { key } : { key: b('d/'), rangeEnd: b('d0'), prevKv: true } };
    else if (x < 60)
      command = {
        type: 'txn',
        request: {
          compare: [{ key, target: 'version', result: rng.pick(['equal', 'greater', 'less', 'not-equal'] as const), number: rng.int(3) }],
          success: [
            { type: 'put', request: { key, value: b(`t${i}`) } },
            { type: 'range', request: { key: b('a'), rangeEnd: new Uint8Array([0]) } },
          ],
          failure: [{ type: 'delete-range', request: { key } }],
        },
      };
    else if (x < 68) command = { type: 'range', request: { key: b('a'), rangeEnd: new Uint8Array([0]), revision: rng.int(i + 2) } };
    else if (x < 76) command = { type: 'lease-grant', id: rng.chance(0.5) ? 0 : 1 + rng.int(4), ttlSec: 1 + rng.int(5), nowMs };
    else if (x < 82) command = { type: 'lease-keepalive', id: 1 + rng.int(4), nowMs };
    else if (x < 88) command = { type: 'lease-expire', nowMs };
    else if (x < 91) command = { type: 'lease-revoke', id: 1 + rng.int(4) };
    else if (x < 95) command = { type: 'compact', revision: 1 + rng.int(i + 2) };
    else command = { type: 'put', request: { key: new Uint8Array(), value: b('invalid: empty key') } };
    const entry: KvEntry = { command };
    if (rng.chance(0.5)) {
      const id = `c${rng.int(5)}`;
      const last = seqs.get(id) ?? 0;
      // Mostly the next seq; sometimes a retry of the last one or a stale one.
      const seq = rng.chance(0.8) || last === 0 ? last + 1 : rng.chance(0.5) ? last : Math.max(1, last - 1);
      seqs.set(id, Math.max(last, seq));
      entry.client = { id, seq };
    }
    entries.push(entry);
  }
  return entries;
}

describe('kv: determinism and snapshots', () => {
  it('two replicas applying the same 3000 encoded entries return the same results and end byte-identical', () => {
    const entries = randomEntries(createRng(77), 3000).map(encodeEntry);
    const r1 = new KvStateMachine();
    const r2 = new KvStateMachine();
    let okCount = 0;
    for (let i = 0; i < entries.length; i++) {
      const data = entries[i] as Uint8Array;
      const a = r1.applyEncoded(data, i + 1);
      const c = r2.applyEncoded(data, i + 1);
      assert.deepEqual(a, c, `entry ${i + 1}`);
      if (a.ok) okCount++;
    }
    assert.ok(okCount > 1000 && okCount < 3000, `a mix of ok and failed results (${okCount} ok)`);
    assert.ok(r1.revision > 500);
    assert.deepEqual(r1.snapshot(), r2.snapshot());
    assert.equal(r1.stateHash(), r2.stateHash());
  });
  it('a replica restored from a snapshot mid-way, then fed the rest, ends byte-identical to one that applied everything', () => {
    const entries = randomEntries(createRng(78), 2000);
    const full = new KvStateMachine();
    const early = new KvStateMachine();
    for (let i = 0; i < 1000; i++) {
      full.apply(entries[i] as KvEntry, i + 1);
      early.apply(entries[i] as KvEntry, i + 1);
    }
    const snap = early.snapshot();
    const restored = KvStateMachine.fromSnapshot(snap);
    assert.deepEqual(restored.status(), { ...early.status(), watchers: 0 });
    for (let i = 1000; i < entries.length; i++) {
      const a = full.apply(entries[i] as KvEntry, i + 1);
      const c = restored.apply(entries[i] as KvEntry, i + 1);
      assert.deepEqual(c, a, `entry ${i + 1}`);
    }
    assert.deepEqual(restored.snapshot(), full.snapshot());
  });
  it('a snapshot restores keys, history, leases (with their keys), sessions and the applied index', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // 2
    put(sm, 'k', 'v2'); // 3
    run(sm, { type: 'lease-grant', id: 9, ttlSec: 60, nowMs: 1000 });
    put(sm, 'leased', 'x', { lease: 9 }); // 4
    sm.apply({ command: { type: 'put', request: { key: b('d'), value: b('1') } }, client: { id: 'c', seq: 3 } }, 10);
    const copy = KvStateMachine.fromSnapshot(sm.snapshot());
    assert.equal(copy.revision, 5);
    assert.equal(copy.appliedIndex, 10);
    assert.equal(text(copy.range({ key: b('k'), revision: 2 }).kvs[0]?.value ?? new Uint8Array()), 'v1');
    assert.deepEqual(copy.leaseTimeToLive(9, 1000, true).keys.map(text), ['leased']);
    assert.equal(copy.leaseTimeToLive(9, 1000).ttlSec, 60);
    // The session came along: the retry is answered, not re-applied.
    copy.apply({ command: { type: 'put', request: { key: b('d'), value: b('1') } }, client: { id: 'c', seq: 3 } }, 11);
    assert.equal(copy.revision, 5);
    // Revoke after restore deletes the attached key.
    run(copy, { type: 'lease-revoke', id: 9 });
    assert.equal(copy.range({ key: b('leased') }).count, 0);
  });
  it('refuses a damaged snapshot, naming the offset, and keeps its state', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v');
    const snap = sm.snapshot();
    const target = new KvStateMachine();
    put(target, 'mine', '1');
    const flipped = snap.slice();
    flipped[snap.length - 5] = (flipped[snap.length - 5] as number) ^ 0x01;
    assert.throws(() => target.restore(flipped), (e: unknown) => e instanceof CorruptionError && e.offset === 8 && /checksum mismatch/.test(e.message));
    assert.throws(() => target.restore(snap.slice(0, 20)), (e: unknown) => e instanceof CorruptionError && /shorter than/.test(e.message));
    const badMagic = snap.slice();
    badMagic[0] = 0x58;
    assert.throws(() => target.restore(badMagic), (e: unknown) => e instanceof CorruptionError && /bad magic/.test(e.message));
    assert.equal(target.range({ key: b('mine') }).count, 1);
  });
  it('the current state matches a plain map model after a random put/delete/txn workload', () => {
    const rng = createRng(5);
    const sm = new KvStateMachine();
    const model = new Map<string, string>();
    const keys = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < 2000; i++) {
      const k = rng.pick(keys);
      const x = rng.int(3);
      if (x === 0) {
        put(sm, k, `v${i}`);
        model.set(k, `v${i}`);
      } else if (x === 1) {
        run(sm, { type: 'delete-range', request: { key: b(k) } });
        model.delete(k);
      } else {
        const expect = model.get(k);
        const r = run(sm, {
          type: 'txn',
          request: {
            compare: [{ key: b(k), target: 'value', result: 'equal', value: b(expect ?? '') }],
            success: [{ type: 'put', request: { key: b(k), value: b(`t${i}`) } }],
            failure: [{ type: 'put', request: { key: b(k), value: b(`f${i}`) } }],
          },
        }) as Extract<KvResponse, { type: 'txn' }>;
        assert.equal(r.response.succeeded, expect !== undefined);
        model.set(k, expect !== undefined ? `t${i}` : `f${i}`);
      }
    }
    const all = sm.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
    assert.deepEqual(
      all.kvs.map((kv) => [text(kv.key), text(kv.value)]),
      [...model.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
    );
  });
});
