/**
 * The write-ahead log on real files: a directory of segment files `<seq as 16 hex>.wal`, each a
 * sequence of records in the format of `record.ts`. Implements the persistence half of the
 * Raft Ready contract (etcd-io/raft: "persist before send"): `append(records)` resolves only
 * after the records are written and `fdatasync`ed.
 *
 * Group commit: appends that arrive while a write+sync is in flight are queued and written
 * together by the next single write and single fdatasync, so N concurrent callers cost one sync
 * per batch instead of N. A segment is rolled once it would exceed `segmentBytes` (a record is
 * never split; a record bigger than a segment gets a segment of its own). Recovery on `open`
 * follows `record.ts`: a torn tail of the newest segment is truncated (and reported); any other
 * damage, or a gap in the segment sequence, throws `CorruptionError` naming the file and offset.
 * An IO error during an append poisons the log (every later append fails), because after a
 * failed fsync the page cache can no longer be trusted.
 *
 * Deliberately left out: preallocation of segments, O_DIRECT, and reading records back after
 * open (a host replays what `open` returns and keeps the log in memory).
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../../core/assert.ts';
import { ConfigError, DefiniteError, IndefiniteError } from '../../core/errors.ts';
import { encodeRecords, recordBytes, type WalRecord } from './record.ts';
import { parseSegmentName, type RecoveredRecord, recoverSegments, segmentFileName, splitBatch } from './segments.ts';
import { fsyncDir, writeFully } from './fsutil.ts';

export interface WalOptions {
  /** Roll to a new segment once the current one would exceed this. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Largest accepted payload. Default 16 MiB. */
  readonly payloadBytesMax?: number;
  /** Appended bytes waiting for the next write; beyond this `append` fails 'overloaded'. Default 256 MiB. */
  readonly pendingBytesMax?: number;
}

export const WAL_DEFAULTS = {
  segmentBytes: 64 * 1024 * 1024,
  payloadBytesMax: 16 * 1024 * 1024,
  pendingBytesMax: 256 * 1024 * 1024,
} as const;

export interface WalRecovery {
  readonly records: RecoveredRecord[];
  /** Set when a torn tail was truncated: which file, at which offset, and why. */
  readonly truncated?: { readonly file: string; readonly offset: number; readonly droppedBytes: number; readonly reason: string };
}

export interface WalStats {
  readonly segments: number;
  readonly appendCalls: number;
  readonly recordsWritten: number;
  readonly bytesWritten: number;
  /** Write batches (one write call per segment touched). */
  readonly batches: number;
  /** fdatasync calls on segment files. */
  readonly syncs: number;
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  /** Largest record index in the segment (-1 when empty). */
  maxIndex: number;
  size: number;
}

