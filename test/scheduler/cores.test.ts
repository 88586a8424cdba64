import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { MasterCore } from '../../src/scheduler/master.ts';
import type { Ack, Heartbeat } from '../../src/scheduler/messages.ts';
import { PeerCore } from '../../src/scheduler/peer.ts';
import { ClusterState } from '../../src/scheduler/state.ts';
import { resolveSchedulerConfig, type WorkerInfo, type Workload } from '../../src/scheduler/types.ts';
import { WorkerCore } from '../../src/scheduler/worker.ts';

const cap = { cpuMilli: 4000, memoryMb: 8192 };
const workers = (n: number): WorkerInfo[] => Array.from({ length: n }, (_, i) => ({ id: `w${i + 1}`, capacity: cap }));
const web: Workload = { name: 'web', replicas: 3, cpuMilli: 1000, memoryMb: 1024 };

function planned(s: ClusterState, live: WorkerInfo[], strategy: 'spread' | 'binpack'): ClusterState {
  for (const c of s.plan(live, strategy)) s.apply(c);
  return s;
}

describe('scheduler state (seed 04.3.1: the master makes every placement decision)', () => {
  it('spread puts the replicas of a workload on distinct workers', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: web });
    planned(s, workers(3), 'spread');
    assert.deepEqual([...s.tasks.values()].sort(), ['w1', 'w2', 'w3']);
  });

  it('binpack fills the most utilised worker that still fits', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: web });
    planned(s, workers(3), 'binpack');
    assert.deepEqual([...s.tasks.values()], ['w1', 'w1', 'w1']);
  });

  it('a task that fits nowhere stays pending and is bound once room appears', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: { name: 'big', replicas: 3, cpuMilli: 3000, memoryMb: 100 } });
    planned(s, workers(2), 'spread');
    assert.equal([...s.tasks.values()].filter((w) => w === null).length, 1);
    planned(s, workers(3), 'spread');
    assert.deepEqual([...s.tasks.values()].sort(), ['w1', 'w2', 'w3']);
  });

  it('tasks of a lost worker are unbound and rebound elsewhere; live bindings do not move', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: web });
    planned(s, workers(4), 'spread');
    const before = new Map(s.tasks);
    const lost = s.tasks.get('web/0') as string;
    const live = workers(4).filter((w) => w.id !== lost);
    planned(s, live, 'spread');
    for (const [t, w] of before) if (w !== lost) assert.equal(s.tasks.get(t), w);
    assert.notEqual(s.tasks.get('web/0'), lost);
    assert.notEqual(s.tasks.get('web/0'), null);
  });

  it('scale down removes the highest indexes; scale up never reuses an index', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: web });
    planned(s, workers(3), 'spread');
    s.apply({ c: 'put', workload: { ...web, replicas: 1 } });
    planned(s, workers(3), 'spread');
    assert.deepEqual([...s.tasks.keys()], ['web/0']);
    s.apply({ c: 'put', workload: { ...web, replicas: 2 } });
    planned(s, workers(3), 'spread');
    assert.deepEqual([...s.tasks.keys()].sort(), ['web/0', 'web/3']);
    s.apply({ c: 'create', task: 'web/1' });
    assert.equal(s.tasks.has('web/1'), false, 'an old index must not come back');
  });

  it('delete removes the workload and its tasks; state round-trips through JSON', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: web });
    planned(s, workers(2), 'spread');
    const copy = ClusterState.fromJson(JSON.parse(JSON.stringify(s.toJson())));
    assert.deepEqual(copy.toJson(), s.toJson());
    s.apply({ c: 'delete', name: 'web' });
    assert.equal(s.tasks.size, 0);
  });
});

describe('scheduler config', () => {
  it('rejects a lease that could outlive the worker timeout (a task could run twice)', () => {
    assert.throws(() => resolveSchedulerConfig({ leaseMs: 1000, workerTimeoutMs: 1200, leaderStepDownMs: 500 }), /workerTimeoutMs .* must exceed leaseMs \+ leaderStepDownMs/);
    assert.throws(() => resolveSchedulerConfig({ leaseMs: 150 }), /leaseMs .* must exceed 2 × heartbeatIntervalMs/);
    assert.throws(() => resolveSchedulerConfig({ heartbeatIntervalMs: 0 }), ConfigError);
    assert.doesNotThrow(() => resolveSchedulerConfig({ fencing: 'none', leaseMs: 5000, workerTimeoutMs: 1200 }));
  });
});

