import assert from 'node:assert/strict';
import { appendFile, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { b64, prefixRangeEnd, unb64 } from '../../src/http/client.ts';
import { RECORD_HEADER_BYTES } from '../../src/runtime/storage/record.ts';
import { type ProcCluster as Cluster, type ProcNode, ProcCluster, status, until, WriteLoad } from './harness.ts';

/** Every key under `prefix` on node `n` (linearizable unless `serializable`). */
async function dump(c: Cluster, n: ProcNode, prefix: string, serializable = false): Promise<Map<string, string>> {
  const cl = c.client([n], 10_000);
  const r = await cl.call<{ kvs?: { key: string; value: string }[] }>('/v3/kv/range', { key: b64(prefix), range_end: prefixRangeEnd(prefix), serializable });
  await cl.close();
  return new Map((r.kvs ?? []).map((kv) => [unb64(kv.key), unb64(kv.value)]));
}

function assertHasAll(node: string, got: Map<string, string>, acked: Map<string, string>): void {
  const missing: string[] = [];
  for (const [k, v] of acked) if (got.get(k) !== v) missing.push(k);
  assert.equal(missing.length, 0, `${node} lost ${missing.length} acknowledged writes, e.g. ${missing.slice(0, 5).join(', ')}`);
}

async function caughtUp(c: Cluster, n: ProcNode, leader: ProcNode): Promise<void> {
  const target = Number((await status(leader)).raftIndex);
  try {
    await until(`${n.name} applied up to ${target}`, 20_000, async () => (Number((await status(n)).raftAppliedIndex) >= target ? true : undefined), 100);
  } catch (err) {
    throw new Error(`${String(err)}\n${n.name} log tail:\n${n.log.join('').slice(-3000)}\nleader ${leader.name} log tail:\n${leader.log.join('').slice(-2000)}`);
  }
  void c;
}

async function segments(n: ProcNode): Promise<string[]> {
  return (await readdir(join(n.dataDir, 'wal'))).filter((f) => f.endsWith('.wal')).sort();
}

describe('kv service under faults (real processes, SIGKILL, damaged WAL)', () => {
  let c: ProcCluster;
  before(async () => {
    c = await ProcCluster.create({ nodes: 3, snapshotCount: 150, compactionLag: 30, walSegmentBytes: 32 * 1024, autoCompactionRetention: 100 });
    await c.startAll();
  });
  after(async () => {
    await c.destroy();
  });

  it('a follower killed briefly catches up through the log', async () => {
    const leader = await c.leader();
    const follower = c.nodes.find((n) => n !== leader) as ProcNode;
    await c.kill(follower);
    const load = new WriteLoad(c, 2, 'brief');
    await until('some writes', 10_000, async () => (load.acked.size >= 10 ? true : undefined));
    const acked = await load.stop();
    c.start(follower);
    await c.waitHealthy([follower]);
    await caughtUp(c, follower, await c.leader());
    assertHasAll(follower.name, await dump(c, follower, 'brief', true), acked);
    assert.doesNotMatch(follower.log.join(''), /installed a snapshot/);
  });

  it('SIGKILL of the leader under load: a new leader soon, nothing acknowledged lost, the old leader catches up by snapshot', async () => {
    const load = new WriteLoad(c, 4, 'load');
    await until('writes before the kill', 15_000, async () => (load.acked.size >= 100 ? true : undefined));
    const old = await c.leader();
    const killedAt = Date.now();
    await c.kill(old);
    const survivors = c.nodes.filter((n) => n !== old);
    const next = await until('a new leader', 10_000, async () => {
      const hs = await Promise.all(survivors.map((n) => c.health(n)));
      const l = hs[0]?.leader;
      return typeof l === 'string' && l !== '' && l !== old.name && hs.every((h) => h?.leader === l) ? l : undefined;
    });
    const electedMs = Date.now() - killedAt;
    assert.ok(electedMs < 10_000, `new leader ${next} after ${electedMs} ms`);
    // Keep writing while the old leader is down, well past a snapshot and the compaction lag.
    const before = load.acked.size;
    await until('writes after the kill', 30_000, async () => (load.acked.size >= before + 400 ? true : undefined), 100);
    c.start(old);
    await c.waitHealthy([old]);
    const acked = await load.stop();
    const leader = await c.leader();
    await caughtUp(c, old, leader);
    assert.match(old.log.join(''), /installed a snapshot from the leader/, 'the restarted node caught up through a snapshot');
    for (const n of c.nodes) assertHasAll(n.name, await dump(c, n, 'load'), acked);
    assertHasAll(`${old.name} (local)`, await dump(c, old, 'load', true), acked);
    const leaderLog = leader.log.join('');
    assert.match(leaderLog, /snapshot taken/);
    assert.match(leaderLog, /"removedSegments":[1-9]/, 'WAL segments covered by a snapshot are deleted');
  });

  it('auto-compaction goes through the log: every replica compacts at the same revision and holds the same history', async () => {
    // The load above wrote far more than the 100-revision retention; the restarted node got
    // its compaction in a snapshot or from the log, the others from the log.
    const agreed = await until('the replicas agree on revision, compact revision and history hash', 20_000, async () => {
      const hs = await Promise.all(
        c.nodes.map(async (n) => {
          const cl = c.client([n], 5000);
          try {
            return await cl.call<{ hash: string; hash_revision: string; compact_revision: string }>('/v3/maintenance/hashkv', {});
          } finally {
            await cl.close();
          }
        }),
      );
      const first = hs[0];
      if (first === undefined || Number(first.compact_revision) === 0) return undefined;
      // Once the writes stop, the leader's next check (every 500 ms) compacts to within a tenth
      // of the retention of `revision - 100`.
      if (Number(first.hash_revision) - Number(first.compact_revision) > 100 + 10) return undefined;
      const same = hs.every((h) => h.hash === first.hash && h.hash_revision === first.hash_revision && h.compact_revision === first.compact_revision);
      return same ? first : undefined;
    });
    const compactRev = Number(agreed.compact_revision);
    const rev = Number(agreed.hash_revision);
    assert.ok(compactRev > 1 && rev - compactRev >= 100, `compacted at ${compactRev} with revision ${rev}: never more than the retention of 100`);
    for (const n of c.nodes) {
      assert.equal((await status(n)).compactRevision, String(compactRev), `${n.name} status`);
      // History below the compact revision is gone on every replica (serializable: this replica's own state).
      const cl = c.client([n], 5000);
      await assert.rejects(cl.call('/v3/kv/range', { key: b64('load'), range_end: prefixRangeEnd('load'), revision: String(compactRev - 1), serializable: true }), /compact/);
      await cl.close();
    }
    assert.match((await c.leader()).log.join(''), /auto-compacted/);
  });

  it('a crash in the middle of a WAL write (a torn final record) is truncated and the node recovers', async () => {
    const leader = await c.leader();
    const n = c.nodes.find((x) => x !== leader) as ProcNode;
    const cl = c.client([leader]);
    await cl.put('before-tear', 'x');
    await cl.close();
    await caughtUp(c, n, leader);
    await c.kill(n);
    // The process died while writing its next record: the segment ends in that record cut short.
    // (Cutting an already fsynced record instead would lose an entry the node acknowledged,
    // which Raft's durability assumption excludes; the core refuses to go on, as etcd does.)
    const segs = await segments(n);
    const last = join(n.dataDir, 'wal', segs[segs.length - 1] as string);
    const bytes = await readFile(last);
    let at = 0;
    let lastStart = -1;
    while (at + RECORD_HEADER_BYTES <= bytes.length) {
      lastStart = at;
      at += RECORD_HEADER_BYTES + bytes.readUInt32BE(at);
    }
    assert.ok(lastStart >= 0 && at === bytes.length, 'the segment holds whole records');
    await appendFile(last, bytes.subarray(lastStart, bytes.length - 7));
    c.start(n);
    await c.waitHealthy([n]);
    assert.match(n.log.join(''), /truncated a torn WAL tail/);
    const after = c.client([leader]);
    await after.put('after-tear', 'y');
    await after.close();
    await caughtUp(c, n, await c.leader());
    const got = await dump(c, n, 'before-tear', true);
    assert.equal(got.get('before-tear'), 'x');
  });

  it('a flipped byte in the middle of a segment stops the node with the file and offset', async () => {
    const leader = await c.leader();
    const n = c.nodes.find((x) => x !== leader) as ProcNode;
    await c.kill(n);
    const segs = await segments(n);
    const file = join(n.dataDir, 'wal', segs[0] as string);
    const size = (await stat(file)).size;
    const at = Math.floor(size / 2);
    const fh = await open(file, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    const original = b[0] as number;
    b[0] = original ^ 0xff;
    await fh.write(b, 0, 1, at);
    await fh.close();
    const p = c.start(n);
    const { code, output } = await c.exitOf(p, n);
    assert.notEqual(code, 0, 'the node refuses to start');
    assert.match(output, new RegExp(`corrupt data in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} at offset \\d+`));
    // Repair the byte: the node starts again with all its data.
    const fh2 = await open(file, 'r+');
    await fh2.write(Buffer.from([original]), 0, 1, at);
    await fh2.close();
    c.start(n);
    await c.waitHealthy([n]);
  });

  it('a follower whose disk lost fsynced entries it had acknowledged stops, naming the problem and its data dir', async () => {
    const leader = await c.leader();
    const n = c.nodes.find((x) => x !== leader) as ProcNode;
    const cl = c.client([leader]);
    for (let i = 0; i < 30; i++) await cl.put(`lost-${i}`, `v${i}`);
    await cl.close();
    await caughtUp(c, n, leader);
    await c.kill(n);
    // The disk "lies": the second half of the last segment's records (fsynced and acknowledged) vanish.
    const segs = await segments(n);
    const last = join(n.dataDir, 'wal', segs[segs.length - 1] as string);
    const bytes = await readFile(last);
    const starts: number[] = [];
    for (let at = 0; at + RECORD_HEADER_BYTES <= bytes.length; at += RECORD_HEADER_BYTES + bytes.readUInt32BE(at)) starts.push(at);
    assert.ok(starts.length >= 2, `the last segment holds ${starts.length} records`);
    const fh = await open(last, 'r+');
    await fh.truncate(starts[Math.floor(starts.length / 2)] as number);
    await fh.close();
    const p = c.start(n);
    const { code, output } = await c.exitOf(p, n);
    assert.notEqual(code, 0, 'the node stops instead of serving');
    assert.match(output, /raft log of \S+ lost entries/);
    assert.match(output, /corrupted, truncated, or lost/);
    assert.ok(output.includes(n.dataDir), `the message names the data dir ${n.dataDir}`);
  });
});
