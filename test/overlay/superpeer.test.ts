import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { DirectNetwork } from '../../src/overlay/host.ts';
import { defaultSuperPeerConfig, type SuperPeerMsg, SuperPeerNode, validateSuperPeerConfig } from '../../src/overlay/superpeer.ts';
import { runSuperPeer } from '../../src/scenarios/superpeer-scenario.ts';
import type { FaultKind } from '../../src/sim/nemesis.ts';

const ALL: FaultKind[] = ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'];

function cluster(capacities: readonly number[], leavesPerSuperMax = 3): DirectNetwork<SuperPeerMsg, SuperPeerNode> {
  const net = new DirectNetwork<SuperPeerMsg, SuperPeerNode>();
  const config = { ...defaultSuperPeerConfig(), leavesPerSuperMax };
  capacities.forEach((capacity, i) => {
    net.add(new SuperPeerNode({ address: `p${i + 1}`, config, rng: createRng(3).fork(`p${i + 1}`), capacity, bootstrap: ['p1'], items: [`item-${i + 1}`] }));
  });
  for (let r = 0; r < 80; r++) net.round();
  return net;
}

function search(net: DirectNetwork<SuperPeerMsg, SuperPeerNode>, from: SuperPeerNode, item: string): readonly string[] | undefined {
  from.search(item);
  net.collect(from);
  net.settle();
  for (let i = 0; i < from.config.searchTimeoutTicks; i++) net.round();
  return from.pollResults().at(-1)?.holders;
}

describe('hybrid P2P with super-peers', () => {
  it('config validation names the field', () => {
    assert.throws(() => validateSuperPeerConfig({ ...defaultSuperPeerConfig(), superTimeoutTicks: 1 }), /superTimeoutTicks/);
    assert.throws(() => validateSuperPeerConfig({ ...defaultSuperPeerConfig(), leavesPerSuperMax: 0 }), /leavesPerSuperMax/);
  });

  it('election by capacity: only capable peers become super-peers, each serves at most its limit, all leaves attach', () => {
    // p1 is weak: it may not lead even though everyone joins through it.
    const caps = [5, 50, 8, 90, 7, 70, 6, 3, 40, 2, 9, 4];
    const net = cluster(caps);
    const nodes = [...net.nodes.values()];
    const supers = nodes.filter((n) => n.role === 'super');
    assert.ok(supers.length >= 2);
    for (const s of supers) {
      assert.ok(s.capacity >= 10, `${s.address} (capacity ${s.capacity}) is a super-peer`);
      assert.ok(s.leaves().length <= 3);
    }
    for (const l of nodes.filter((n) => n.role === 'leaf')) {
      assert.ok(l.superPeer !== null, `${l.address} is attached`);
      assert.ok(net.nodes.get(l.superPeer ?? '')?.leaves().includes(l.address));
    }
    // The strongest peer is elected when the first super-peer fills up.
    assert.equal(net.nodes.get('p4')?.role, 'super');
  });

  it('handover: a super-peer whose new leaf is twice as strong promotes it, moves its leaves there and becomes its leaf', () => {
    const net = new DirectNetwork<SuperPeerMsg, SuperPeerNode>();
    // One super-peer suffices here (with the default supersMin = 2, p1 would be re-promoted as the second).
    const config = { ...defaultSuperPeerConfig(), supersMin: 1 };
    const add = (name: string, capacity: number) => {
      const node = new SuperPeerNode({ address: name, config, rng: createRng(1).fork(name), capacity, bootstrap: ['p1'], items: [`item-${name}`] });
      net.add(node);
      return node;
    };
    const p1 = add('p1', 15);
    add('p2', 3);
    add('p3', 4);
    for (let r = 0; r < 30; r++) net.round();
    assert.equal(p1.role, 'super');
    const p4 = add('p4', 80);
    for (let r = 0; r < 60; r++) net.round();
    assert.equal(p4.role, 'super');
    assert.equal(p1.role, 'leaf');
    assert.equal(p1.stats.handovers, 1);
    assert.deepEqual(p4.leaves().sort(), ['p1', 'p2', 'p3']);
    assert.deepEqual(search(net, net.nodes.get('p2') as SuperPeerNode, 'item-p3'), ['p3']);
  });

  it('the super-peer index answers searches for items of leaves attached anywhere', () => {
    const net = cluster([50, 60, 1, 2, 3, 4, 5, 6, 7, 8, 70, 9]);
    const from = net.nodes.get('p3') as SuperPeerNode;
    for (const i of [1, 5, 10, 12]) assert.deepEqual(search(net, from, `item-${i}`), [`p${i}`]);
    assert.deepEqual(search(net, from, 'no-such-item'), []);
  });

  it('leaf failover: when a super-peer dies its leaves attach to another and stay searchable', () => {
    // Two capable leaves (p5, p11) can be promoted when the surviving super-peers are full.
    const net = cluster([50, 60, 1, 2, 30, 4, 5, 6, 70, 8, 40, 1]);
    const victim = [...net.nodes.values()].find((n) => n.role === 'super' && n.leaves().length > 0) as SuperPeerNode;
    const orphans = victim.leaves();
    net.down.add(victim.address);
    for (let r = 0; r < 60; r++) net.round();
    for (const o of orphans) {
      const leaf = net.nodes.get(o) as SuperPeerNode;
      assert.ok(leaf.superPeer !== null && leaf.superPeer !== victim.address, `${o} failed over`);
      assert.ok(leaf.stats.failovers >= 1);
    }
    const from = net.nodes.get(orphans[0] === 'p3' ? 'p4' : 'p3') as SuperPeerNode;
    for (const o of orphans) assert.deepEqual(search(net, from, `item-${o.slice(1)}`), [o]);
  });
});

describe('super-peers in the simulator under churn and the nemesis', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: hierarchy consistent after heal, every item found exactly`, () => {
      const r = runSuperPeer({ seed, nodes: 24, durationMs: 30_000, faults: ALL, ops: 0, params: {} });
      assert.ok(r.nemesis.log.length > 5);
      assert.ok(r.supers >= 2);
      assert.ok(r.meanSuperCapacity > r.meanLeafCapacity, 'super-peers are the stronger peers on average');
    });
  }
});