describe('worker lease (self-fencing)', () => {
  const config = resolveSchedulerConfig();
  const ack = (sentMs: number, seq: number, tasks: string[], epoch = 1): Ack => ({ type: 'ack', sentMs, epoch, seq, tasks });

  it('heartbeats to every master each interval and runs the acknowledged tasks until the lease ends', () => {
    const w = new WorkerCore({ id: 'w1', capacity: cap, masters: ['m1', 'm2'], config, nowMs: 0 });
    w.tick(0);
    const out = w.drainOutgoing();
    assert.deepEqual(out.map((o) => o.to), ['m1', 'm2']);
    w.handleAck(ack(0, 0, ['web/0']), 3);
    assert.deepEqual(w.running(3), ['web/0']);
    assert.deepEqual(w.running(config.leaseMs - 1), ['web/0']);
    assert.deepEqual(w.running(config.leaseMs), [], 'the lease counts from the heartbeat send time');
    w.tick(config.leaseMs);
    assert.equal(w.fences, 1);
  });

  it('never goes back to an older assignment', () => {
    const w = new WorkerCore({ id: 'w1', capacity: cap, masters: ['m1'], config, nowMs: 0 });
    w.handleAck(ack(0, 5, ['a/0'], 2), 1);
    w.handleAck(ack(0, 9, ['b/0'], 1), 2);
    w.handleAck(ack(0, 4, ['c/0'], 2), 2);
    assert.deepEqual(w.running(2), ['a/0']);
    w.handleAck(ack(0, 0, ['d/0'], 3), 3);
    assert.deepEqual(w.running(3), ['d/0']);
  });

  it("with fencing 'none' the worker keeps its tasks without a master", () => {
    const w = new WorkerCore({ id: 'w1', capacity: cap, masters: ['m1'], config: resolveSchedulerConfig({ fencing: 'none' }), nowMs: 0 });
    w.handleAck(ack(0, 0, ['web/0']), 1);
    w.tick(100_000);
    assert.deepEqual(w.running(100_000), ['web/0']);
  });
});

describe('master core', () => {
  const config = resolveSchedulerConfig();
  const hb = (sentMs: number): Heartbeat => ({ type: 'hb', sentMs, running: [], capacity: cap });

  it('declares nobody lost during the grace period after it starts, then fences silent workers', () => {
    const s = new ClusterState();
    s.apply({ c: 'put', workload: { ...web, replicas: 2 } });
    s.apply({ c: 'create', task: 'web/0' });
    s.apply({ c: 'bind', task: 'web/0', worker: 'w9' }); // bound by a predecessor
    const m = new MasterCore(config);
    m.activate(0, 1);
    m.handleHeartbeat('w1', hb(0), 0, s);
    for (const c of m.plan(config.workerTimeoutMs - 1, s)) s.apply(c);
    assert.equal(s.tasks.get('web/0'), 'w9', 'w9 may still hold a lease from the old master');
    m.handleHeartbeat('w1', hb(config.workerTimeoutMs), config.workerTimeoutMs, s);
    const cmds = m.plan(config.workerTimeoutMs, s);
    assert.equal(m.lost, 1);
    // w9 comes back before the unbinding is applied: it is told to run nothing.
    const a = m.handleHeartbeat('w9', hb(config.workerTimeoutMs), config.workerTimeoutMs, s);
    assert.deepEqual(a?.tasks, []);
    for (const c of cmds) s.apply(c);
    assert.notEqual(s.tasks.get('web/0'), 'w9');
  });

  it('an inactive master (a follower) does not answer heartbeats', () => {
    const m = new MasterCore(config);
    assert.equal(m.handleHeartbeat('w1', hb(0), 0, new ClusterState()), undefined);
    m.activate(0, 3);
    const a1 = m.handleHeartbeat('w1', hb(0), 0, new ClusterState());
    const a2 = m.handleHeartbeat('w1', hb(0), 0, new ClusterState());
    assert.equal(a1?.epoch, 3);
    assert.ok((a2?.seq ?? 0) > (a1?.seq ?? 0));
  });
});

describe('distributed peer (seed 04.3.2: no master, nodes decide)', () => {
  it('peers with the same live view own disjoint task sets that cover every replica', () => {
    const ids = ['p1', 'p2', 'p3', 'p4'];
    const peers = ids.map((id) => new PeerCore(id));
    peers[0]?.submit({ op: 'put', workload: { ...web, replicas: 10 } });
    for (const p of peers) p.merge(peers[0]?.entries() ?? []);
    const all = peers.flatMap((p) => p.owned(ids));
    assert.equal(all.length, 10);
    assert.equal(new Set(all).size, 10);
  });

  it('last writer wins per workload; merge reports what the other side lacks', () => {
    const a = new PeerCore('p1');
    const b = new PeerCore('p2');
    a.submit({ op: 'put', workload: web });
    b.submit({ op: 'put', workload: { ...web, replicas: 7 } }); // same version, origin p2 wins
    assert.equal(a.merge(b.entries()), false);
    assert.equal(b.merge(a.entries()), false);
    assert.deepEqual(a.entries(), b.entries());
    assert.equal(a.workloads()[0]?.replicas, 7);
    a.submit({ op: 'delete', name: 'web' });
    assert.equal(b.merge(a.entries()), false);
    assert.deepEqual(b.workloads(), []);
    const c = new PeerCore('p3');
    assert.equal(b.merge(c.entries()), true, 'p3 lacks the tombstone');
  });
});
