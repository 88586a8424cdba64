import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { stronglyConnected } from '../../src/overlay/graph.ts';
import { DirectNetwork } from '../../src/overlay/host.ts';
import { defaultUnstructuredConfig, UnstructuredNode, type UnstructuredMsg, validateUnstructuredConfig } from '../../src/overlay/unstructured.ts';
import { runFlooding } from '../../src/scenarios/flooding-scenario.ts';
import type { FaultKind } from '../../src/sim/nemesis.ts';

const ALL: FaultKind[] = ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'];

function overlay(n: number, viewSize = 5, rounds = 100): DirectNetwork<UnstructuredMsg, UnstructuredNode> {
  const net = new DirectNetwork<UnstructuredMsg, UnstructuredNode>();
  const config = { ...defaultUnstructuredConfig(), viewSize, shuffleLength: 3, shuffleEveryTicks: 1 };
  for (let i = 1; i <= n; i++) {
    const node = new UnstructuredNode({ address: `p${i}`, config, rng: createRng(11).fork(`p${i}`), bootstrap: ['p1'], items: [`item-${i}`] });
    net.add(node);
    net.collect(node);
  }
  net.settle();
  for (let r = 0; r < rounds; r++) net.round();
  return net;
}

function runSearch(net: DirectNetwork<UnstructuredMsg, UnstructuredNode>, from: UnstructuredNode, start: () => number) {
  const count = () => [...net.nodes.values()].reduce((s, x) => s + x.stats.queriesReceived + x.stats.walksReceived, 0);
  const before = count();
  start();
  net.collect(from);
  net.settle();
  for (let i = 0; i < from.config.searchTimeoutTicks; i++) {
    from.tick();
    net.collect(from);
    net.settle();
  }
  return { result: from.pollResults().at(-1), messages: count() - before };
}

describe('pure P2P overlay (Cyclon views, flooding, random walks)', () => {
  it('config validation names the field', () => {
    assert.throws(() => validateUnstructuredConfig({ ...defaultUnstructuredConfig(), shuffleLength: 20 }), /shuffleLength/);
  });

  it('Cyclon: views stay within viewSize, hold no self-link, and the overlay stays strongly connected', () => {
    const net = overlay(60);
    const ids = [...net.nodes.keys()];
    let connectedRounds = 0;
    for (let r = 0; r < 100; r++) {
      net.round();
      for (const node of net.nodes.values()) {
        const v = node.neighbours();
        assert.ok(v.length <= 5 && v.length >= 3, `${node.address} has ${v.length} neighbours`);
        assert.ok(!v.includes(node.address));
        assert.equal(new Set(v).size, v.length);
      }
      if (stronglyConnected(ids, (id) => net.nodes.get(id)?.neighbours() ?? [])) connectedRounds++;
    }
    // With every peer shuffling every round, a peer is now and then briefly in no view at all
    // (in-degree 0); it reappears at its next shuffle, which hands it to another peer.
    assert.ok(connectedRounds >= 90, `strongly connected in only ${connectedRounds} of 100 rounds`);
  });

  it('Cyclon: dead neighbours leave the views (the oldest entry is the shuffle target and is dropped)', () => {
    const net = overlay(40);
    for (let i = 1; i <= 10; i++) net.down.add(`p${i}`);
    for (let r = 0; r < 60; r++) net.round();
    let dead = 0;
    for (const [id, node] of net.nodes) if (!net.down.has(id)) dead += node.neighbours().filter((x) => net.down.has(x)).length;
    assert.equal(dead, 0);
  });

  it('flooding: a TTL covering the overlay finds the item; duplicates are suppressed; TTL 1 reaches only neighbours', () => {
    const net = overlay(50);
    const from = net.nodes.get('p7') as UnstructuredNode;
    const all = runSearch(net, from, () => from.search('item-33', { kind: 'flood', ttl: 50 }));
    assert.deepEqual(all.result?.holders, ['p33']);
    const dups = [...net.nodes.values()].reduce((s, x) => s + x.stats.duplicatesDropped, 0);
    assert.ok(dups > 0, 'a flood over a graph with cycles meets duplicates');
    // Each peer forwards a query once: at most Σ out-degrees query messages.
    const edges = [...net.nodes.values()].reduce((s, x) => s + x.neighbours().length, 0);
    assert.ok(all.messages <= edges, `${all.messages} query messages > ${edges} links`);
    assert.ok(all.messages >= net.nodes.size - 1, 'every other peer received the query');
    const near = runSearch(net, from, () => from.search('item-33', { kind: 'flood', ttl: 1 }));
    assert.equal(near.messages, from.neighbours().length);
  });

  it('random walks: k walkers with a long TTL find an item and cost far fewer messages than a flood', () => {
    const net = overlay(50);
    const from = net.nodes.get('p3') as UnstructuredNode;
    const walk = runSearch(net, from, () => from.search('item-40', { kind: 'walk', walkers: 16, ttl: 32 }));
    assert.deepEqual(walk.result?.holders, ['p40']);
    assert.ok(walk.messages <= 16 * 32);
  });
});

describe('pure P2P in the simulator under churn and the nemesis', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: views bounded, strongly connected after heal, every item found`, () => {
      const r = runFlooding({ seed, nodes: 24, durationMs: 30_000, faults: ALL, ops: 0, params: {} });
      assert.ok(r.nemesis.log.length > 5);
      assert.equal(r.checkedSearches > 0, true);
      assert.ok(r.density > 0 && r.density < 1);
    });
  }
});
