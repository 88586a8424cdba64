/**
 * Paxos cores against the sentences of "Paxos Made Simple", "Paxos Made Moderately Complex"
 * and Flexible Paxos. Messages are delivered by hand (no simulator, no time).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DefiniteError } from '../../../src/core/errors.ts';
import type { NodeId } from '../../../src/core/ids.ts';
import { createRng } from '../../../src/core/rng.ts';
import { compareBallots, nextBallot, ZERO_BALLOT } from '../../../src/consensus/paxos/ballot.ts';
import { quorumSizes, validatePaxosConfig } from '../../../src/consensus/paxos/config.ts';
import { MultiPaxos, type PaxosConfig, type PaxosMsg, type PaxosReady, valueKey } from '../../../src/consensus/paxos/index.ts';
import { Acceptor, Learner, Proposer, type SingleMsg } from '../../../src/consensus/paxos/single.ts';

describe('ballots', () => {
  it('are totally ordered by round then node, and nextBallot is strictly above what was seen', () => {
    assert.ok(compareBallots({ round: 1, node: 'n2' }, { round: 1, node: 'n1' }) > 0);
    assert.ok(compareBallots({ round: 2, node: 'n1' }, { round: 1, node: 'n9' }) > 0);
    assert.ok(compareBallots({ round: 0, node: 'n1' }, ZERO_BALLOT) > 0);
    const seen = { round: 4, node: 'n3' };
    assert.deepEqual(nextBallot(seen, 'n5'), { round: 4, node: 'n5' });
    assert.deepEqual(nextBallot(seen, 'n1'), { round: 5, node: 'n1' });
  });
});

describe('single-decree Paxos (Paxos Made Simple §2)', () => {
  const acceptors = ['a1', 'a2', 'a3'];

  it('P1a: an acceptor promises a prepare only above every ballot it promised, and nacks with its promise otherwise', () => {
    const a = new Acceptor('a1', []);
    a.handle('p1', { type: 'prepare', ballot: { round: 2, node: 'p1' } });
    const rd = a.poll();
    assert.deepEqual(rd.persist?.promised, { round: 2, node: 'p1' }, 'the promise is handed out for persistence');
    assert.equal(rd.messages[0]?.msg.type, 'promise');
    a.handle('p2', { type: 'prepare', ballot: { round: 1, node: 'p2' } });
    const rd2 = a.poll();
    assert.equal(rd2.persist, undefined, 'a refusal changes no durable state');
    assert.deepEqual(rd2.messages[0]?.msg, { type: 'nack', ballot: { round: 1, node: 'p2' }, promised: { round: 2, node: 'p1' } });
  });

  it('an acceptor accepts unless it promised a higher ballot; the accepted value comes back in later promises', () => {
    const a = new Acceptor('a1', ['l1']);
    a.handle('p1', { type: 'accept', ballot: { round: 1, node: 'p1' }, value: 'x' });
    const rd = a.poll();
    assert.deepEqual(rd.persist?.accepted, { ballot: { round: 1, node: 'p1' }, value: 'x' });
    assert.deepEqual(
      rd.messages.map((m) => m.to),
      ['l1', 'p1'],
      'accepted goes to every learner and to the proposer',
    );
    a.handle('p2', { type: 'prepare', ballot: { round: 3, node: 'p2' } });
    const promise = a.poll().messages[0]?.msg;
    assert.deepEqual(promise, { type: 'promise', ballot: { round: 3, node: 'p2' }, accepted: { ballot: { round: 1, node: 'p1' }, value: 'x' } });
    a.handle('p1', { type: 'accept', ballot: { round: 2, node: 'p1' }, value: 'y' });
    assert.equal(a.poll().messages[0]?.msg.type, 'nack');
    assert.equal(a.accepted?.value, 'x');
  });

  it('a prepare overtaken by its own accept (reordering) is promised again, not refused', () => {
    const a = new Acceptor('a1', []);
    const b = { round: 1, node: 'p1' };
    a.handle('p1', { type: 'accept', ballot: b, value: 'x' });
    a.poll();
    a.handle('p1', { type: 'prepare', ballot: b });
    const rd = a.poll();
    assert.equal(rd.messages[0]?.msg.type, 'promise');
    assert.equal(rd.persist, undefined, 'nothing new to persist');
  });

  /** Runs proposers and acceptors to quiescence, delivering every message in FIFO order. */
  function runAll(proposers: Proposer[], accs: Acceptor[], learner: Learner, drop: (to: NodeId, m: SingleMsg) => boolean = () => false): number {
    const queue: { from: NodeId; to: NodeId; msg: SingleMsg }[] = [];
    let sent = 0;
    const pump = () => {
      for (const p of proposers) for (const o of p.poll()) queue.push({ from: p.id, to: o.to, msg: o.msg });
      for (const a of accs) for (const o of a.poll().messages) queue.push({ from: a.id, to: o.to, msg: o.msg });
    };
    pump();
    while (queue.length > 0) {
      const { from, to, msg } = queue.shift() as { from: NodeId; to: NodeId; msg: SingleMsg };
      sent++;
      if (drop(to, msg)) continue;
      const acc = accs.find((a) => a.id === to);
      if (acc) acc.handle(from, msg);
      for (const p of proposers) if (p.id === to) p.handle(from, msg);
      if (to === 'l1') learner.handle(from, msg);
      pump();
    }
    return sent;
  }

  it('P2: once a value is chosen, a later proposer with a higher ballot proposes that same value', () => {
    const accs = acceptors.map((id) => new Acceptor(id, ['l1']));
    const learner = new Learner(2);
    const p1 = new Proposer('p1', acceptors, 2, 2);
    p1.propose('first');
    runAll([p1], accs, learner);
    assert.equal(learner.chosen, 'first');
    const p2 = new Proposer('p2', acceptors, 2, 2);
    p2.propose('second');
    runAll([p2], accs, learner);
    assert.equal(p2.proposedValue, 'first', 'phase 1 found the accepted value and adopted it');
    assert.equal(p2.phase, 'done');
    assert.equal(learner.chosen, 'first');
  });

  it('a nacked proposer skips ahead past the promised ballot instead of counting up one by one', () => {
    const accs = acceptors.map((id) => new Acceptor(id, []));
    for (const a of accs) a.handle('px', { type: 'prepare', ballot: { round: 50, node: 'px' } });
    for (const a of accs) a.poll();
    const p = new Proposer('p1', acceptors, 2, 2);
    p.propose('v');
    runAll([p], accs, new Learner(2));
    assert.equal(p.phase, 'idle', 'every acceptor refused round 0');
    p.retry();
    runAll([p], accs, new Learner(2));
    assert.equal(p.phase, 'done');
    assert.equal(p.ballot.round, 51, 'second attempt jumps straight above the promised round 50');
    assert.equal(p.rounds, 2);
  });

  it('a learner learns a value only from a Q2 quorum of acceptors in the same ballot', () => {
    const l = new Learner(2);
    l.handle('a1', { type: 'accepted', ballot: { round: 1, node: 'p1' }, value: 'x' });
    l.handle('a2', { type: 'accepted', ballot: { round: 2, node: 'p2' }, value: 'x' });
    assert.equal(l.chosen, undefined, 'two votes in two different ballots are not a quorum');
    l.handle('a3', { type: 'accepted', ballot: { round: 2, node: 'p2' }, value: 'x' });
    assert.equal(l.chosen, 'x');
  });
});

