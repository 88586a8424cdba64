/**
 * The simulated disk of one node: files as byte arrays with explicit fsync.
 *
 * Model (after TigerBeetle's and FoundationDB's storage faults, simplified):
 * - Every write (append, replace, delete) first lands in the page cache (`current`). `fsync`
 *   makes all earlier writes to that file durable.
 * - At a crash, the unsynced writes of each file are replayed in order up to a random point:
 *   a random prefix of them survives, the rest vanish. If torn writes are on, the first lost
 *   append may survive partially (a torn record: a prefix of its bytes). If corruption is on, a
 *   surviving unsynced tail may get one flipped byte.
 * - Synced data never changes, except through an explicit `corrupt()` fault.
 * Replacing a file (`write`) is atomic: after a crash either the old or the new content exists.
 */
import { assert } from '../core/assert.ts';
import type { Rng } from '../core/rng.ts';
import type { SimDisk } from './types.ts';

export interface DiskConfig {
  /** Latency of an asynchronous fsync, ms (uniform in [min, max]). */
  fsyncLatencyMs: { min: number; max: number };
  /** At a crash, an unsynced append may survive as a torn prefix. */
  tornWrites: boolean;
  /** At a crash, probability that a surviving unsynced tail gets one byte flipped. */
  corruptTailRate: number;
}

export const DEFAULT_DISK_CONFIG: DiskConfig = {
  fsyncLatencyMs: { min: 1, max: 5 },
  tornWrites: true,
  corruptTailRate: 0,
};

type PendingOp = { kind: 'append'; data: Uint8Array } | { kind: 'write'; data: Uint8Array } | { kind: 'delete' };

/** A byte buffer with amortized O(1) append, so long append-only logs stay cheap. */
class Bytes {
  private buf: Uint8Array;
  length: number;
  constructor(initial?: Uint8Array) {
    this.buf = new Uint8Array(Math.max(64, initial?.length ?? 0));
    this.length = 0;
    if (initial !== undefined) this.push(initial);
  }
  push(data: Uint8Array): void {
    if (this.length + data.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + data.length));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(data, this.length);
    this.length += data.length;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  copy(): Bytes {
    return new Bytes(this.view());
  }
}

interface FileState {
  /** Durable content; undefined means the file does not exist durably. */
  durable: Bytes | undefined;
  /** Content as the running node sees it. */
  current: Bytes | undefined;
  /** Writes since the last fsync, oldest first. */
  pending: PendingOp[];
}

/** What happened to one file at a crash (for traces and tests). */
export interface CrashReport {
  file: string;
  pendingOps: number;
  keptOps: number;
  tornBytes: number;
  corruptedOffset: number | undefined;
}

export class SimDiskImpl implements SimDisk {
  private readonly files = new Map<string, FileState>();
  /** Scheduler for async fsync completions, bound by the simulator to the owning node. */
  asyncFsync: ((done: () => void) => void) | undefined;
  readonly config: DiskConfig;
  /** Counters. */
  readonly stats = { fsyncs: 0, bytesWritten: 0, crashes: 0 };

  constructor(config: DiskConfig = DEFAULT_DISK_CONFIG) {
    this.config = config;
  }

  list(): string[] {
    const out: string[] = [];
    for (const [name, f] of this.files) if (f.current !== undefined) out.push(name);
    return out.sort();
  }

  read(file: string): Uint8Array | undefined {
    const f = this.files.get(file);
    return f?.current === undefined ? undefined : f.current.view().slice();
  }

  append(file: string, data: Uint8Array): void {
    const f = this.state(file);
    const copy = data.slice();
    if (f.current === undefined) f.current = new Bytes(copy);
    else f.current.push(copy);
    f.pending.push({ kind: 'append', data: copy });
    this.stats.bytesWritten += copy.length;
  }

  write(file: string, data: Uint8Array): void {
    const f = this.state(file);
    const copy = data.slice();
    f.current = new Bytes(copy);
    f.pending.push({ kind: 'write', data: copy });
    this.stats.bytesWritten += copy.length;
  }

  delete(file: string): void {
    const f = this.files.get(file);
    if (f === undefined || f.current === undefined) return;
    f.current = undefined;
    f.pending.push({ kind: 'delete' });
  }

  fsync(file: string): void {
    const f = this.files.get(file);
    this.stats.fsyncs++;
    if (f === undefined) return;
    this.syncOps(file, f, f.pending.length);
  }

