import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/core/errors.ts';
import { prefixEnd, text } from '../../src/kv/bytes.ts';
import { KvError } from '../../src/kv/errors.ts';
import { KvStateMachine } from '../../src/kv/state-machine.ts';
import { b, del, expectError, get, pairs, prefix, put, run, txn } from './helpers.ts';

describe('kv: revisions (etcd mvcc)', () => {
  it('a fresh store is at revision 1; each put gets the next revision', () => {
    const sm = new KvStateMachine();
    assert.equal(sm.revision, 1);
    assert.equal(put(sm, 'a', '1').header.revision, 2);
    assert.equal(put(sm, 'b', '1').header.revision, 3);
    assert.equal(sm.revision, 3);
  });
  it('create_revision stays, mod_revision moves, version counts writes since creation', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // rev 2
    put(sm, 'other', 'x'); // rev 3
    put(sm, 'k', 'v2'); // rev 4
    const kv = get(sm, 'k').kvs[0];
    assert.ok(kv);
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version, text(kv.value)], [2, 4, 2, 'v2']);
  });
  it('a delete resets the version; the key is re-created with a new create_revision', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // 2
    put(sm, 'k', 'v2'); // 3
    assert.equal(del(sm, 'k').deleted, 1); // 4
    assert.equal(get(sm, 'k').count, 0);
    put(sm, 'k', 'v3'); // 5
    const kv = get(sm, 'k').kvs[0];
    assert.deepEqual([kv?.createRevision, kv?.modRevision, kv?.version], [5, 5, 1]);
  });
  it('deleting nothing does not move the revision; reads never do', () => {
    const sm = new KvStateMachine();
    put(sm, 'a', '1');
    const r = del(sm, 'zzz');
    assert.equal(r.deleted, 0);
    assert.equal(r.header.revision, 2);
    run(sm, { type: 'range', request: { key: b('a') } });
    assert.equal(sm.revision, 2);
  });
  it('put with prevKv returns the previous pair; without, none', () => {
    const sm = new KvStateMachine();
    assert.equal(put(sm, 'k', 'v1', { prevKv: true }).prevKv, undefined);
    const r = put(sm, 'k', 'v2', { prevKv: true });
    assert.equal(text(r.prevKv?.value ?? new Uint8Array()), 'v1');
    assert.equal(put(sm, 'k', 'v3').prevKv, undefined);
  });
  it('put ignoreValue keeps the value; on a missing key it fails with key-not-found', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'keep');
    put(sm, 'k', '', { ignoreValue: true });
    const kv = get(sm, 'k').kvs[0];
    assert.equal(text(kv?.value ?? new Uint8Array()), 'keep');
    assert.equal(kv?.version, 2);
    expectError(sm, { type: 'put', request: { key: b('missing'), value: b(''), ignoreValue: true } }, 'key-not-found');
    expectError(sm, { type: 'put', request: { key: b('k'), value: b('x'), ignoreValue: true } }, 'invalid-argument');
  });
  it('historical reads at a revision see the store as it was', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // 2
    put(sm, 'k', 'v2'); // 3
    del(sm, 'k'); // 4
    put(sm, 'j', 'x'); // 5
    assert.deepEqual(pairs(get(sm, 'k', { revision: 2 }).kvs), [['k', 'v1']]);
    assert.deepEqual(pairs(get(sm, 'k', { revision: 3 }).kvs), [['k', 'v2']]);
    assert.equal(get(sm, 'k', { revision: 4 }).count, 0);
    assert.equal(get(sm, 'j', { revision: 4 }).count, 0);
    assert.equal(get(sm, 'j', { revision: 5 }).count, 1);
    assert.throws(() => get(sm, 'k', { revision: 6 }), (e: unknown) => e instanceof KvError && e.kvCode === 'future-revision');
  });
});

