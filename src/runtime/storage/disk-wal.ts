/**
 * The WAL over a byte-array disk: the same segments, records, recovery and group commit as the
 * file-backed `Wal`, on any store with the shape of the simulator's `SimDisk` (files as byte
 * arrays, appends not durable until an asynchronous fsync completes). A simulated node therefore
 * writes exactly the bytes a real node writes, and a crash in the simulator (unsynced appends
 * lost, possibly a torn tail) is recovered by exactly the code that recovers real files.
 *
 * Callback style, no promises: `append(records, onDurable)` calls `onDurable` once the batch the
 * records joined is synced (never, if the node crashes first). Appends made while a sync is in
 * flight are written together and covered by the next single sync.
 * Deliberately left out: IO errors (a simulated disk reports faults as lost or torn writes).
 */
import { ConfigError, DefiniteError } from '../../core/errors.ts';
import { encodeRecords, recordBytes, type WalRecord } from './record.ts';
import { parseSegmentName, recoverSegments, segmentFileName, splitBatch } from './segments.ts';
import type { WalRecovery } from './wal.ts';
import { WAL_DEFAULTS } from './wal.ts';

/** The part of the simulator's `SimDisk` the WAL needs (structurally compatible). */
export interface ByteDisk {
  list(): string[];
  read(file: string): Uint8Array | undefined;
  append(file: string, data: Uint8Array): void;
  /** Atomic replace. */
  write(file: string, data: Uint8Array): void;
  delete(file: string): void;
  fsyncAllAsync(done: () => void): void;
}

export interface DiskWalOptions {
  /** Directory prefix of the segment files on the disk. Default "wal". */
  readonly dir?: string;
  readonly segmentBytes?: number;
  readonly payloadBytesMax?: number;
  readonly pendingBytesMax?: number;
}

interface DiskSegment {
  readonly seq: number;
  readonly file: string;
  size: number;
  maxIndex: number;
}

export class DiskWal {
  private readonly disk: ByteDisk;
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly payloadBytesMax: number;
  private readonly pendingBytesMax: number;
  private readonly segments: DiskSegment[];
  private pending: { records: readonly WalRecord[]; onDurable: () => void }[] = [];
  private pendingBytes = 0;
  private syncing = false;
  private counters = { recordsWritten: 0, syncs: 0 };

  private constructor(disk: ByteDisk, dir: string, opts: Required<Omit<DiskWalOptions, 'dir'>>, segments: DiskSegment[]) {
    this.disk = disk;
    this.dir = dir;
    this.segmentBytes = opts.segmentBytes;
    this.payloadBytesMax = opts.payloadBytesMax;
    this.pendingBytesMax = opts.pendingBytesMax;
    this.segments = segments;
  }

  /** Recovers the log from the disk (truncating a torn tail) and returns it with every record. */
  static open(disk: ByteDisk, options: DiskWalOptions = {}): { wal: DiskWal; recovery: WalRecovery } {
    const dir = options.dir ?? 'wal';
    const opts = {
      segmentBytes: options.segmentBytes ?? WAL_DEFAULTS.segmentBytes,
      payloadBytesMax: options.payloadBytesMax ?? WAL_DEFAULTS.payloadBytesMax,
      pendingBytesMax: options.pendingBytesMax ?? WAL_DEFAULTS.pendingBytesMax,
    };
    if (!Number.isSafeInteger(opts.segmentBytes) || opts.segmentBytes < 4096) {
      throw new ConfigError(`WAL segmentBytes must be an integer >= 4096, got ${opts.segmentBytes}`);
    }
    const prefix = `${dir}/`;
    const inputs: { seq: number; file: string; data: Uint8Array }[] = [];
    for (const file of disk.list()) {
      if (!file.startsWith(prefix)) continue;
      const seq = parseSegmentName(file.slice(prefix.length));
      if (seq === undefined) continue;
      inputs.push({ seq, file, data: disk.read(file) ?? new Uint8Array(0) });
    }
    inputs.sort((a, b) => a.seq - b.seq);
    const log = recoverSegments(inputs, opts.payloadBytesMax);
    if (log.truncated !== undefined) {
      const data = disk.read(log.truncated.file) ?? new Uint8Array(0);
      disk.write(log.truncated.file, data.slice(0, log.truncated.offset));
    }
    const segments: DiskSegment[] = log.segments.map((s) => ({ seq: s.seq, file: s.file, size: s.size, maxIndex: s.maxIndex }));
    if (segments.length === 0) segments.push({ seq: 0, file: `${prefix}${segmentFileName(0)}`, size: 0, maxIndex: -1 });
    const wal = new DiskWal(disk, dir, opts, segments);
    const recovery: WalRecovery = log.truncated === undefined ? { records: log.records } : { records: log.records, truncated: log.truncated };
    return { wal, recovery };
  }

