import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CorruptionError } from '../../src/core/errors.ts';
import { type ByteDisk, DiskWal } from '../../src/runtime/storage/disk-wal.ts';
import type { WalRecord } from '../../src/runtime/storage/record.ts';
import { Wal } from '../../src/runtime/storage/wal.ts';

/** A disk where appends are volatile until a sync completes, and the test decides when it does. */
class MemoryDisk implements ByteDisk {
  current = new Map<string, Uint8Array>();
  durable = new Map<string, Uint8Array>();
  private waiting: (() => void)[] = [];
  list(): string[] {
    return [...this.current.keys()].sort();
  }
  read(file: string): Uint8Array | undefined {
    return this.current.get(file);
  }
  append(file: string, data: Uint8Array): void {
    const old = this.current.get(file) ?? new Uint8Array(0);
    const next = new Uint8Array(old.length + data.length);
    next.set(old);
    next.set(data, old.length);
    this.current.set(file, next);
  }
  write(file: string, data: Uint8Array): void {
    this.current.set(file, Uint8Array.from(data));
  }
  delete(file: string): void {
    this.current.delete(file);
  }
  fsyncAllAsync(done: () => void): void {
    this.waiting.push(done);
  }
  get syncsWaiting(): number {
    return this.waiting.length;
  }
  /** Completes the outstanding syncs (and any they trigger), in order. */
  completeSyncs(): void {
    while (this.waiting.length > 0) {
      this.durable = new Map([...this.current].map(([k, v]) => [k, Uint8Array.from(v)]));
      const done = this.waiting.shift()!;
      done();
    }
  }
  /** Loses everything unsynced; `keepBytes` of the unsynced tail of `tornFile` survive (a torn write). */
  crash(tornFile?: string, keepBytes = 0): void {
    this.waiting = [];
    const next = new Map([...this.durable].map(([k, v]) => [k, Uint8Array.from(v)]));
    if (tornFile !== undefined) {
      const cur = this.current.get(tornFile)!;
      const base = this.durable.get(tornFile)?.length ?? 0;
      next.set(tornFile, cur.slice(0, base + keepBytes));
    }
    this.current = next;
  }
}

function rec(i: number, size = 100): WalRecord {
  return { type: 1, index: i, payload: new Uint8Array(size).fill(i & 0xff) };
}
const indexes = (rs: readonly { index: number }[]): number[] => rs.map((r) => r.index);

describe('runtime/storage/DiskWal (the WAL on a simulated disk)', () => {
  it('group-commits appends made while a sync is in flight, and acknowledges only after the sync', () => {
    const disk = new MemoryDisk();
    const { wal } = DiskWal.open(disk);
    const acked: number[] = [];
    wal.append([rec(1)], () => acked.push(1));
    wal.append([rec(2)], () => acked.push(2));
    wal.append([rec(3), rec(4)], () => acked.push(3));
    assert.deepEqual(acked, []);
    assert.equal(disk.syncsWaiting, 1);
    disk.completeSyncs();
    assert.deepEqual(acked, [1, 2, 3]);
    assert.equal(wal.stats().syncs, 2, 'one sync for the first append, one for the two that queued behind it');
  });

  it('a crash before the sync loses the unsynced records and never acknowledges them', () => {
    const disk = new MemoryDisk();
    const { wal } = DiskWal.open(disk);
    const acked: number[] = [];
    wal.append([rec(1)], () => acked.push(1));
    disk.completeSyncs();
    wal.append([rec(2)], () => acked.push(2));
    disk.crash();
    assert.deepEqual(acked, [1]);
    assert.deepEqual(indexes(DiskWal.open(disk).recovery.records), [1]);
  });

  it('a torn tail left by a crash is truncated; appends continue after it', () => {
    const disk = new MemoryDisk();
    const { wal } = DiskWal.open(disk);
    wal.append([rec(1), rec(2)], () => undefined);
    disk.completeSyncs();
    wal.append([rec(3)], () => undefined);
    disk.crash('wal/0000000000000000.wal', 50);
    const { wal: w2, recovery } = DiskWal.open(disk);
    assert.deepEqual(indexes(recovery.records), [1, 2]);
    assert.equal(recovery.truncated?.offset, 2 * 124);
    w2.append([rec(4)], () => undefined);
    disk.completeSyncs();
    assert.deepEqual(indexes(DiskWal.open(disk).recovery.records), [1, 2, 4]);
  });

  it('a flipped byte in the middle is corruption, as on real files', () => {
    const disk = new MemoryDisk();
    const { wal } = DiskWal.open(disk);
    wal.append([rec(1), rec(2), rec(3)], () => undefined);
    disk.completeSyncs();
    disk.current.get('wal/0000000000000000.wal')![124 + 30]! ^= 1;
    assert.throws(
      () => DiskWal.open(disk),
      (err: unknown) => err instanceof CorruptionError && err.file === 'wal/0000000000000000.wal' && err.offset === 124,
    );
  });

  it('writes byte-for-byte what the file WAL writes: each recovers the other', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ck-diskwal-'));
    try {
      // Simulated disk -> real files -> Wal.open
      const disk = new MemoryDisk();
      const { wal } = DiskWal.open(disk, { segmentBytes: 4096 });
      for (let i = 1; i <= 80; i += 4) wal.append([rec(i), rec(i + 1), rec(i + 2), rec(i + 3)], () => undefined);
      disk.completeSyncs();
      assert.ok(wal.stats().segments >= 3);
      const fromSim = join(root, 'from-sim');
      await mkdir(fromSim);
      for (const f of disk.list()) await writeFile(join(fromSim, f.slice('wal/'.length)), disk.read(f)!);
      const real = await Wal.open(fromSim, { segmentBytes: 4096 });
      assert.deepEqual(indexes(real.recovery.records), Array.from({ length: 80 }, (_, i) => i + 1));
      // The same appends through the file WAL produce the same files.
      const fromFiles = join(root, 'from-files');
      const { wal: fw } = await Wal.open(fromFiles, { segmentBytes: 4096 });
      for (let i = 1; i <= 80; i += 4) await fw.append([rec(i), rec(i + 1), rec(i + 2), rec(i + 3)]);
      await fw.close();
      const names = (await readdir(fromFiles)).sort();
      assert.deepEqual(
        names.map((n) => `wal/${n}`),
        disk.list(),
      );
      for (const n of names) assert.deepEqual(new Uint8Array(await readFile(join(fromFiles, n))), disk.read(`wal/${n}`));
      await real.wal.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('releases segments below an index, never the active one', () => {
    const disk = new MemoryDisk();
    const { wal } = DiskWal.open(disk, { segmentBytes: 4096 });
    for (let i = 1; i <= 100; i++) wal.append([rec(i)], () => undefined);
    disk.completeSyncs();
    const segs = wal.segmentInfo();
    const released = wal.releaseBelow(segs[1]!.maxIndex + 1);
    assert.deepEqual(released, [segs[0]!.file, segs[1]!.file]);
    assert.equal(disk.list().length, segs.length - 2);
    wal.releaseBelow(1_000);
    assert.equal(wal.segmentInfo().length, 1);
  });
});