describe('kv: range', () => {
  const fill = (): KvStateMachine => {
    const sm = new KvStateMachine();
    for (const [k, v] of [
      ['a', '5'],
      ['b/1', '3'],
      ['b/2', '1'],
      ['b/3', '2'],
      ['c', '4'],
    ]) put(sm, k as string, v as string);
    return sm;
  };
  it('selects one key, a [key, end) range, a prefix, and everything from a key with end "\\0"', () => {
    const sm = fill();
    assert.deepEqual(pairs(get(sm, 'b/1').kvs), [['b/1', '3']]);
    assert.deepEqual(
      pairs(sm.range({ key: b('b/1'), rangeEnd: b('b/3') }).kvs).map((p) => p[0]),
      ['b/1', 'b/2'],
    );
    assert.deepEqual(
      pairs(sm.range({ key: b('b/'), rangeEnd: prefixEnd(b('b/')) }).kvs).map((p) => p[0]),
      ['b/1', 'b/2', 'b/3'],
    );
    assert.deepEqual(
      pairs(sm.range({ key: b('b/2'), rangeEnd: new Uint8Array([0]) }).kvs).map((p) => p[0]),
      ['b/2', 'b/3', 'c'],
    );
    assert.equal(sm.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }).count, 5);
  });
  it('limit cuts the result and sets more; count is the full count', () => {
    const sm = fill();
    const r = prefix(sm, 'b/', { limit: 2 });
    assert.deepEqual(
      pairs(r.kvs).map((p) => p[0]),
      ['b/1', 'b/2'],
    );
    assert.equal(r.more, true);
    assert.equal(r.count, 3);
    assert.equal(prefix(sm, 'b/', { limit: 3 }).more, false);
  });
  it('countOnly returns no kvs; keysOnly returns empty values', () => {
    const sm = fill();
    const c = prefix(sm, 'b/', { countOnly: true });
    assert.deepEqual([c.kvs.length, c.count], [0, 3]);
    const k = prefix(sm, 'b/', { keysOnly: true });
    assert.deepEqual(
      k.kvs.map((kv) => kv.value.length),
      [0, 0, 0],
    );
  });
  it('sorts by key, value, version, create and mod revision, ascending and descending', () => {
    const sm = fill();
    put(sm, 'b/2', '9'); // b/2: version 2, mod 7
    const keys = (r: { kvs: { key: Uint8Array }[] }) => r.kvs.map((kv) => text(kv.key));
    assert.deepEqual(keys(prefix(sm, 'b/', { sortOrder: 'descend' })), ['b/3', 'b/2', 'b/1']);
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'value' })), ['b/3', 'b/1', 'b/2']); // none + value = ascend
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'value', sortOrder: 'descend' })), ['b/2', 'b/1', 'b/3']);
    // Ties (b/1 and b/3 both at version 1) follow the key, in the same direction.
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'version', sortOrder: 'descend' })), ['b/2', 'b/3', 'b/1']);
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'version', sortOrder: 'ascend' })), ['b/1', 'b/3', 'b/2']);
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'mod', sortOrder: 'descend' })), ['b/2', 'b/3', 'b/1']);
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'create', sortOrder: 'descend' })), ['b/3', 'b/2', 'b/1']);
    // Sort applies before limit.
    assert.deepEqual(keys(prefix(sm, 'b/', { sortTarget: 'mod', sortOrder: 'descend', limit: 1 })), ['b/2']);
  });
  it('keys are bytes: order is byte-wise, and non-UTF-8 bytes round-trip', () => {
    const sm = new KvStateMachine();
    const k1 = new Uint8Array([0x61, 0xff]);
    const k2 = new Uint8Array([0x61, 0x00, 0x01]);
    const k3 = new Uint8Array([0x61, 0x80]);
    for (const k of [k1, k2, k3]) run(sm, { type: 'put', request: { key: k, value: new Uint8Array([0xfe, 0x00]) } });
    const r = sm.range({ key: new Uint8Array([0x61]), rangeEnd: new Uint8Array([0x62]) });
    assert.deepEqual(
      r.kvs.map((kv) => [...kv.key]),
      [[...k2], [...k3], [...k1]],
    );
    assert.deepEqual([...(r.kvs[0]?.value ?? [])], [0xfe, 0x00]);
  });
  it('prefixEnd follows etcd: increments the last byte below 0xff; all-0xff gives "\\0"', () => {
    assert.deepEqual([...prefixEnd(b('ab'))], [0x61, 0x63]);
    assert.deepEqual([...prefixEnd(new Uint8Array([0x61, 0xff]))], [0x62]);
    assert.deepEqual([...prefixEnd(new Uint8Array([0xff, 0xff]))], [0]);
  });
});

