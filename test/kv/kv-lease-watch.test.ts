import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/core/errors.ts';
import { text } from '../../src/kv/bytes.ts';
import { KvError } from '../../src/kv/errors.ts';
import { KvStateMachine } from '../../src/kv/state-machine.ts';
import type { KvResponse, WatchResponse } from '../../src/kv/types.ts';
import { b, del, expectError, get, put, run, txn } from './helpers.ts';

function grant(sm: KvStateMachine, ttlSec: number, nowMs: number, id = 0): number {
  const r = run(sm, { type: 'lease-grant', id, ttlSec, nowMs }) as Extract<KvResponse, { type: 'lease-grant' }>;
  return r.response.id;
}

function expire(sm: KvStateMachine, nowMs: number, ids?: number[]): number[] {
  const cmd = ids === undefined ? { type: 'lease-expire' as const, nowMs } : { type: 'lease-expire' as const, nowMs, ids };
  return (run(sm, cmd) as Extract<KvResponse, { type: 'lease-expire' }>).response.expired;
}

describe('kv: leases', () => {
  it('grant with id 0 picks ids 1, 2, ...; an explicit id is kept; a taken id is refused', () => {
    const sm = new KvStateMachine();
    assert.equal(grant(sm, 10, 0), 1);
    assert.equal(grant(sm, 10, 0, 7), 7);
    assert.equal(grant(sm, 10, 0), 2);
    expectError(sm, { type: 'lease-grant', id: 7, ttlSec: 10, nowMs: 0 }, 'lease-exists');
    assert.deepEqual(sm.leases(), [1, 2, 7]);
  });
  it('raises a TTL below the minimum to it (etcd minimum TTL)', () => {
    const sm = new KvStateMachine({ leaseTtlSecMin: 5 });
    const r = run(sm, { type: 'lease-grant', id: 0, ttlSec: 1, nowMs: 0 }) as Extract<KvResponse, { type: 'lease-grant' }>;
    assert.equal(r.response.ttlSec, 5);
  });
  it('revoke deletes the attached keys in one revision', () => {
    const sm = new KvStateMachine();
    const id = grant(sm, 10, 0);
    put(sm, 'a', '1', { lease: id }); // 2
    put(sm, 'b', '1', { lease: id }); // 3
    put(sm, 'c', '1'); // 4
    assert.deepEqual(sm.leaseTimeToLive(id, 0, true).keys.map(text), ['a', 'b']);
    run(sm, { type: 'lease-revoke', id });
    assert.equal(sm.revision, 5);
    assert.equal(get(sm, 'a').count + get(sm, 'b').count, 0);
    assert.equal(get(sm, 'c').count, 1);
    expectError(sm, { type: 'lease-revoke', id }, 'lease-not-found');
  });
  it('a put to a missing lease is refused; a put without a lease detaches the key', () => {
    const sm = new KvStateMachine();
    expectError(sm, { type: 'put', request: { key: b('a'), value: b('1'), lease: 42 } }, 'lease-not-found');
    const id = grant(sm, 10, 0);
    put(sm, 'a', '1', { lease: id });
    put(sm, 'a', '2', { ignoreLease: true });
    assert.equal(get(sm, 'a').kvs[0]?.lease, id);
    put(sm, 'a', '3');
    assert.equal(get(sm, 'a').kvs[0]?.lease, 0);
    run(sm, { type: 'lease-revoke', id });
    assert.equal(get(sm, 'a').count, 1, 'the detached key survives the revoke');
  });
  it('a deleted key no longer belongs to its lease', () => {
    const sm = new KvStateMachine();
    const id = grant(sm, 10, 0);
    put(sm, 'a', '1', { lease: id });
    del(sm, 'a');
    assert.deepEqual(sm.leaseTimeToLive(id, 0, true).keys, []);
  });
  it('expiry happens only through an expire command, at the command\'s time', () => {
    const sm = new KvStateMachine();
    const id = grant(sm, 10, 1_000); // expires at 11_000
    put(sm, 'a', '1', { lease: id });
    assert.deepEqual(sm.expiredLeases(10_999), []);
    assert.deepEqual(sm.expiredLeases(11_000), [id]);
    assert.equal(get(sm, 'a').count, 1, 'no clock: nothing expires by itself');
    assert.equal(sm.leaseTimeToLive(id, 11_500).ttlSec, 0);
    assert.deepEqual(expire(sm, 11_000), [id]);
    assert.equal(get(sm, 'a').count, 0);
    assert.throws(() => sm.leaseTimeToLive(id, 11_000), (e: unknown) => e instanceof KvError && e.kvCode === 'lease-not-found');
  });
  it('keep-alive extends the expiry; an expire proposed before a keep-alive then skips the lease', () => {
    const sm = new KvStateMachine();
    const id = grant(sm, 10, 0); // expires at 10_000
    assert.equal(sm.leaseTimeToLive(id, 2_500).ttlSec, 8); // 7.5 s left, rounded up
    const ka = run(sm, { type: 'lease-keepalive', id, nowMs: 9_000 }) as Extract<KvResponse, { type: 'lease-keepalive' }>;
    assert.equal(ka.response.ttlSec, 10);
    assert.equal(sm.leaseTimeToLive(id, 9_000).ttlSec, 10);
    // The leader had seen the lease expired at 10_000 and proposed ids=[id] with nowMs 10_000.
    assert.deepEqual(expire(sm, 10_000, [id]), []);
    assert.deepEqual(sm.leases(), [id]);
    assert.deepEqual(expire(sm, 19_000, [id]), [id]);
    expectError(sm, { type: 'lease-keepalive', id, nowMs: 0 }, 'lease-not-found');
  });
  it('expire without ids revokes every expired lease, earliest first, one revision per lease with keys', () => {
    const sm = new KvStateMachine();
    const l1 = grant(sm, 20, 0);
    const l2 = grant(sm, 10, 0);
    const l3 = grant(sm, 100, 0);
    put(sm, 'x', '1', { lease: l1 }); // 2
    put(sm, 'y', '1', { lease: l2 }); // 3
    assert.deepEqual(expire(sm, 50_000), [l2, l1]);
    assert.equal(sm.revision, 5);
    assert.deepEqual(sm.leases(), [l3]);
  });
  it('enforces leasesMax', () => {
    const sm = new KvStateMachine({ leasesMax: 2 });
    grant(sm, 10, 0);
    grant(sm, 10, 0);
    assert.match(expectError(sm, { type: 'lease-grant', id: 0, ttlSec: 10, nowMs: 0 }, 'quota-exceeded'), /leasesMax/);
  });
});

