import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../../src/core/rng.ts';
import { CausalBroadcast, type CausalBroadcastMessage } from '../../src/consistency/causal-broadcast.ts';
import { CausalKv, type KvPut } from '../../src/consistency/causal-kv.ts';
import { type CausalLogEvent, checkCausalDelivery } from '../../src/consistency/checkers.ts';

const log = (entries: [string, 'broadcast' | 'deliver', string][]) => {
  const m = new Map<string, CausalLogEvent[]>();
  for (const [node, kind, id] of entries) {
    const l = m.get(node) ?? [];
    l.push({ kind, id });
    m.set(node, l);
  }
  return m;
};

describe('consistency/checkers: causal delivery (seed 04.6.3)', () => {
  it('accepts a causal history', () => {
    const r = checkCausalDelivery(
      log([
        ['n1', 'broadcast', 'a'],
        ['n2', 'deliver', 'a'],
        ['n2', 'broadcast', 'b'],
        ['n3', 'deliver', 'a'],
        ['n3', 'deliver', 'b'],
        ['n1', 'deliver', 'b'],
      ]),
    );
    assert.deepEqual(r.violations, []);
    assert.equal(r.ok, true);
    assert.equal(r.deliveries, 4);
  });
  it('finds o_i ≺ o_j delivered as o_j before o_i, through a transitive chain', () => {
    const r = checkCausalDelivery(
      log([
        ['n1', 'broadcast', 'a'],
        ['n2', 'deliver', 'a'],
        ['n2', 'broadcast', 'b'],
        ['n3', 'deliver', 'b'],
        ['n3', 'broadcast', 'c'],
        ['n4', 'deliver', 'c'], // a ≺ b ≺ c, n4 never saw a or b
        ['n4', 'deliver', 'a'],
      ]),
    );
    assert.equal(r.ok, false);
    assert.match(r.violations.join('\n'), /n3 delivered b before its causal predecessor a/);
    assert.match(r.violations.join('\n'), /n4 delivered c before its causal predecessor a/);
  });
  it('finds FIFO violations, duplicates and unknown messages', () => {
    const r = checkCausalDelivery(
      log([
        ['n1', 'broadcast', 'a1'],
        ['n1', 'broadcast', 'a2'],
        ['n2', 'deliver', 'a2'],
        ['n2', 'deliver', 'a1'],
        ['n2', 'deliver', 'a1'],
        ['n2', 'deliver', 'ghost'],
      ]),
    );
    const text = r.violations.join('\n');
    assert.match(text, /n2 delivered a2 before its causal predecessor a1/);
    assert.match(text, /n2 delivered a1 twice/);
    assert.match(text, /ghost, which nobody broadcast/);
  });
});

/** A tiny lossy, duplicating, reordering network for sans-IO members, driven by one seed. */
function runGroup(seed: number, opts: { lossRate: number; dupRate: number; broadcasts: number; naive?: boolean }) {
  const rng = createRng(seed);
  const group = ['n1', 'n2', 'n3', 'n4'];
  const members = new Map(group.map((id) => [id, new CausalBroadcast<string>({ self: id, group, rng: rng.fork(id), config: { bufferMax: 64 } })]));
  const logs = new Map<string, CausalLogEvent[]>(group.map((id) => [id, []]));
  let inFlight: { from: string; to: string; msg: CausalBroadcastMessage<string> }[] = [];
  const drain = (id: string) => {
    const m = members.get(id)!;
    for (const d of m.pollDelivered()) logs.get(id)!.push({ kind: d.own ? 'broadcast' : 'deliver', id: `${d.msg.origin}#${d.msg.seq}` });
    for (const o of m.pollMessages()) {
      if (rng.chance(opts.lossRate)) continue;
      inFlight.push({ from: id, ...o });
      if (rng.chance(opts.dupRate)) inFlight.push({ from: id, ...o });
    }
  };
  const naiveDelivered = new Map<string, Set<string>>(group.map((id) => [id, new Set()]));
  let sent = 0;
  for (let step = 0; step < 4000; step++) {
    const r = rng.int(10);
    if (r === 0 && sent < opts.broadcasts) {
      const id = rng.pick(group);
      members.get(id)!.broadcast(`v${sent++}`);
      drain(id);
    } else if (r === 1) {
      const id = rng.pick(group);
      members.get(id)!.tick();
      drain(id);
    } else if (inFlight.length > 0) {
      const i = rng.int(inFlight.length); // any in-flight message: reordering
      const m = inFlight[i]!;
      inFlight.splice(i, 1);
      if (opts.naive && m.msg.type === 'cb-data') {
        // A broken protocol that delivers on receipt: the checker must catch it.
        for (const x of m.msg.msgs) {
          const mid = `${x.origin}#${x.seq}`;
          if (!naiveDelivered.get(m.to)!.has(mid)) {
            naiveDelivered.get(m.to)!.add(mid);
            logs.get(m.to)!.push({ kind: 'deliver', id: mid });
          }
        }
        continue;
      }
      members.get(m.to)!.handleMessage(m.from, m.msg);
      drain(m.to);
    }
  }
  // Liveness: no more loss; sync until quiet.
  for (let round = 0; round < 200; round++) {
    for (const id of group) {
      members.get(id)!.tick();
      drain(id);
    }
    const batch = inFlight;
    inFlight = [];
    for (const m of batch) {
      members.get(m.to)!.handleMessage(m.from, m.msg);
      const mm = members.get(m.to)!;
      for (const d of mm.pollDelivered()) logs.get(m.to)!.push({ kind: d.own ? 'broadcast' : 'deliver', id: `${d.msg.origin}#${d.msg.seq}` });
      for (const o of mm.pollMessages()) inFlight.push({ from: m.to, ...o });
    }
  }
  return { members, logs, sent };
}