describe('kv: delete-range', () => {
  it('deletes a prefix with prevKvs, in one revision', () => {
    const sm = new KvStateMachine();
    put(sm, 'p/1', 'a');
    put(sm, 'p/2', 'b');
    put(sm, 'q', 'c');
    const r = del(sm, 'p/', 'p0', true);
    assert.equal(r.deleted, 2);
    assert.deepEqual(pairs(r.prevKvs), [
      ['p/1', 'a'],
      ['p/2', 'b'],
    ]);
    assert.equal(r.header.revision, 5);
    assert.equal(prefix(sm, 'p/').count, 0);
    assert.equal(get(sm, 'q').count, 1);
  });
});

describe('kv: txn (compare, then/else)', () => {
  it('compares value, version, create and mod revision with =, !=, <, >', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // 2
    put(sm, 'k', 'v2'); // 3: version 2, create 2, mod 3
    const t = (compare: Parameters<typeof txn>[1]['compare']) => txn(sm, { compare, success: [], failure: [] }).succeeded;
    assert.equal(t([{ key: b('k'), target: 'value', result: 'equal', value: b('v2') }]), true);
    assert.equal(t([{ key: b('k'), target: 'value', result: 'not-equal', value: b('v2') }]), false);
    assert.equal(t([{ key: b('k'), target: 'value', result: 'less', value: b('v3') }]), true);
    assert.equal(t([{ key: b('k'), target: 'value', result: 'greater', value: b('v1') }]), true);
    assert.equal(t([{ key: b('k'), target: 'version', result: 'equal', number: 2 }]), true);
    assert.equal(t([{ key: b('k'), target: 'create', result: 'equal', number: 2 }]), true);
    assert.equal(t([{ key: b('k'), target: 'mod', result: 'greater', number: 2 }]), true);
    assert.equal(t([{ key: b('k'), target: 'mod', result: 'less', number: 3 }]), false);
    assert.equal(t([{ key: b('k'), target: 'lease', result: 'equal', number: 0 }]), true);
    // All compares must hold.
    assert.equal(
      t([
        { key: b('k'), target: 'version', result: 'equal', number: 2 },
        { key: b('k'), target: 'version', result: 'equal', number: 3 },
      ]),
      false,
    );
  });
  it('a missing key compares as version 0 / create 0, but a value compare on it always fails', () => {
    const sm = new KvStateMachine();
    const t = (compare: Parameters<typeof txn>[1]['compare']) => txn(sm, { compare, success: [], failure: [] }).succeeded;
    assert.equal(t([{ key: b('nope'), target: 'create', result: 'equal', number: 0 }]), true);
    assert.equal(t([{ key: b('nope'), target: 'version', result: 'equal', number: 0 }]), true);
    assert.equal(t([{ key: b('nope'), target: 'value', result: 'equal', value: b('') }]), false);
    assert.equal(t([{ key: b('nope'), target: 'value', result: 'not-equal', value: b('') }]), false);
  });
  it('a compare over a range holds only if it holds for every key', () => {
    const sm = new KvStateMachine();
    put(sm, 'r/1', 'x');
    put(sm, 'r/2', 'x');
    const cmp = (v: string) => txn(sm, { compare: [{ key: b('r/'), rangeEnd: b('r0'), target: 'value', result: 'equal', value: b(v) }], success: [], failure: [] }).succeeded;
    assert.equal(cmp('x'), true);
    put(sm, 'r/2', 'y');
    assert.equal(cmp('x'), false);
  });
  it('create-if-absent (create_revision = 0) runs then on the first try and else on the second', () => {
    const sm = new KvStateMachine();
    const attempt = () =>
      txn(sm, {
        compare: [{ key: b('lock'), target: 'create', result: 'equal', number: 0 }],
        success: [{ type: 'put', request: { key: b('lock'), value: b('owner-1') } }],
        failure: [{ type: 'range', request: { key: b('lock') } }],
      });
    const first = attempt();
    assert.equal(first.succeeded, true);
    assert.equal(first.header.revision, 2);
    const second = attempt();
    assert.equal(second.succeeded, false);
    assert.equal(second.header.revision, 2); // read-only branch: no new revision
    const rr = second.responses[0];
    assert.equal(rr?.type, 'range');
    if (rr?.type === 'range') assert.deepEqual(pairs(rr.response.kvs), [['lock', 'owner-1']]);
  });
  it('all writes of a txn share one revision; reads inside see the txn\'s own earlier writes', () => {
    const sm = new KvStateMachine();
    put(sm, 'gone', 'x'); // 2
    const r = txn(sm, {
      compare: [],
      success: [
        { type: 'put', request: { key: b('a'), value: b('1') } },
        { type: 'put', request: { key: b('b'), value: b('2') } },
        { type: 'delete-range', request: { key: b('gone') } },
        { type: 'range', request: { key: b('a'), rangeEnd: b('c') } },
      ],
      failure: [],
    });
    assert.equal(r.header.revision, 3);
    assert.equal(sm.revision, 3);
    const rr = r.responses[3];
    assert.ok(rr?.type === 'range');
    assert.deepEqual(pairs(rr.response.kvs), [
      ['a', '1'],
      ['b', '2'],
    ]);
    assert.deepEqual(
      rr.response.kvs.map((kv) => kv.modRevision),
      [3, 3],
    );
    assert.equal(get(sm, 'gone').count, 0);
    assert.equal(get(sm, 'gone', { revision: 2 }).count, 1);
  });
  it('refuses a txn that writes a key twice (etcd: duplicate key given in txn request)', () => {
    const sm = new KvStateMachine();
    const putA = { type: 'put' as const, request: { key: b('a'), value: b('1') } };
    expectError(sm, { type: 'txn', request: { compare: [], success: [putA, putA], failure: [] } }, 'duplicate-key');
    expectError(sm, { type: 'txn', request: { compare: [], success: [putA, { type: 'delete-range', request: { key: b('a'), rangeEnd: b('b') } }], failure: [] } }, 'duplicate-key');
    assert.equal(sm.revision, 1);
  });
  it('a txn whose branch puts with a missing lease fails as a whole and writes nothing', () => {
    const sm = new KvStateMachine();
    expectError(
      sm,
      {
        type: 'txn',
        request: {
          compare: [],
          success: [
            { type: 'put', request: { key: b('a'), value: b('1') } },
            { type: 'put', request: { key: b('b'), value: b('1'), lease: 99 } },
          ],
          failure: [],
        },
      },
      'lease-not-found',
    );
    assert.equal(get(sm, 'a').count, 0);
    assert.equal(sm.revision, 1);
  });
  it('limits the operations per branch (etcd --max-txn-ops)', () => {
    const sm = new KvStateMachine({ txnOpsMax: 2 });
    const ops = ['a', 'b', 'c'].map((k) => ({ type: 'put' as const, request: { key: b(k), value: b('1') } }));
    const msg = expectError(sm, { type: 'txn', request: { compare: [], success: ops, failure: [] } }, 'invalid-argument');
    assert.match(msg, /command\.request\.success has 3 elements, over the limit of 2/);
  });
});

