import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, CorruptionError, DefiniteError } from '../../src/core/errors.ts';
import { DataDir } from '../../src/runtime/storage/datadir.ts';
import { HardStateFile } from '../../src/runtime/storage/hardstate.ts';
import { encodeRecords, RECORD_HEADER_BYTES, scanRecords, type WalRecord } from '../../src/runtime/storage/record.ts';
import { SnapshotStore } from '../../src/runtime/storage/snapshot.ts';
import { Wal } from '../../src/runtime/storage/wal.ts';
import { NodeStorage } from '../../src/runtime/storage/node-storage.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function rec(i: number, size = 40): WalRecord {
  const payload = new Uint8Array(size);
  for (let k = 0; k < size; k++) payload[k] = (i * 31 + k) & 0xff;
  return { type: 1 + (i % 3), index: i, payload };
}

const scanOpts = { file: 'seg', tornTailAllowed: true, payloadBytesMax: 1 << 20 };

describe('runtime/storage/record (pure codec and recovery scanner)', () => {
  it('round-trips any records, including indexes above 2^32', () => {
    const arb = fc.array(
      fc.record({ type: fc.integer({ min: 1, max: 255 }), index: fc.maxSafeNat(), payload: fc.uint8Array({ maxLength: 64 }) }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(arb, (records) => {
        const scan = scanRecords(encodeRecords(records), scanOpts);
        assert.equal(scan.torn, undefined);
        assert.deepEqual(
          scan.records.map((r) => ({ type: r.type, index: r.index, payload: Uint8Array.from(r.payload) })),
          records.map((r) => ({ type: r.type, index: r.index, payload: Uint8Array.from(r.payload) })),
        );
      }),
      { numRuns: 200 },
    );
  });
  it('treats a cut at any byte of the final record as a torn tail and keeps the earlier records', () => {
    const data = encodeRecords([rec(1), rec(2), rec(3)]);
    const lastStart = 2 * (RECORD_HEADER_BYTES + 40);
    for (let cut = lastStart + 1; cut < data.length; cut++) {
      const scan = scanRecords(data.subarray(0, cut), scanOpts);
      assert.equal(scan.records.length, 2, `cut at ${cut}`);
      assert.equal(scan.validBytes, lastStart);
      assert.equal(scan.torn?.offset, lastStart);
    }
  });
  it('treats a zero-filled tail and a final record with a bad payload CRC as torn', () => {
    const data = encodeRecords([rec(1), rec(2)]);
    const zeroTail = new Uint8Array(data.length + 100);
    zeroTail.set(data);
    assert.equal(scanRecords(zeroTail, scanOpts).torn?.reason, 'zero-filled tail');
    const badLast = Uint8Array.from(data);
    badLast[badLast.length - 1]! ^= 0xff;
    const scan = scanRecords(badLast, scanOpts);
    assert.equal(scan.records.length, 1);
    assert.match(scan.torn?.reason ?? '', /final record payload checksum/);
  });
  it('reports a flipped byte in any non-final record as corruption at that record', () => {
    const data = encodeRecords([rec(1), rec(2), rec(3)]);
    const recBytes = RECORD_HEADER_BYTES + 40;
    for (let pos = 0; pos < 2 * recBytes; pos++) {
      const bad = Uint8Array.from(data);
      bad[pos]! ^= 0x01;
      assert.throws(
        () => scanRecords(bad, scanOpts),
        (err: unknown) => err instanceof CorruptionError && err.offset === Math.floor(pos / recBytes) * recBytes && err.file === 'seg',
        `flip at ${pos}`,
      );
    }
  });
  it('allows no torn tail outside the newest segment', () => {
    const data = encodeRecords([rec(1), rec(2)]);
    assert.throws(() => scanRecords(data.subarray(0, data.length - 3), { ...scanOpts, tornTailAllowed: false }), CorruptionError);
  });
});

describe('runtime/storage on real files', { timeout: 30_000 }, () => {
  let root = '';
  let n = 0;
  const fresh = (): string => join(root, `d${n++}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ck-storage-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('WAL: append and reopen round-trips records across several segments', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir, { segmentBytes: 4096 });
    const all: WalRecord[] = [];
    for (let b = 0; b < 20; b++) {
      const batch = Array.from({ length: 5 }, (_, k) => rec(b * 5 + k + 1, 100));
      all.push(...batch);
      await wal.append(batch);
    }
    assert.ok(wal.stats().segments >= 3, `segments: ${wal.stats().segments}`);
    for (const s of wal.segmentInfo()) assert.ok(s.bytes <= 4096);
    await wal.close();
    const { wal: again, recovery } = await Wal.open(dir, { segmentBytes: 4096 });
    assert.equal(recovery.truncated, undefined);
    assert.deepEqual(
      recovery.records.map((r) => [r.type, r.index, Buffer.from(r.payload).toString('hex')]),
      all.map((r) => [r.type, r.index, Buffer.from(r.payload).toString('hex')]),
    );
    await again.append([rec(1000)]);
    await again.close();
    const third = await Wal.open(dir, { segmentBytes: 4096 });
    assert.equal(third.recovery.records.length, all.length + 1);
    await third.wal.close();
  });

  it('WAL: group commit writes concurrent appends with fewer fsyncs than appends', async () => {
    const { wal } = await Wal.open(fresh());
    await Promise.all(Array.from({ length: 64 }, (_, i) => wal.append([rec(i + 1, 256)])));
    const s = wal.stats();
    assert.equal(s.recordsWritten, 64);
    assert.equal(s.appendCalls, 64);
    // The first append goes alone; everything queued behind it shares the next sync.
    assert.ok(s.syncs <= 2, `syncs: ${s.syncs}`);
    await wal.close();
  });

  it('WAL: a record larger than a segment gets a segment of its own; oversized payload refused', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir, { segmentBytes: 4096, payloadBytesMax: 10_000 });
    await wal.append([rec(1, 100), rec(2, 9000), rec(3, 100)]);
    assert.deepEqual(
      wal.segmentInfo().map((s) => s.maxIndex),
      [1, 2, 3],
    );
    await assert.rejects(wal.append([rec(4, 10_001)]), /exceeds payloadBytesMax/);
    await wal.close();
    assert.equal((await Wal.open(dir, { segmentBytes: 4096, payloadBytesMax: 10_000 })).recovery.records.length, 3);
  });

  it('WAL: refuses appends beyond pendingBytesMax (definite, overloaded) and close waits for queued ones', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir, { payloadBytesMax: 1000, pendingBytesMax: 2048 });
    const first = wal.append([rec(1, 1000)]); // taken by the writer at once
    const second = wal.append([rec(2, 1000)]); // 1024 bytes queued
    const third = wal.append([rec(3, 1000)]); // 2048 bytes queued
    await assert.rejects(wal.append([rec(4, 1000)]), (err: unknown) => {
      assert.ok(err instanceof DefiniteError);
      assert.equal(err.code, 'overloaded');
      return true;
    });
    await wal.close();
    await Promise.all([first, second, third]);
    await assert.rejects(wal.append([rec(5)]), /closed/);
    const { wal: w2, recovery } = await Wal.open(dir, { payloadBytesMax: 1000, pendingBytesMax: 2048 });
    assert.deepEqual(
      recovery.records.map((r) => r.index),
      [1, 2, 3],
    );
    await w2.close();
    await assert.rejects(Wal.open(dir, { segmentBytes: 100 }), ConfigError);
  });

  it('WAL: a torn tail (file truncated mid-record) is truncated on open and appends continue', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir);
    await wal.append([rec(1), rec(2), rec(3)]);
    await wal.close();
    const seg = join(dir, '0000000000000000.wal');
    const full = (await stat(seg)).size;
    await truncate(seg, full - 10);
    const { wal: w2, recovery } = await Wal.open(dir);
    assert.deepEqual(
      recovery.records.map((r) => r.index),
      [1, 2],
    );
    assert.equal(recovery.truncated?.file, seg);
    assert.equal(recovery.truncated?.offset, 2 * (RECORD_HEADER_BYTES + 40));
    assert.equal((await stat(seg)).size, 2 * (RECORD_HEADER_BYTES + 40));
    await w2.append([rec(4)]);
    await w2.close();
    const { wal: w3, recovery: r3 } = await Wal.open(dir);
    assert.deepEqual(
      r3.records.map((r) => r.index),
      [1, 2, 4],
    );
    await w3.close();
  });

  it('WAL: a flipped byte in the middle of a segment stops recovery with the file and offset', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir, { segmentBytes: 4096 });
    for (let i = 1; i <= 60; i++) await wal.append([rec(i, 100)]);
    const firstSeg = wal.segmentInfo()[0]!.file;
    await wal.close();
    const data = await readFile(firstSeg);
    const recBytes = RECORD_HEADER_BYTES + 100;
    const victim = 5 * recBytes + RECORD_HEADER_BYTES + 17; // inside record 6's payload
    data[victim]! ^= 0x40;
    await writeFile(firstSeg, data);
    await assert.rejects(Wal.open(dir, { segmentBytes: 4096 }), (err: unknown) => {
      assert.ok(err instanceof CorruptionError);
      assert.equal(err.file, firstSeg);
      assert.equal(err.offset, 5 * recBytes);
      assert.match(err.message, /0000000000000000\.wal at offset 620/);
      return true;
    });
  });

  it('WAL: a missing segment in the sequence is corruption', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir, { segmentBytes: 4096 });
    for (let i = 1; i <= 100; i++) await wal.append([rec(i, 100)]);
    const segs = wal.segmentInfo();
    await wal.close();
    assert.ok(segs.length >= 3);
    await rm(segs[1]!.file);
    await assert.rejects(Wal.open(dir, { segmentBytes: 4096 }), /sequence gap/);
  });

  it('WAL: releaseBelow deletes only the prefix of closed segments entirely below the index', async () => {
    const dir = fresh();
    const { wal } = await Wal.open(dir, { segmentBytes: 4096 });
    for (let i = 1; i <= 100; i++) await wal.append([rec(i, 100)]);
    const before = wal.segmentInfo();
    const cut = before[2]!.maxIndex; // segments 0 and 1 are entirely below `cut`
    const released = await wal.releaseBelow(cut);
    assert.deepEqual(released, [before[0]!.file, before[1]!.file]);
    assert.deepEqual(await wal.releaseBelow(0), []);
    const all = await wal.releaseBelow(1_000);
    assert.equal(wal.segmentInfo().length, 1, 'the active segment always stays');
    assert.equal(all.length, before.length - 3);
    await wal.close();
    const { wal: w2, recovery } = await Wal.open(dir, { segmentBytes: 4096 });
    assert.equal(recovery.records[0]!.index, before[before.length - 1]!.maxIndex - recovery.records.length + 1);
    assert.equal(recovery.records[recovery.records.length - 1]!.index, 100);
    await w2.close();
  });

  it('hard state: save/load round trip, atomic replace, missing is undefined, damage is corruption', async () => {
    const dir = fresh();
    const dd = await DataDir.open(dir, { clusterId: 'c1', nodeId: 'n1' });
    const hs = new HardStateFile(dd.hardStatePath);
    assert.equal(await hs.load(), undefined);
    await Promise.all([hs.save(bytes('term=1')), hs.save(bytes('term=2 vote=n2'))]);
    assert.equal(text((await hs.load())!), 'term=2 vote=n2');
    assert.equal(text((await new HardStateFile(dd.hardStatePath).load())!), 'term=2 vote=n2');
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
    const raw = await readFile(dd.hardStatePath);
    raw[raw.length - 2]! ^= 1;
    await writeFile(dd.hardStatePath, raw);
    await assert.rejects(hs.load(), CorruptionError);
    await dd.close();
  });

  it('snapshots: install, load the newest, clean up older ones and stray temp files', async () => {
    const dir = fresh();
    await (await SnapshotStore.open(dir)).install({ index: 1, term: 1, meta: bytes('m1') }, bytes('data-1'));
    await writeFile(join(dir, '0000000000000009-0000000000000001.snap.tmp'), 'half-written');
    const store = await SnapshotStore.open(dir, { retain: 2 });
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
    const r2 = await store.install({ index: 10, term: 2, meta: bytes('m10') }, bytes('data-10'));
    assert.deepEqual(r2.removed, []);
    const r3 = await store.install({ index: 2 ** 40, term: 3, meta: bytes('m-big') }, new Uint8Array(100_000).fill(7));
    assert.deepEqual(r3.removed, [join(dir, '0000000000000001-0000000000000001.snap')]);
    const latest = (await store.latest())!;
    assert.equal(latest.index, 2 ** 40);
    assert.equal(latest.term, 3);
    assert.equal(text(latest.meta), 'm-big');
    assert.equal(latest.data.length, 100_000);
    assert.deepEqual((await store.list()).map((s) => s.index), [2 ** 40, 10]);
    const raw = await readFile(latest.file);
    raw[5000]! ^= 1;
    await writeFile(latest.file, raw);
    await assert.rejects(store.latest(), (err: unknown) => err instanceof CorruptionError && err.file === latest.file);
    assert.equal(await (await SnapshotStore.open(fresh())).latest(), undefined);
  });

  it('data dir: refuses a dir of another cluster or node, and a second open while locked', async () => {
    const dir = fresh();
    const dd = await DataDir.open(dir, { clusterId: 'alpha', nodeId: 'n1' });
    assert.equal(dd.created, true);
    await assert.rejects(DataDir.open(dir, { clusterId: 'alpha', nodeId: 'n1' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`in use by process ${process.pid}`));
      return true;
    });
    await dd.close();
    await assert.rejects(DataDir.open(dir, { clusterId: 'beta', nodeId: 'n1' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /belongs to cluster "alpha" \(node "n1"\), not cluster "beta"/);
      return true;
    });
    await assert.rejects(DataDir.open(dir, { clusterId: 'alpha', nodeId: 'n2' }), /belongs to node "n1"/);
    // A refused open must not leave the lock behind.
    const again = await DataDir.open(dir, { clusterId: 'alpha', nodeId: 'n1' });
    assert.equal(again.created, false);
    await again.close();
  });

  it('data dir: a lock left by a dead process is taken over', async () => {
    const dir = fresh();
    await (await DataDir.open(dir, { clusterId: 'alpha', nodeId: 'n1' })).close();
    await writeFile(join(dir, 'LOCK'), '2147483646\n'); // no such pid
    const dd = await DataDir.open(dir, { clusterId: 'alpha', nodeId: 'n1' });
    assert.equal((await readFile(dd.lockPath, 'utf8')).trim(), String(process.pid));
    await dd.close();
  });
});

describe('runtime/storage/NodeStorage', () => {
  it('persists a Ready, compacts with a snapshot, and recovers everything on reopen', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ck-node-'));
    try {
      const dir = join(root, 'n1');
      const id = { clusterId: 'c', nodeId: 'n1' };
      const { storage, recovery } = await NodeStorage.open(dir, id, { wal: { segmentBytes: 4096 } });
      assert.equal(recovery.created, true);
      assert.equal(recovery.hardState, undefined);
      await storage.persist({ records: [rec(1, 100)], hardState: bytes('term 1') });
      await Promise.all(Array.from({ length: 59 }, (_, i) => storage.persist({ records: [rec(i + 2, 100)] })));
      await assert.rejects(NodeStorage.open(dir, id), /in use by process/);
      const segsBefore = storage.wal.segmentInfo().length;
      const c = await storage.compact({ index: 40, term: 1, meta: bytes('conf') }, bytes('state@40'));
      assert.ok(c.removedSegments.length >= 1);
      assert.equal(storage.wal.segmentInfo().length, segsBefore - c.removedSegments.length);
      await storage.close();
      const again = await NodeStorage.open(dir, id, { wal: { segmentBytes: 4096 } });
      assert.equal(again.recovery.created, false);
      assert.equal(text(again.recovery.hardState!), 'term 1');
      assert.equal(again.recovery.snapshot?.index, 40);
      assert.equal(text(again.recovery.snapshot!.data), 'state@40');
      const idx = again.recovery.records.map((r) => r.index);
      assert.equal(idx[idx.length - 1], 60);
      assert.ok(idx[0]! <= 41 && idx[0]! > 1, `first recovered index ${idx[0]}`);
      for (let i = 41; i <= 60; i++) assert.ok(idx.includes(i), `entry ${i} after the snapshot must survive compaction`);
      await again.storage.close();
      await assert.rejects(NodeStorage.open(dir, { clusterId: 'other', nodeId: 'n1' }), ConfigError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