describe('quorum configuration (Flexible Paxos)', () => {
  it('majority by default; flexible Q1/Q2 must intersect: |Q1| + |Q2| > N', () => {
    assert.deepEqual(quorumSizes(5, { kind: 'majority' }), { q1: 3, q2: 3 });
    assert.deepEqual(quorumSizes(5, { kind: 'flexible', q1: 4, q2: 2 }), { q1: 4, q2: 2 });
    assert.throws(() => quorumSizes(5, { kind: 'flexible', q1: 3, q2: 2 }), (e: unknown) => e instanceof ConfigError && /\|Q1\| \+ \|Q2\| > N/.test(e.message));
    assert.throws(() => quorumSizes(3, { kind: 'flexible', q1: 4, q2: 1 }), /q1 must be an integer in 1\.\.3/);
  });
  it('validates every field and cross-field rules with the field name in the message', () => {
    const nodes = ['n1', 'n2', 'n3'];
    assert.throws(() => validatePaxosConfig({ nodes, heartbeatTicks: 0 }), /heartbeatTicks/);
    assert.throws(() => validatePaxosConfig({ nodes, heartbeatTicks: 5, leaderTimeoutTicks: 5 }), /leaderTimeoutTicks \(5\) must exceed heartbeatTicks/);
    assert.throws(() => validatePaxosConfig({ nodes: ['n1', 'n1'] }), /distinct/);
    assert.equal(validatePaxosConfig({ nodes }).batchCommandsMax, 16);
  });
});