describe('kv: compaction', () => {
  it('keeps the latest version at the compact revision, drops older ones, and reports compacted reads', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // 2
    put(sm, 'k', 'v2'); // 3
    put(sm, 'k', 'v3'); // 4
    run(sm, { type: 'compact', revision: 3 });
    assert.deepEqual(pairs(get(sm, 'k', { revision: 3 }).kvs), [['k', 'v2']]);
    assert.deepEqual(pairs(get(sm, 'k', { revision: 4 }).kvs), [['k', 'v3']]);
    assert.throws(() => get(sm, 'k', { revision: 2 }), (e: unknown) => e instanceof KvError && e.kvCode === 'compacted');
    assert.equal(sm.status().compactRevision, 3);
    assert.equal(sm.revision, 4); // compaction is not a write
  });
  it('drops a key whose latest version at the compact revision is a tombstone', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v1'); // 2
    del(sm, 'k'); // 3
    put(sm, 'j', 'x'); // 4
    assert.equal(sm.status().keysHeld, 2);
    run(sm, { type: 'compact', revision: 4 });
    assert.equal(sm.status().keysHeld, 1);
    assert.equal(get(sm, 'k').count, 0);
  });
  it('refuses to compact twice at the same revision or in the future', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'v');
    run(sm, { type: 'compact', revision: 2 });
    expectError(sm, { type: 'compact', revision: 2 }, 'compacted');
    expectError(sm, { type: 'compact', revision: 9 }, 'future-revision');
  });
});

