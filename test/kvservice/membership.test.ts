import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { b64, prefixRangeEnd, unb64 } from '../../src/http/client.ts';
import { type ProcNode, ProcCluster, status, until, WriteLoad } from './harness.ts';

interface Member {
  ID: string;
  name: string;
  isLearner: boolean;
  peerURLs: string[];
}

describe('kv service membership under load (real processes)', () => {
  let c: ProcCluster;
  before(async () => {
    c = await ProcCluster.create({ nodes: 3 });
    await c.startAll();
  });
  after(async () => {
    await c.destroy();
  });

  it('adds a fourth node as a learner, promotes it, and removes an old member while writes go on', async () => {
    const load = new WriteLoad(c, 3, 'mem');
    await until('writes', 15_000, async () => (load.acked.size >= 50 ? true : undefined));
    const n4 = await c.define('n4', true);
    c.start(n4, c.peersArg());
    const admin = c.client(c.nodes.filter((n) => n.name !== 'n4'), 10_000);
    const added = await admin.call<{ members: Member[] }>('/v3/cluster/member/add', {
      name: 'n4',
      peerURLs: [`http://127.0.0.1:${n4.peerPort}`],
      clientURLs: [n4.url],
      isLearner: true,
    });
    assert.deepEqual(
      added.members.map((m) => [m.name, m.isLearner]),
      [
        ['n1', false],
        ['n2', false],
        ['n3', false],
        ['n4', true],
      ],
    );
    await c.waitHealthy([n4]);
    const leader = await c.leader();
    const target = Number((await status(leader)).raftIndex);
    await until('n4 caught up', 20_000, async () => (Number((await status(n4)).raftAppliedIndex) >= target ? true : undefined), 100);

    const promoted = await admin.call<{ members: Member[] }>('/v3/cluster/member/promote', { ID: 'n4' });
    assert.equal(promoted.members.find((m) => m.name === 'n4')?.isLearner, false);

    const victim = c.nodes.find((n) => n.name !== 'n4' && n !== leader) as ProcNode;
    const victimId = promoted.members.find((m) => m.name === victim.name)?.ID as string;
    const removed = await admin.call<{ members: Member[] }>('/v3/cluster/member/remove', { ID: victimId });
    assert.deepEqual(removed.members.map((m) => m.name).sort(), ['n1', 'n2', 'n3', 'n4'].filter((n) => n !== victim.name));
    await until(`${victim.name} reports it was removed`, 10_000, async () => ((await c.health(victim)) === undefined ? true : undefined), 100);
    await c.kill(victim);

    const before = load.acked.size;
    await until('writes after the changes', 15_000, async () => (load.acked.size >= before + 50 ? true : undefined), 100);
    const acked = await load.stop();
    await admin.close();
    for (const n of c.nodes.filter((x) => x !== victim)) {
      const cl = c.client([n], 10_000);
      const r = await cl.call<{ kvs?: { key: string; value: string }[] }>('/v3/kv/range', { key: b64('mem'), range_end: prefixRangeEnd('mem') });
      await cl.close();
      const got = new Map((r.kvs ?? []).map((kv) => [unb64(kv.key), unb64(kv.value)]));
      const missing = [...acked].filter(([k, v]) => got.get(k) !== v).map(([k]) => k);
      assert.equal(missing.length, 0, `${n.name} lacks ${missing.length} acknowledged writes: ${missing.slice(0, 5).join(', ')}`);
    }
  });
});
