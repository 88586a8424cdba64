import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { ChordNode, type ChordMsg, type ChordPeer, defaultChordConfig, sortRing, successorOf, validateChordConfig } from '../../src/overlay/chord.ts';
import { DirectNetwork } from '../../src/overlay/host.ts';
import { hashId, inHalfOpen, inOpen } from '../../src/overlay/ids.ts';
import { runChord } from '../../src/scenarios/chord-scenario.ts';
import type { FaultKind } from '../../src/sim/nemesis.ts';

const ALL: FaultKind[] = ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'];

function ring(n: number, bits = 32, stabilizeRounds = 150): DirectNetwork<ChordMsg, ChordNode> {
  const net = new DirectNetwork<ChordMsg, ChordNode>();
  const config = { ...defaultChordConfig(), idBits: bits };
  for (let i = 1; i <= n; i++) net.add(new ChordNode({ address: `n${i}`, config, rng: createRng(7).fork(`n${i}`), bootstrap: ['n1', 'n2'] }));
  for (let r = 0; r < stabilizeRounds; r++) net.round();
  return net;
}

describe('Chord identifier arithmetic', () => {
  it('intervals wrap around the ring', () => {
    assert.ok(inOpen(1, 14, 3, 4));
    assert.ok(!inOpen(3, 14, 3, 4));
    assert.ok(inHalfOpen(3, 14, 3, 4));
    assert.ok(inHalfOpen(5, 5, 5, 4), 'a one-node ring owns every key');
    assert.ok(!inOpen(5, 5, 5, 4));
  });
  it('successorOf wraps past the largest identifier', () => {
    const r: ChordPeer[] = [
      { id: 10, addr: 'a' },
      { id: 20, addr: 'b' },
    ];
    assert.equal(successorOf(r, 15)?.addr, 'b');
    assert.equal(successorOf(r, 20)?.addr, 'b');
    assert.equal(successorOf(r, 25)?.addr, 'a');
  });
  it('config validation names the field', () => {
    assert.throws(() => validateChordConfig({ ...defaultChordConfig(), idBits: 40 }), ConfigError);
    assert.throws(() => validateChordConfig({ ...defaultChordConfig(), replicas: 9 }), /replicas/);
    assert.throws(() => validateChordConfig({ ...defaultChordConfig(), rpcTimeoutTicks: 0 }), /rpcTimeoutTicks/);
  });
});

describe('Chord (Stoica et al. 2001) on a lossless network', () => {
  it('§4.4: stabilization builds successor and predecessor pointers in identifier order', () => {
    const net = ring(24);
    const sorted = sortRing([...net.nodes.values()].map((c) => c.self));
    sorted.forEach((p, i) => {
      const c = net.nodes.get(p.addr) as ChordNode;
      assert.equal(c.successor.addr, sorted[(i + 1) % sorted.length]?.addr);
      assert.equal(c.predecessor?.addr, sorted[(i - 1 + sorted.length) % sorted.length]?.addr);
      assert.equal(c.successors.length, 4, 'successor list of r entries');
    });
  });

  it('§4.3: fix-fingers converges to finger[i] = successor(n + 2^i), the state installConvergedState gives', () => {
    const net = ring(20, 16, 400);
    const sorted = sortRing([...net.nodes.values()].map((c) => c.self));
    for (const c of net.nodes.values()) {
      const want = new ChordNode({ address: c.address, config: c.config, rng: createRng(1), bootstrap: [] });
      want.installConvergedState(sorted);
      assert.deepEqual(
        c.fingerTable.map((f) => f?.addr ?? c.address),
        want.fingerTable.map((f) => f?.addr ?? c.address),
      );
    }
  });

  it('§4.3 Theorem 2: lookups return successor(key) in O(log n) hops', () => {
    const net = new DirectNetwork<ChordMsg, ChordNode>();
    const config = defaultChordConfig();
    const n = 512;
    for (let i = 1; i <= n; i++) net.add(new ChordNode({ address: `n${i}`, config, rng: createRng(3).fork(`n${i}`), bootstrap: [] }));
    const sorted = sortRing([...net.nodes.values()].map((c) => c.self));
    for (const c of net.nodes.values()) c.installConvergedState(sorted);
    const rng = createRng(5);
    let hops = 0;
    const count = 400;
    for (let i = 0; i < count; i++) {
      const from = net.nodes.get(`n${1 + rng.int(n)}`) as ChordNode;
      const key = rng.int(2 ** 32);
      from.lookup(key);
      net.collect(from);
      net.settle();
      const [r] = from.pollResults();
      assert.equal(r?.type, 'lookup');
      if (r?.type !== 'lookup') return;
      assert.equal(r.owner.addr, successorOf(sorted, key)?.addr);
      assert.ok(r.hops <= 2 * Math.log2(n), `hops ${r.hops}`);
      hops += r.hops;
    }
    const mean = hops / count;
    // The paper's mean path length is ½ log2 n (4.5 for n = 512); allow the +1 of iterative lookup.
    assert.ok(mean > 0.5 * Math.log2(n) - 1 && mean < 0.5 * Math.log2(n) + 1.5, `mean hops ${mean}`);
  });

  it('put/get: a value is stored at the owner and its successors, and survives the owner failing', () => {
    const net = ring(12);
    const a = net.nodes.get('n3') as ChordNode;
    a.put('color', 'blue');
    net.collect(a);
    net.settle();
    assert.deepEqual(
      a.pollResults().map((r) => [r.type, 'ok' in r ? r.ok : false]),
      [['put', true]],
    );
    const holders = [...net.nodes.values()].filter((c) => c.hasKey('color'));
    assert.equal(holders.length, 3, 'owner + replicas − 1 successors');
    const owner = successorOf(sortRing([...net.nodes.values()].map((c) => c.self)), hashId('color', 32));
    net.down.add(owner?.addr ?? '');
    for (let r = 0; r < 30; r++) net.round();
    const b = net.nodes.get(owner?.addr === 'n5' ? 'n6' : 'n5') as ChordNode;
    b.get('color');
    net.collect(b);
    for (let r = 0; r < 10; r++) net.round();
    const got = b.pollResults().find((r) => r.type === 'get');
    assert.equal(got?.type === 'get' ? got.value : undefined, 'blue');
  });
});

describe('Chord in the simulator under churn and the nemesis', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: one ring of all live nodes after heal, lookups find the owner, no key lost`, () => {
      const r = runChord({ seed, nodes: 16, durationMs: 60_000, faults: ALL, ops: 30, params: {} });
      assert.ok(r.nemesis.log.length > 10, 'the nemesis injected faults');
      assert.equal(r.keysStored, 30);
      assert.ok(r.churnLookupsOk > 0);
    });
  }
  it('is deterministic: the same seed gives the same trace', () => {
    const a = runChord({ seed: 9, nodes: 10, durationMs: 20_000, faults: ALL, ops: 5, params: {} });
    const b = runChord({ seed: 9, nodes: 10, durationMs: 20_000, faults: ALL, ops: 5, params: {} });
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
  });
});