describe('consistency/causal-broadcast: the vector-clock delivery rule', () => {
  it('delivers m from j only when VC_m[j] = local[j] + 1 and VC_m[k] <= local[k]; buffers otherwise', () => {
    const group = ['a', 'b', 'c'];
    const a = new CausalBroadcast<string>({ self: 'a', group, rng: createRng(1) });
    const b = new CausalBroadcast<string>({ self: 'b', group, rng: createRng(2) });
    const c = new CausalBroadcast<string>({ self: 'c', group, rng: createRng(3) });
    const m1 = a.broadcast('question');
    const toB = a.pollMessages().find((o) => o.to === 'b')!;
    const toC = a.pollMessages();
    assert.deepEqual(toC, []);
    b.handleMessage('a', toB.msg);
    assert.deepEqual(b.pollDelivered().map((d) => d.msg.payload), ['question']);
    const m2 = b.broadcast('answer');
    assert.deepEqual(m2.vc, { a: 1, b: 1 });
    // c gets the answer first: it must wait for the question.
    const answer = b.pollMessages().find((o) => o.to === 'c')!;
    c.handleMessage('b', answer.msg);
    assert.deepEqual(c.pollDelivered(), []);
    assert.equal(c.bufferedCount(), 1);
    c.handleMessage('a', { type: 'cb-data', msgs: [m1] });
    assert.deepEqual(c.pollDelivered().map((d) => d.msg.payload), ['question', 'answer']);
    assert.deepEqual(c.clock(), { a: 1, b: 1 });
    c.handleMessage('a', { type: 'cb-data', msgs: [m1] });
    assert.equal(c.stats.duplicates, 1);
  });

  it('anti-entropy repairs a lost message: a sync gets the missing messages from a peer log', () => {
    const group = ['a', 'b'];
    const a = new CausalBroadcast<string>({ self: 'a', group, rng: createRng(1) });
    const b = new CausalBroadcast<string>({ self: 'b', group, rng: createRng(2) });
    a.broadcast('x');
    a.broadcast('y');
    a.pollMessages(); // both lost
    b.tick();
    const [sync] = b.pollMessages();
    assert.deepEqual(sync?.msg, { type: 'cb-sync', vc: {}, reply: false });
    a.handleMessage('b', sync!.msg);
    const [repair] = a.pollMessages();
    b.handleMessage('a', repair!.msg);
    assert.deepEqual(b.pollDelivered().map((d) => d.msg.payload), ['x', 'y']);
  });

  it('repair batches follow delivery order, so a member far behind on interleaved chains catches up with tiny batches and buffer', () => {
    const group = ['a', 'b', 'c'];
    const config = { repairBatchMax: 8, bufferMax: 4 };
    const a = new CausalBroadcast<number>({ self: 'a', group, rng: createRng(1), config });
    const b = new CausalBroadcast<number>({ self: 'b', group, rng: createRng(2), config });
    const c = new CausalBroadcast<number>({ self: 'c', group, rng: createRng(3), config });
    // a and b answer each other 60 times (each message depends on the other's last); c hears nothing.
    for (let i = 0; i < 60; i++) {
      const [x, y] = i % 2 === 0 ? [a, b] : [b, a];
      x.broadcast(i);
      for (const o of x.pollMessages()) if (o.to === y.self) y.handleMessage(x.self, o.msg);
      y.pollMessages();
    }
    // c syncs with a until it has everything: a batch of a's messages alone would never be deliverable.
    for (let round = 0; round < 20; round++) {
      c.tick();
      for (const o of c.pollMessages()) a.handleMessage('c', o.msg);
      for (const o of a.pollMessages()) if (o.to === 'c') c.handleMessage('a', o.msg);
    }
    assert.deepEqual(c.clock(), { a: 30, b: 30 });
    assert.deepEqual(
      c.pollDelivered().map((d) => d.msg.payload),
      Array.from({ length: 60 }, (_, i) => i),
    );
  });

  it('the log is bounded: own broadcasts are refused while peers have not acknowledged', () => {
    const group = ['a', 'b'];
    const a = new CausalBroadcast<string>({ self: 'a', group, rng: createRng(1), config: { logMax: 2 } });
    a.broadcast('1');
    a.broadcast('2');
    assert.throws(() => a.broadcast('3'), /log is full/);
    a.handleMessage('b', { type: 'cb-sync', vc: { a: 2 }, reply: false }); // b acknowledges both
    a.broadcast('3');
  });

  it('a restarted member recovers its clock and log from what it persisted', () => {
    const group = ['a', 'b'];
    const a = new CausalBroadcast<string>({ self: 'a', group, rng: createRng(1) });
    const m1 = a.broadcast('1');
    const m2 = a.broadcast('2');
    const again = new CausalBroadcast<string>({ self: 'a', group, rng: createRng(1), recovered: [m1, m2] });
    assert.deepEqual(again.clock(), { a: 2 });
    assert.equal(again.broadcast('3').seq, 3, 'no sequence number is reused');
  });

  it('under loss, duplication and reordering: causal order holds and every member delivers everything', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const { members, logs, sent } = runGroup(seed, { lossRate: 0.2, dupRate: 0.1, broadcasts: 40 });
        const r = checkCausalDelivery(logs);
        assert.deepEqual(r.violations, []);
        for (const [id, m] of members) {
          const total = Object.values(m.clock()).reduce((a, b) => a + b, 0);
          assert.equal(total, sent, `${id} delivered ${total} of ${sent}`);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('the checker catches a protocol that delivers on receipt (the test can fail)', () => {
    let caught = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const { logs } = runGroup(seed, { lossRate: 0.2, dupRate: 0, broadcasts: 40, naive: true });
      if (!checkCausalDelivery(logs).ok) caught++;
    }
    assert.ok(caught >= 4, `caught ${caught} of 5`);
  });
});

describe('consistency/causal-kv', () => {
  it('a reader never sees an answer without its question; replicas converge; concurrent puts resolve alike', () => {
    const group = ['a', 'b', 'c'];
    const kv = new Map(group.map((id, i) => [id, new CausalKv<string>({ self: id, group, rng: createRng(i + 1) })]));
    const a = kv.get('a')!;
    const b = kv.get('b')!;
    const c = kv.get('c')!;
    a.put('question', 'why?');
    const fromA = a.pollMessages();
    b.handleMessage('a', fromA.find((o) => o.to === 'b')!.msg);
    b.put('answer', 'because');
    const fromB = b.pollMessages();
    c.handleMessage('b', fromB.find((o) => o.to === 'c')!.msg);
    assert.equal(c.get('answer'), undefined, 'the answer waits for its question');
    c.handleMessage('a', fromA.find((o) => o.to === 'c')!.msg);
    assert.equal(c.get('question'), 'why?');
    assert.equal(c.get('answer'), 'because');
    a.handleMessage('b', fromB.find((o) => o.to === 'a')!.msg);
    // Concurrent puts to one key.
    a.put('k', 'from-a');
    c.put('k', 'from-c');
    const all = [...a.pollMessages().map((o) => ({ from: 'a', ...o })), ...c.pollMessages().map((o) => ({ from: 'c', ...o }))];
    for (const o of all) kv.get(o.to)!.handleMessage(o.from, o.msg as never);
    for (const r of kv.values()) r.pollMessages();
    assert.deepEqual(a.entries(), b.entries());
    assert.deepEqual(b.entries(), c.entries());
    assert.equal(a.get('k'), c.get('k'));
    const applied = b.pollApplied().map((d) => (d.msg.payload as KvPut<string>).key);
    assert.deepEqual(applied, ['question', 'answer', 'k', 'k']);
  });
});