  /**
   * Appends records; `onDurable` runs after the sync that covers them. Throws a definite error
   * (nothing written) for an oversized record or a full queue.
   */
  append(records: readonly WalRecord[], onDurable: () => void): void {
    let bytes = 0;
    for (const r of records) {
      if (r.payload.length > this.payloadBytesMax) {
        throw new DefiniteError('invalid-argument', `WAL record of ${r.payload.length} bytes exceeds payloadBytesMax ${this.payloadBytesMax}`);
      }
      bytes += recordBytes(r.payload.length);
    }
    if (this.pendingBytes + bytes > this.pendingBytesMax) {
      throw new DefiniteError('overloaded', `WAL queue full: ${this.pendingBytes} bytes pending, limit ${this.pendingBytesMax}`);
    }
    this.pending.push({ records, onDurable });
    this.pendingBytes += bytes;
    if (!this.syncing) this.flush();
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const records: WalRecord[] = [];
    for (const p of batch) for (const r of p.records) records.push(r);
    const chunks = splitBatch(this.segments[this.segments.length - 1]!.size, records, this.segmentBytes);
    this.syncing = true;
    // As the file-backed WAL: a segment is synced before the next one is started, so a crash can
    // tear only the newest segment.
    const step = (i: number): void => {
      const chunk = chunks[i];
      if (chunk !== undefined) {
        if (chunk.newSegment) {
          const seq = this.segments[this.segments.length - 1]!.seq + 1;
          this.segments.push({ seq, file: `${this.dir}/${segmentFileName(seq)}`, size: 0, maxIndex: -1 });
        }
        const seg = this.segments[this.segments.length - 1]!;
        const data = encodeRecords(chunk.records);
        this.disk.append(seg.file, data);
        seg.size += data.length;
        for (const r of chunk.records) if (r.index > seg.maxIndex) seg.maxIndex = r.index;
        this.counters.recordsWritten += chunk.records.length;
      }
      this.counters.syncs++;
      this.disk.fsyncAllAsync(() => {
        if (i + 1 < chunks.length) {
          step(i + 1);
          return;
        }
        this.syncing = false;
        for (const p of batch) p.onDurable();
        if (this.pending.length > 0 && !this.syncing) this.flush();
      });
    };
    step(0);
  }

  /** Deletes the oldest non-active segments whose records all have `index < belowIndex`. */
  releaseBelow(belowIndex: number): string[] {
    const released: string[] = [];
    while (this.segments.length > 1 && this.segments[0]!.maxIndex < belowIndex) {
      const seg = this.segments.shift()!;
      this.disk.delete(seg.file);
      released.push(seg.file);
    }
    return released;
  }

  segmentInfo(): { file: string; bytes: number; maxIndex: number }[] {
    return this.segments.map((s) => ({ file: s.file, bytes: s.size, maxIndex: s.maxIndex }));
  }

  stats(): { segments: number; recordsWritten: number; syncs: number } {
    return { segments: this.segments.length, ...this.counters };
  }
}