/** An in-memory group of MultiPaxos replicas with hand-driven delivery. */
class Group {
  readonly nodes = new Map<NodeId, MultiPaxos>();
  readonly queue: { from: NodeId; to: NodeId; msg: PaxosMsg }[] = [];
  readonly applied = new Map<NodeId, string[]>();
  readonly reads = new Map<NodeId, string[]>();
  readonly dropped: string[] = [];
  readonly down = new Set<NodeId>();
  sent = 0;
  syncs = 0;

  constructor(ids: NodeId[], config: Partial<PaxosConfig> = {}) {
    for (const id of ids) {
      this.nodes.set(id, new MultiPaxos({ id, config: { nodes: ids, ...config }, rng: createRng(ids.indexOf(id) + 1) }));
      this.applied.set(id, []);
      this.reads.set(id, []);
    }
  }

  get(id: NodeId): MultiPaxos {
    const n = this.nodes.get(id);
    assert.ok(n);
    return n;
  }

  drainAll(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const rd: PaxosReady = n.ready();
        if (rd.mustSync) this.syncs++;
        for (const m of rd.messages) this.queue.push({ from: id, to: m.to, msg: m.msg });
        for (const m of rd.afterSync) this.queue.push({ from: id, to: m.to, msg: m.msg });
        for (const c of rd.committed) this.applied.get(id)?.push(c.value.kind === 'noop' ? 'noop' : c.value.cmds.join('+'));
        for (const r of rd.reads) this.reads.get(id)?.push(r.context);
        for (const d of rd.dropped) this.dropped.push(d);
      }
    }
  }

  /** Delivers until quiet; messages to or from a down node are dropped. */
  stabilize(): void {
    this.drainAll();
    while (this.queue.length > 0) {
      const { from, to, msg } = this.queue.shift() as { from: NodeId; to: NodeId; msg: PaxosMsg };
      if (from !== to) this.sent++;
      if (this.down.has(to) || this.down.has(from)) continue;
      this.get(to).handle(from, msg);
      this.drainAll();
    }
  }

  tickAll(times: number): void {
    for (let i = 0; i < times; i++) {
      for (const [id, n] of this.nodes) if (!this.down.has(id)) n.tick();
      this.stabilize();
    }
  }
}