interface PendingAppend {
  readonly records: readonly WalRecord[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class Wal {
  readonly dir: string;
  private readonly segmentBytes: number;
  private readonly payloadBytesMax: number;
  private readonly pendingBytesMax: number;
  private readonly segments: Segment[];
  private active: FileHandle;
  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushing = false;
  private closed = false;
  private failure: unknown;
  private idleWaiters: (() => void)[] = [];
  private counters = { appendCalls: 0, recordsWritten: 0, bytesWritten: 0, batches: 0, syncs: 0 };

  private constructor(dir: string, opts: Required<WalOptions>, segments: Segment[], active: FileHandle) {
    this.dir = dir;
    this.segmentBytes = opts.segmentBytes;
    this.payloadBytesMax = opts.payloadBytesMax;
    this.pendingBytesMax = opts.pendingBytesMax;
    this.segments = segments;
    this.active = active;
  }

  /** Opens (creating if needed) the log in `dir`, recovers it and returns every record in order. */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; recovery: WalRecovery }> {
    const opts: Required<WalOptions> = { ...WAL_DEFAULTS, ...options };
    if (!Number.isSafeInteger(opts.segmentBytes) || opts.segmentBytes < 4096) {
      throw new ConfigError(`WAL segmentBytes must be an integer >= 4096, got ${opts.segmentBytes}`);
    }
    if (!Number.isSafeInteger(opts.payloadBytesMax) || opts.payloadBytesMax < 1 || opts.payloadBytesMax > 0x7fff_ffff) {
      throw new ConfigError(`WAL payloadBytesMax must be an integer in 1..2^31-1, got ${opts.payloadBytesMax}`);
    }
    if (!Number.isSafeInteger(opts.pendingBytesMax) || opts.pendingBytesMax < recordBytes(opts.payloadBytesMax)) {
      throw new ConfigError(`WAL pendingBytesMax must hold at least one maximal record (${recordBytes(opts.payloadBytesMax)} bytes)`);
    }
    await mkdir(dir, { recursive: true });
    const inputs: { seq: number; file: string; data: Uint8Array }[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const seq = parseSegmentName(name);
      if (seq !== undefined) inputs.push({ seq, file: join(dir, name), data: await readFile(join(dir, name)) });
    }
    const log = recoverSegments(inputs, opts.payloadBytesMax);
    const { records, truncated } = log;
    if (truncated !== undefined) {
      const fh = await open(truncated.file, 'r+');
      try {
        await fh.truncate(truncated.offset);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    const segments: Segment[] = log.segments.map((s) => ({ seq: s.seq, file: s.file, maxIndex: s.maxIndex, size: s.size }));
    let active: FileHandle;
    if (segments.length === 0) {
      const file = join(dir, segmentFileName(0));
      active = await open(file, 'wx');
      await fsyncDir(dir);
      segments.push({ seq: 0, file, maxIndex: -1, size: 0 });
    } else {
      active = await open(segments[segments.length - 1]!.file, 'r+');
    }
    const wal = new Wal(dir, opts, segments, active);
    const recovery: WalRecovery = truncated === undefined ? { records } : { records, truncated };
    return { wal, recovery };
  }

  /**
   * Appends records durably. Resolves after they are written and fdatasynced, together with
   * every other append that joined the same batch. Rejects with a definite error if the log is
   * closed, overloaded or a record is too large; with an indefinite error if the write or sync
   * failed (the records may or may not be on disk).
   */
  append(records: readonly WalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new DefiniteError('closed', 'the WAL is closed'));
    if (this.failure !== undefined) {
      return Promise.reject(new DefiniteError('unavailable', 'the WAL failed earlier and accepts no more writes', { cause: this.failure }));
    }
    let bytes = 0;
    for (const r of records) {
      if (r.payload.length > this.payloadBytesMax) {
        return Promise.reject(
          new DefiniteError('invalid-argument', `WAL record of ${r.payload.length} bytes exceeds payloadBytesMax ${this.payloadBytesMax}`),
        );
      }
      bytes += recordBytes(r.payload.length);
    }
    if (this.pendingBytes + bytes > this.pendingBytesMax) {
      return Promise.reject(
        new DefiniteError('overloaded', `WAL queue full: ${this.pendingBytes} bytes pending, limit ${this.pendingBytesMax}`),
      );
    }
    this.counters.appendCalls++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, bytes, resolve, reject });
      this.pendingBytes += bytes;
      if (!this.flushing) void this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      const records: WalRecord[] = [];
      for (const p of batch) for (const r of p.records) records.push(r);
      try {
        await this.writeBatch(records);
        for (const p of batch) p.resolve();
      } catch (err) {
        this.failure = err;
        const wrapped = new IndefiniteError('crash', `WAL write failed in ${this.dir}: ${String(err)}`, { cause: err });
        for (const p of batch) p.reject(wrapped);
        for (const p of this.pending) p.reject(wrapped);
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
    this.flushing = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async writeBatch(records: readonly WalRecord[]): Promise<void> {
    const active = this.segments[this.segments.length - 1]!;
    for (const chunk of splitBatch(active.size, records, this.segmentBytes)) {
      if (chunk.newSegment) await this.roll();
      await this.writeChunk(chunk.records);
    }
  }

  /** One write + one fdatasync into the active segment. */
  private async writeChunk(chunk: readonly WalRecord[]): Promise<void> {
    const seg = this.segments[this.segments.length - 1]!;
    const data = encodeRecords(chunk);
    await writeFully(this.active, data, seg.size);
    await this.active.datasync();
    seg.size += data.length;
    for (const r of chunk) if (r.index > seg.maxIndex) seg.maxIndex = r.index;
    this.counters.batches++;
    this.counters.syncs++;
    this.counters.recordsWritten += chunk.length;
    this.counters.bytesWritten += data.length;
  }

  private async roll(): Promise<void> {
    const prev = this.segments[this.segments.length - 1]!;
    const seq = prev.seq + 1;
    const file = join(this.dir, segmentFileName(seq));
    const fh = await open(file, 'wx');
    await fsyncDir(this.dir);
    await this.active.close();
    this.active = fh;
    this.segments.push({ seq, file, maxIndex: -1, size: 0 });
  }

  /**
   * Deletes the oldest closed segments whose records all have `index < belowIndex` (call after a
   * snapshot at `belowIndex - 1` is durable). Stops at the first segment that must stay, and never
   * deletes the active segment. Returns the deleted file paths.
   */
  async releaseBelow(belowIndex: number): Promise<string[]> {
    assert(Number.isSafeInteger(belowIndex), `releaseBelow needs an integer index, got ${belowIndex}`);
    const released: string[] = [];
    while (this.segments.length > 1 && this.segments[0]!.maxIndex < belowIndex) {
      const seg = this.segments.shift()!;
      await unlink(seg.file);
      released.push(seg.file);
    }
    if (released.length > 0) await fsyncDir(this.dir);
    return released;
  }

  /** Segment files in order, with their sizes and largest record index. */
  segmentInfo(): { file: string; bytes: number; maxIndex: number }[] {
    return this.segments.map((s) => ({ file: s.file, bytes: s.size, maxIndex: s.maxIndex }));
  }

  stats(): WalStats {
    return { segments: this.segments.length, ...this.counters };
  }

  /** Waits for queued appends to finish, then closes the active segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushing) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.active.close();
  }
}