  fsyncAll(): void {
    this.stats.fsyncs++;
    for (const [name, f] of this.files) this.syncOps(name, f, f.pending.length);
  }

  fsyncAllAsync(done: () => void): void {
    // Only the writes issued before this call become durable when it completes.
    const marks = new Map<string, number>();
    for (const [name, f] of this.files) marks.set(name, f.pending.length);
    const complete = () => {
      this.stats.fsyncs++;
      for (const [name, count] of marks) {
        const f = this.files.get(name);
        if (f !== undefined) this.syncOps(name, f, Math.min(count, f.pending.length));
      }
      done();
    };
    if (this.asyncFsync === undefined) complete();
    else this.asyncFsync(complete);
  }

  /** True when some write has not been fsynced. */
  hasUnsynced(): boolean {
    for (const f of this.files.values()) if (f.pending.length > 0) return true;
    return false;
  }

  /** Durable content (what survives any crash), for tests and checkers. */
  readDurable(file: string): Uint8Array | undefined {
    return this.files.get(file)?.durable?.view().slice();
  }

  /**
   * Applies the crash model: unsynced writes survive up to a random point, possibly torn or
   * corrupted at the tail. Afterwards `current` equals `durable`.
   */
  crash(rng: Rng): CrashReport[] {
    this.stats.crashes++;
    const reports: CrashReport[] = [];
    for (const name of [...this.files.keys()].sort()) {
      const f = this.files.get(name) as FileState;
      if (f.pending.length === 0) {
        f.current = f.durable?.copy();
        continue;
      }
      const pendingOps = f.pending.length;
      const kept = rng.int(pendingOps + 1);
      let content = f.durable?.view();
      for (let i = 0; i < kept; i++) content = applyOp(content, f.pending[i] as PendingOp);
      let tornBytes = 0;
      const tailStart = f.durable?.length ?? 0;
      const next = f.pending[kept];
      if (this.config.tornWrites && next !== undefined && next.kind === 'append' && next.data.length > 1 && rng.chance(0.5)) {
        tornBytes = rng.range(1, next.data.length - 1);
        content = concat(content ?? new Uint8Array(0), next.data.subarray(0, tornBytes));
      }
      let corruptedOffset: number | undefined;
      if (content !== undefined && content.length > tailStart && rng.chance(this.config.corruptTailRate)) {
        corruptedOffset = rng.range(tailStart, content.length - 1);
        content = content.slice();
        content[corruptedOffset] = ((content[corruptedOffset] ?? 0) ^ (1 << rng.int(8))) & 0xff;
      }
      f.durable = content === undefined ? undefined : new Bytes(content);
      f.current = content === undefined ? undefined : new Bytes(content);
      f.pending = [];
      reports.push({ file: name, pendingOps, keptOps: kept, tornBytes, corruptedOffset });
    }
    for (const [name, f] of [...this.files]) if (f.durable === undefined && f.current === undefined) this.files.delete(name);
    return reports;
  }

  /** Fault: flips one bit of durable data at `offset` (for corruption-detection tests). */
  corrupt(file: string, offset: number, bit = 0): void {
    const f = this.files.get(file);
    assert(f?.durable !== undefined && offset >= 0 && offset < f.durable.length, `corrupt: no durable byte ${offset} in ${file}`);
    const d = f.durable.view();
    d[offset] = ((d[offset] ?? 0) ^ (1 << bit)) & 0xff;
    if (f.pending.length === 0) f.current = f.durable.copy();
  }

  private state(file: string): FileState {
    let f = this.files.get(file);
    if (f === undefined) {
      f = { durable: undefined, current: undefined, pending: [] };
      this.files.set(file, f);
    }
    return f;
  }

  private syncOps(_name: string, f: FileState, count: number): void {
    // Appends mutate the durable buffer in place; `current` is a separate buffer.
    if (count <= 0) return;
    let durable = f.durable;
    for (let i = 0; i < count; i++) {
      const op = f.pending[i] as PendingOp;
      if (op.kind === 'append') {
        if (durable === undefined) durable = new Bytes(op.data);
        else durable.push(op.data);
      } else if (op.kind === 'write') durable = new Bytes(op.data);
      else durable = undefined;
    }
    f.durable = durable;
    f.pending = f.pending.slice(count);
  }
}

function applyOp(content: Uint8Array | undefined, op: PendingOp): Uint8Array | undefined {
  switch (op.kind) {
    case 'append':
      return concat(content ?? new Uint8Array(0), op.data);
    case 'write':
      return op.data;
    case 'delete':
      return undefined;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
