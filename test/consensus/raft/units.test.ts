/**
 * Unit tests of the Raft building blocks: quorum arithmetic, config validation, storage, the
 * log's conflict search, the inflight window.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/core/errors.ts';
import { resolveRaftConfig } from '../../../src/consensus/raft/config.ts';
import { RaftLog } from '../../../src/consensus/raft/log.ts';
import { Inflights } from '../../../src/consensus/raft/progress.ts';
import { jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult } from '../../../src/consensus/raft/quorum.ts';
import { nextConfig } from '../../../src/consensus/raft/raft.ts';
import { MemoryStorage } from '../../../src/consensus/raft/storage.ts';
import { emptyConfState, type Entry } from '../../../src/consensus/raft/types.ts';
import { crc32, frame, unframeAll } from '../../../src/scenarios/raft-wal.ts';

const ent = (index: number, term: number): Entry => ({ type: 'normal', index, term, data: new Uint8Array(0) });

describe('raft/quorum', () => {
  it('seed 04.6.4: committed iff |{n | n has the entry}| > |N|/2', () => {
    const acked = { a: 5, b: 3, c: 1 } as Record<string, number>;
    assert.equal(majorityCommitted(['a', 'b', 'c'], (id) => acked[id] ?? 0), 3);
    assert.equal(majorityCommitted(['a', 'b', 'c', 'd'], (id) => acked[id] ?? 0), 1);
    assert.equal(majorityCommitted(['a'], (id) => acked[id] ?? 0), 5);
  });
  it('a joint configuration commits the smaller of its two majorities', () => {
    const acked = { a: 9, b: 9, c: 2, d: 2, e: 1 } as Record<string, number>;
    assert.equal(jointCommitted(['a', 'b', 'c'], ['c', 'd', 'e'], (id) => acked[id] ?? 0), 2);
    assert.equal(jointCommitted(['a', 'b', 'c'], [], (id) => acked[id] ?? 0), 9);
  });
  it('votes: won / lost / pending, and joint elections need both halves', () => {
    const v = new Map([
      ['a', true],
      ['b', false],
    ]);
    assert.equal(majorityVoteResult(['a', 'b', 'c'], v), 'pending');
    v.set('c', true);
    assert.equal(majorityVoteResult(['a', 'b', 'c'], v), 'won');
    assert.equal(majorityVoteResult(['a', 'b', 'c'], new Map([['b', false], ['c', false]])), 'lost');
    assert.equal(jointVoteResult(['a', 'b', 'c'], ['d', 'e', 'f'], v), 'pending');
    assert.equal(jointVoteResult(['a', 'b', 'c'], ['b', 'd', 'e'], new Map([['b', false], ['d', false]])), 'lost');
  });
});

describe('raft/config', () => {
  it('defaults are valid and documented units are honoured', () => {
    const c = resolveRaftConfig();
    assert.equal(c.electionTimeoutTicks, 10);
    assert.equal(c.electionTimeoutRandomTicks, 10);
    assert.equal(resolveRaftConfig({ electionTimeoutTicks: 30 }).electionTimeoutRandomTicks, 30);
  });
  it('cross-field validation: electionTimeoutTicks > heartbeatTicks, lease needs CheckQuorum', () => {
    assert.throws(() => resolveRaftConfig({ electionTimeoutTicks: 2, heartbeatTicks: 2 }), (e: Error) => e instanceof ConfigError && /heartbeatTicks/.test(e.message));
    assert.throws(() => resolveRaftConfig({ maxInflightMsgs: 0 }), /maxInflightMsgs/);
    assert.throws(() => resolveRaftConfig({ readOnlyOption: 'lease-based', checkQuorum: false }), /checkQuorum/);
    assert.throws(() => resolveRaftConfig({ readOnlyOption: 'lease-based', leaseMarginTicks: 10 }), /leaseMarginTicks/);
  });
});

describe('raft/storage and log', () => {
  it('MemoryStorage appends with truncation, snapshots and compacts', () => {
    const s = MemoryStorage.bootstrap(emptyConfState());
    s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    s.append([ent(3, 3), ent(4, 3)]);
    assert.deepEqual(s.allEntries().map((e) => e.term), [1, 1, 3, 3]);
    s.createSnapshot(3, emptyConfState(), new Uint8Array([1]));
    s.compact(2);
    assert.equal(s.firstIndex(), 3);
    assert.equal(s.term(2), 1);
    assert.equal(s.term(1), undefined);
    assert.throws(() => s.compact(4), /latest snapshot is at 3/);
  });
  it('findConflictByTerm returns the last index whose term is <= the given term', () => {
    const s = MemoryStorage.bootstrap(emptyConfState());
    s.append([ent(1, 1), ent(2, 2), ent(3, 2), ent(4, 5), ent(5, 5)]);
    const log = new RaftLog(s);
    assert.deepEqual(log.findConflictByTerm(5, 4), { index: 3, term: 2 });
    assert.deepEqual(log.findConflictByTerm(5, 5), { index: 5, term: 5 });
    assert.deepEqual(log.findConflictByTerm(5, 1), { index: 1, term: 1 });
  });
  it('the unstable tail replaces conflicting stable entries', () => {
    const s = MemoryStorage.bootstrap(emptyConfState());
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    const log = new RaftLog(s);
    assert.equal(log.maybeAppend(1, 1, [ent(2, 2)]), 2);
    assert.equal(log.lastIndex(), 2);
    assert.equal(log.term(2), 2);
  });
  it('the inflight window is bounded', () => {
    const w = new Inflights(2);
    w.add(3);
    w.add(5);
    assert.ok(w.full());
    assert.throws(() => w.add(7));
    w.freeLE(4);
    assert.equal(w.count, 1);
  });
  it('nextConfig: voter changes enter a joint configuration, learner-only changes do not', () => {
    const cs = { voters: ['a', 'b', 'c'], learners: [], votersOutgoing: [], learnersNext: [] };
    const j = nextConfig(cs, { changes: [{ type: 'add-voter', node: 'd' }] });
    assert.deepEqual(j.votersOutgoing, ['a', 'b', 'c']);
    const l = nextConfig(cs, { changes: [{ type: 'add-learner', node: 'd' }] });
    assert.deepEqual(l.votersOutgoing, []);
    assert.deepEqual(l.learners, ['d']);
    const demote = nextConfig(cs, { changes: [{ type: 'add-learner', node: 'c' }] });
    assert.deepEqual(demote.learnersNext, ['c']);
    assert.deepEqual(demote.voters, ['a', 'b']);
  });
});

describe('raft WAL records', () => {
  it('CRC-32 matches the IEEE check value and framing rejects a torn or corrupt tail', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    const a = frame({ x: 1 });
    const b = frame({ y: 2 });
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    assert.equal(unframeAll(both).bodies.length, 2);
    assert.equal(unframeAll(both.subarray(0, both.length - 3)).validBytes, a.length);
    const bad = both.slice();
    bad[a.length + 10] = (bad[a.length + 10] as number) ^ 0xff;
    assert.deepEqual(unframeAll(bad).bodies, [{ x: 1 }]);
  });
});
