import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { DirectNetwork } from '../../src/overlay/host.ts';
import { hashId, highestBit, xorDistance } from '../../src/overlay/ids.ts';
import { defaultKademliaConfig, kClosest, type KadContact, KademliaNode, type KademliaMsg, validateKademliaConfig } from '../../src/overlay/kademlia.ts';
import { runKademlia } from '../../src/scenarios/kademlia-scenario.ts';
import type { FaultKind } from '../../src/sim/nemesis.ts';

const ALL: FaultKind[] = ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'];

function drive(net: DirectNetwork<KademliaMsg, KademliaNode>, node: KademliaNode, rounds = 20): void {
  net.collect(node);
  net.settle();
  for (let i = 0; i < rounds; i++) net.round();
}

describe('Kademlia metric and config', () => {
  it('§2.1: XOR is a metric: d(x,x)=0, symmetric, triangle inequality', () => {
    const rng = createRng(1);
    for (let i = 0; i < 200; i++) {
      const [x, y, z] = [rng.nextU32(), rng.nextU32(), rng.nextU32()];
      assert.equal(xorDistance(x, x), 0);
      assert.equal(xorDistance(x, y), xorDistance(y, x));
      assert.ok(xorDistance(x, z) <= xorDistance(x, y) + xorDistance(y, z));
    }
    assert.equal(highestBit(1), 0);
    assert.equal(highestBit(0x80000000), 31);
  });
  it('config validation names the field', () => {
    assert.throws(() => validateKademliaConfig({ ...defaultKademliaConfig(), alpha: 0 }), /alpha/);
    assert.throws(() => validateKademliaConfig({ ...defaultKademliaConfig(), shortlistMax: 2 }), /shortlistMax/);
  });
});

describe('Kademlia (Maymounkov & Mazières 2002) on a lossless network', () => {
  it('§2.2: a full k-bucket pings its least-recently-seen contact and keeps it when it answers', () => {
    const config = { ...defaultKademliaConfig(), idBits: 8, k: 2 };
    const net = new DirectNetwork<KademliaMsg, KademliaNode>();
    const names: string[] = [];
    // Find three names in the same bucket of `me` (highest differing bit 7).
    const me = new KademliaNode({ address: 'me', config, rng: createRng(1), bootstrap: [] });
    for (let i = 0; names.length < 3; i++) if (highestBit(xorDistance(me.self.id, hashId(`p${i}`, 8))) === 7) names.push(`p${i}`);
    net.add(me);
    for (const nm of names) net.add(new KademliaNode({ address: nm, config, rng: createRng(2), bootstrap: [] }));
    const [a, b, c] = names as [string, string, string];
    for (const from of [a, b, c]) me.handleMessage(from, { type: 'ping', reqId: 1 });
    assert.deepEqual(
      me.bucket(7).map((x) => x.addr),
      [a, b],
      'the newcomer waits while the oldest is pinged',
    );
    // a is alive and answers the eviction ping: it moves to the tail, c is dropped.
    net.collect(me);
    net.settle();
    assert.deepEqual(
      me.bucket(7).map((x) => x.addr),
      [b, a],
    );
    // Now the least-recently-seen contact b is down: c replaces it after the ping times out.
    net.down.add(b);
    me.handleMessage(c, { type: 'ping', reqId: 2 });
    net.collect(me);
    net.settle();
    for (let i = 0; i < config.rpcTimeoutTicks + 1; i++) {
      me.tick();
      net.collect(me);
      net.settle();
    }
    assert.ok(me.bucket(7).some((x) => x.addr === c), 'the dead least-recently-seen contact was evicted for the newcomer');
    assert.ok(!me.bucket(7).some((x) => x.addr === b));
  });

  it('§2.3: iterative lookups return the k closest nodes in O(log n) steps', () => {
    const config = defaultKademliaConfig();
    const net = new DirectNetwork<KademliaMsg, KademliaNode>();
    const n = 512;
    const nodes: KademliaNode[] = [];
    for (let i = 1; i <= n; i++) nodes.push(new KademliaNode({ address: `n${i}`, config, rng: createRng(4).fork(`n${i}`), bootstrap: [] }));
    for (const x of nodes) net.add(x);
    const all: KadContact[] = nodes.map((x) => x.self);
    for (const x of nodes) x.installTable(all);
    const rng = createRng(9);
    let hops = 0;
    for (let i = 0; i < 100; i++) {
      const from = rng.pick(nodes);
      const target = rng.nextU32();
      from.lookup(target);
      net.collect(from);
      net.settle();
      const r = from.pollResults().find((x) => x.type === 'lookup');
      assert.ok(r !== undefined && r.type === 'lookup');
      const want = kClosest(
        all.filter((c) => c.addr !== from.address),
        target,
        config.k,
      ).map((c) => c.addr);
      assert.deepEqual(
        r.closest.map((c) => c.addr),
        want,
      );
      assert.ok(r.hops <= Math.ceil(Math.log2(n)), `hops ${r.hops}`);
      hops += r.hops;
    }
    assert.ok(hops / 100 <= Math.log2(n) / 2, `mean hops ${hops / 100}`);
  });

  it('store/find-value: a pair is stored on the k closest nodes and found from anywhere', () => {
    const config = { ...defaultKademliaConfig(), k: 4 };
    const net = new DirectNetwork<KademliaMsg, KademliaNode>();
    const nodes: KademliaNode[] = [];
    for (let i = 1; i <= 30; i++) nodes.push(new KademliaNode({ address: `n${i}`, config, rng: createRng(5).fork(`n${i}`), bootstrap: ['n1'] }));
    for (const x of nodes) net.add(x);
    for (let r = 0; r < 60; r++) net.round();
    const writer = nodes[7] as KademliaNode;
    writer.put('color', 'blue');
    drive(net, writer, 0);
    const put = writer.pollResults().find((r) => r.type === 'put');
    assert.equal(put?.type === 'put' ? put.storedOn : 0, 4);
    const want = kClosest(
      nodes.map((x) => x.self),
      hashId('color', 32),
      4,
    ).map((c) => c.addr);
    assert.deepEqual(nodes.filter((x) => x.hasKey('color')).map((x) => x.address).sort(), [...want].sort());
    const reader = nodes[20] as KademliaNode;
    reader.get('color');
    drive(net, reader, 0);
    const got = reader.pollResults().find((r) => r.type === 'get');
    assert.equal(got?.type === 'get' ? got.value : undefined, 'blue');
  });
});

describe('Kademlia in the simulator under churn and the nemesis', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: lookups return the k closest live nodes after heal, values are found`, () => {
      const r = runKademlia({ seed, nodes: 16, durationMs: 30_000, faults: ALL, ops: 10, params: {} });
      assert.ok(r.nemesis.log.length > 5);
      assert.equal(r.keysStored, 10);
    });
  }
});