function events(r: WatchResponse | null): string[] {
  return (r?.events ?? []).map((e) => `${e.type} ${text(e.kv.key)}=${text(e.kv.value)}@${e.kv.modRevision}${e.prevKv ? ` prev=${text(e.prevKv.value)}` : ''}`);
}

describe('kv: watch', () => {
  it('delivers PUT and DELETE events for a key after the current revision', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', 'old'); // 2
    const w = sm.watches.watch({ key: b('k') });
    assert.equal(w.created, true);
    assert.equal(sm.watches.poll(w.watchId), null);
    put(sm, 'k', 'v1'); // 3
    put(sm, 'other', 'x'); // 4
    del(sm, 'k'); // 5
    assert.deepEqual(events(sm.watches.poll(w.watchId)), ['PUT k=v1@3', 'DELETE k=@5']);
    assert.equal(sm.watches.poll(w.watchId), null);
  });
  it('replays history from a start revision, with prevKv, over a prefix', () => {
    const sm = new KvStateMachine();
    put(sm, 'p/a', '1'); // 2
    put(sm, 'p/b', '1'); // 3
    put(sm, 'p/a', '2'); // 4
    put(sm, 'q', '1'); // 5
    const w = sm.watches.watch({ key: b('p/'), rangeEnd: b('p0'), startRevision: 3, prevKv: true });
    assert.deepEqual(events(sm.watches.poll(w.watchId)), ['PUT p/b=1@3', 'PUT p/a=2@4 prev=1']);
  });
  it('filters PUT or DELETE events', () => {
    const sm = new KvStateMachine();
    const w = sm.watches.watch({ key: b('k'), filters: ['noput'] });
    put(sm, 'k', 'v');
    del(sm, 'k');
    assert.deepEqual(events(sm.watches.poll(w.watchId)), ['DELETE k=@3']);
  });
  it('never splits a revision across responses; eventsMax bounds each response otherwise', () => {
    const sm = new KvStateMachine();
    const w = sm.watches.watch({ key: b('t/'), rangeEnd: b('t0') });
    txn(sm, {
      compare: [],
      success: ['t/1', 't/2', 't/3'].map((k) => ({ type: 'put' as const, request: { key: b(k), value: b('x') } })),
      failure: [],
    }); // rev 2, three events
    put(sm, 't/4', 'y'); // 3
    const first = sm.watches.poll(w.watchId, 2);
    assert.deepEqual(events(first), ['PUT t/1=x@2', 'PUT t/2=x@2', 'PUT t/3=x@2']);
    assert.deepEqual(events(sm.watches.poll(w.watchId, 2)), ['PUT t/4=y@3']);
  });
  it('cancels a watch whose start revision was compacted, reporting the compact revision', () => {
    const sm = new KvStateMachine();
    put(sm, 'k', '1'); // 2
    put(sm, 'k', '2'); // 3
    put(sm, 'k', '3'); // 4
    run(sm, { type: 'compact', revision: 3 });
    const w = sm.watches.watch({ key: b('k'), startRevision: 2 });
    assert.equal(w.canceled, true);
    assert.equal(w.compactRevision, 3);
    const ok = sm.watches.watch({ key: b('k'), startRevision: 3 });
    assert.equal(ok.canceled, undefined);
    assert.deepEqual(events(sm.watches.poll(ok.watchId)), ['PUT k=2@3', 'PUT k=3@4']);
  });
  it('cancels a slow watcher whose next revision was compacted before it polled', () => {
    const sm = new KvStateMachine();
    const w = sm.watches.watch({ key: b('k') });
    put(sm, 'k', '1'); // 2
    put(sm, 'k', '2'); // 3
    run(sm, { type: 'compact', revision: 3 });
    const r = sm.watches.poll(w.watchId);
    assert.equal(r?.canceled, true);
    assert.equal(r?.compactRevision, 3);
    assert.equal(sm.watches.poll(w.watchId), null, 'a canceled watcher is gone');
  });
  it('cancel stops a watcher; pollAll serves every watcher; the hub has a size limit', () => {
    const sm = new KvStateMachine({ watchersMax: 2 });
    const w1 = sm.watches.watch({ key: b('a') });
    const w2 = sm.watches.watch({ key: b('b') });
    assert.throws(() => sm.watches.watch({ key: b('c') }), InvalidArgumentError);
    put(sm, 'a', '1');
    put(sm, 'b', '1');
    assert.deepEqual(
      sm.watches.pollAll().map((r) => r.watchId),
      [w1.watchId, w2.watchId],
    );
    assert.equal(sm.watches.cancel(w1.watchId), true);
    put(sm, 'a', '2');
    assert.equal(sm.watches.poll(w1.watchId), null);
  });
  it('a lease revoke shows up as DELETE events', () => {
    const sm = new KvStateMachine();
    const id = grant(sm, 10, 0);
    put(sm, 'e', '1', { lease: id }); // 2
    const w = sm.watches.watch({ key: b('e') });
    run(sm, { type: 'lease-revoke', id }); // 3
    assert.deepEqual(events(sm.watches.poll(w.watchId)), ['DELETE e=@3']);
  });
});