describe('kv: limits and invalid requests', () => {
  it('refuses an empty key, naming the field', () => {
    const sm = new KvStateMachine();
    const msg = expectError(sm, { type: 'put', request: { key: new Uint8Array(), value: b('x') } }, 'invalid-argument');
    assert.match(msg, /command\.request\.key must not be empty/);
  });
  it('refuses keys over keyBytesMax and values over valueBytesMax with the limit in the message', () => {
    const sm = new KvStateMachine({ keyBytesMax: 8, valueBytesMax: 16, requestBytesMax: 1024 });
    assert.match(expectError(sm, { type: 'put', request: { key: new Uint8Array(9), value: b('') } }, 'invalid-argument'), /key is 9 bytes, over the limit of 8 \(keyBytesMax\)/);
    assert.match(expectError(sm, { type: 'put', request: { key: b('k'), value: new Uint8Array(17) } }, 'invalid-argument'), /value is 17 bytes, over the limit of 16 \(valueBytesMax\)/);
  });
  it('refuses a request over the default 1.5 MiB request limit', () => {
    const sm = new KvStateMachine();
    const msg = expectError(sm, { type: 'put', request: { key: b('k'), value: new Uint8Array(1.5 * 1024 * 1024) } }, 'invalid-argument');
    assert.match(msg, /request is 1572865 bytes, over the limit of 1572864 \(requestBytesMax\)/);
    // The value alone at the limit minus the key is fine.
    put(sm, 'k', 'x'.repeat(1.5 * 1024 * 1024 - 1));
  });
  it('refuses unknown fields, wrong types and bad enums, naming them', () => {
    const sm = new KvStateMachine();
    const bad = (command: unknown, re: RegExp) => {
      const r = sm.apply({ command } as never);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error.message, re);
    };
    bad({ type: 'put', request: { key: b('k'), value: b('v'), prev_kv: true } }, /command\.request\.prev_kv is not a known field/);
    bad({ type: 'put', request: { key: 'k', value: b('v') } }, /command\.request\.key must be bytes/);
    bad({ type: 'range', request: { key: b('k'), sortOrder: 'up' } }, /sortOrder must be one of none, ascend, descend/);
    bad({ type: 'range', request: { key: b('k'), limit: -1 } }, /limit must be in 0\.\./);
    bad({ type: 'range', request: { key: b('b'), rangeEnd: b('a') } }, /rangeEnd must be greater than key/);
    bad({ type: 'frobnicate' }, /command\.type must be one of/);
    bad({ type: 'txn', request: { compare: [{ key: b('k'), target: 'version', result: 'equal', value: b('1') }] } }, /value is for the value target/);
  });
  it('local reads throw InvalidArgumentError for bad requests', () => {
    const sm = new KvStateMachine();
    assert.throws(() => sm.range({ key: new Uint8Array() }), InvalidArgumentError);
  });
  it('checks its configuration', () => {
    assert.throws(() => new KvStateMachine({ valueBytesMax: 10, requestBytesMax: 5, keyBytesMax: 1 }), /valueBytesMax \(10\) must be <= requestBytesMax \(5\)/);
    assert.throws(() => new KvStateMachine({ leasesMax: 0 }), /leasesMax must be a positive integer/);
  });
});