describe('Multi-Paxos (Paxos Made Moderately Complex)', () => {
  const ids = ['n1', 'n2', 'n3'];

  it("a leader's own vote counts only once durable: its accepts go out before its fsync", () => {
    const g = new Group(ids);
    const n1 = g.get('n1');
    n1.campaign();
    g.stabilize();
    n1.propose('a');
    const rd = n1.ready();
    assert.equal(rd.mustSync, true);
    assert.deepEqual(
      rd.messages.map((m) => `${m.to}:${m.msg.type}`),
      ['n2:accept', 'n3:accept'],
      'accepts are sent in parallel with the leader\'s own write',
    );
    assert.deepEqual(
      rd.afterSync.map((m) => `${m.to}:${m.msg.type}`),
      ['n1:accepted'],
      'the self-vote comes back after the fsync',
    );
  });

  it('a leader runs phase 1 once, then each command costs one phase-2 round: 2(n-1) messages', () => {
    const g = new Group(ids);
    g.get('n1').campaign();
    g.stabilize();
    assert.equal(g.get('n1').role, 'leader');
    const before = g.sent;
    g.get('n1').propose('a');
    g.stabilize();
    assert.equal(g.sent - before, 4, 'accept to 2 followers + 2 accepted votes; no prepare');
    assert.deepEqual(g.applied.get('n1'), ['a']);
    g.tickAll(2); // a heartbeat carries the commit point to the followers
    assert.deepEqual(g.applied.get('n2'), ['a']);
    assert.deepEqual(g.applied.get('n3'), ['a']);
  });

  it('the acceptor state is handed out for an fsync before the replies (mustSync)', () => {
    const g = new Group(ids);
    const n2 = g.get('n2');
    n2.handle('n1', { type: 'prepare', ballot: { round: 1, node: 'n1' }, fromSlot: 1 });
    const rd = n2.ready();
    assert.equal(rd.mustSync, true);
    assert.deepEqual(rd.persist.promised, { round: 1, node: 'n1' });
    assert.deepEqual(rd.messages, [], 'nothing goes before the fsync');
    assert.equal(rd.afterSync[0]?.msg.type, 'promise');
    n2.handle('n1', { type: 'heartbeat', ballot: { round: 1, node: 'n1' }, chosenBelow: 1, seq: 1 });
    assert.equal(n2.ready().mustSync, false, 'a heartbeat changes no acceptor state');
  });

  it('commands queued while the window is full are batched into one slot', () => {
    const g = new Group(ids, { inflightSlotsMax: 1, batchCommandsMax: 8 });
    g.get('n1').campaign();
    g.stabilize();
    const l = g.get('n1');
    for (const c of ['a', 'b', 'c', 'd']) l.propose(c);
    g.stabilize();
    assert.deepEqual(g.applied.get('n1'), ['a', 'b+c+d'], 'a fills the window, b..d wait and go together');
  });

  it('followers elect a leader by timeout when the leader goes quiet (ticks, no clock)', () => {
    const g = new Group(ids);
    g.get('n1').campaign();
    g.stabilize();
    g.down.add('n1');
    g.tickAll(25);
    const leaders = ids.filter((id) => g.get(id).role === 'leader' && id !== 'n1');
    assert.equal(leaders.length, 1, 'one of n2, n3 took over');
  });

  it('a new leader re-proposes values accepted in earlier ballots and fills gaps with no-ops', () => {
    const g = new Group(ids);
    const n1 = g.get('n1');
    n1.campaign();
    g.stabilize();
    // n1 proposes three slots, but only slot 3's accept reaches n2; n3 gets nothing.
    n1.propose('a');
    n1.propose('b');
    n1.propose('c');
    g.drainAll();
    const accepts = g.queue.splice(0).filter((m) => m.msg.type === 'accept');
    const toN2 = accepts.filter((m) => m.to === 'n2');
    for (const m of toN2) {
      if (m.msg.type !== 'accept') continue;
      const only3 = m.msg.entries.filter((e) => e.slot === 3);
      if (only3.length > 0) g.get('n2').handle('n1', { ...m.msg, entries: only3 });
    }
    g.down.add('n1');
    g.stabilize();
    g.get('n2').campaign();
    g.stabilize();
    assert.equal(g.get('n2').role, 'leader');
    assert.deepEqual(g.applied.get('n2'), ['noop', 'noop', 'c'], 'slot 3 keeps c; the unknown slots 1 and 2 become no-ops');
  });

  it('two campaigning proposers: the higher ballot wins, the other is nacked and steps down', () => {
    const g = new Group(ids);
    g.get('n1').campaign();
    g.get('n2').campaign();
    g.stabilize();
    const leaders = ids.filter((id) => g.get(id).role === 'leader');
    assert.equal(leaders.length, 1);
    assert.ok(g.get('n1').stats.nacksReceived + g.get('n2').stats.nacksReceived > 0);
    g.get(leaders[0] as string).propose('x');
    g.stabilize();
    assert.deepEqual(g.applied.get(leaders[0] as string), ['x']);
  });

  it('a read waits for its barrier: Q2 heartbeat acks after the read arrived', () => {
    const g = new Group(ids);
    const n1 = g.get('n1');
    n1.campaign();
    g.stabilize();
    n1.propose('w');
    g.stabilize();
    g.down.add('n2');
    g.down.add('n3');
    n1.read('r1');
    g.stabilize();
    assert.deepEqual(g.reads.get('n1'), [], 'an isolated leader cannot confirm it still leads');
    g.down.delete('n2');
    n1.read('r2');
    g.stabilize();
    assert.deepEqual(g.reads.get('n1'), ['r1', 'r2']);
  });

  it('commands still queued when a leader is deposed come back as dropped: this leader never proposed them', () => {
    const g = new Group(ids, { inflightSlotsMax: 1 });
    const n1 = g.get('n1');
    n1.campaign();
    g.stabilize();
    n1.propose('a');
    n1.propose('b');
    n1.propose('c');
    g.drainAll();
    g.queue.length = 0; // the accept for 'a' is lost
    g.get('n2').campaign();
    g.stabilize();
    assert.deepEqual(g.dropped, ['b', 'c']);
    assert.ok(!g.applied.get('n2')?.includes('b+c'), 'the dropped commands were never chosen');
  });

  it('check-quorum: a leader cut off from every follower steps down within 2 × leaderTimeoutTicks; one that hears them stays', () => {
    const g = new Group(ids);
    const n1 = g.get('n1');
    n1.campaign();
    g.stabilize();
    g.tickAll(25);
    assert.equal(n1.role, 'leader', 'heartbeat acks keep a connected leader in place');
    g.down.add('n2');
    g.down.add('n3');
    let steppedDownAt = 0;
    for (let t = 1; t <= 20 && steppedDownAt === 0; t++) {
      n1.tick();
      g.stabilize();
      if (n1.role !== 'leader') steppedDownAt = t;
    }
    assert.ok(steppedDownAt > 0, 'stepped down within 2 × leaderTimeoutTicks = 20 ticks');
    assert.ok(steppedDownAt > 1, 'acks heard earlier in the window still counted');
    assert.equal(n1.role, 'follower');
    assert.equal(n1.stats.quorumLost, 1);
    assert.throws(() => n1.propose('x'), (e: unknown) => e instanceof DefiniteError && e.code === 'not-leader');
  });

  it('a deposed leader refuses commands with a definite not-leader error', () => {
    const g = new Group(ids);
    g.get('n1').campaign();
    g.stabilize();
    g.get('n2').campaign();
    g.stabilize();
    assert.equal(g.get('n1').role, 'follower');
    assert.throws(
      () => g.get('n1').propose('x'),
      (e: unknown) => e instanceof DefiniteError && e.code === 'not-leader',
    );
  });

  it('Flexible Paxos q1=4, q2=2 over 5: phase 2 commits with 2 replicas, phase 1 needs 4', () => {
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const g = new Group(five, { quorum: { kind: 'flexible', q1: 4, q2: 2 } });
    g.down.add('n4');
    g.down.add('n5');
    g.get('n1').campaign();
    g.stabilize();
    assert.equal(g.get('n1').role, 'candidate', 'three promises are below Q1 = 4');
    g.down.delete('n4');
    g.get('n1').campaign();
    g.stabilize();
    assert.equal(g.get('n1').role, 'leader');
    g.down.add('n3');
    g.down.add('n4');
    g.get('n1').propose('x');
    g.stabilize();
    assert.deepEqual(g.applied.get('n1'), ['x'], 'n1 and n2 form a phase-2 quorum');
    assert.equal(valueKey({ kind: 'cmds', cmds: ['x'] }), '["x"]');
  });
});
