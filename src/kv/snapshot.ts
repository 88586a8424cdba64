/**
 * The KV state machine's snapshot format (format 2): a compact binary encoding built
 * incrementally, so a host can spread the work over many event-loop turns while it keeps
 * applying entries (the idea of etcd's backend snapshot, which reads a consistent bbolt view
 * without stopping the apply loop).
 *
 * The builder captures an immutable view when it starts, in O(1) for the history: an MvccView
 * (copy on write in the store; version objects never change once written), and copies of the
 * scalars, leases and client sessions. Later writes and compactions change the
 * store, not the view; `step(n)` encodes the next `n` versions and feeds them to the SHA-256;
 * `finish()` assembles "CKKVSNAP", the digest and the body. Equal states give equal bytes.
 *
 * Body layout (uvarint = unsigned LEB128 up to 2^53, str = uvarint length + bytes):
 *   u8 format (2) | uvarint appliedIndex, revision, compactRevision, nextLeaseId |
 *   uvarint versionCount | per version: str key, uvarint main, sub, create, version, lease,
 *   u8 tombstone, str value |
 *   uvarint leaseCount | per lease: f64 id, ttlSec, expiryMs |
 *   uvarint sessionCount | per session: str id (UTF-8), uvarint seq, str result (UTF-8)
 *
 * Leaves out: streaming the snapshot to disk while building it (the whole snapshot is held in
 * memory once, as before) and compression.
 */
import { createHash, type Hash } from 'node:crypto';
import { assert } from '../core/assert.ts';
import type { KeyVersion, MvccView } from './mvcc.ts';

export const SNAPSHOT_MAGIC = 'CKKVSNAP';
export const SNAPSHOT_HEADER_BYTES = 8 + 32;
export const SNAPSHOT_FORMAT_BINARY = 2;

/** The immutable state a snapshot is built from. */
export interface SnapshotView {
  appliedIndex: number;
  revision: number;
  compactRevision: number;
  nextLeaseId: number;
  /** Every held version (grouped by key in key order, main-ordered within a key), as of the view's revision. */
  history: MvccView;
  leases: readonly (readonly [number, number, number])[];
  sessions: readonly (readonly [string, number, string])[];
}

const CHUNK_BYTES = 1 << 20;

/** Appends bytes to a list of chunks, hashing each chunk as it is closed. */
class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  private readonly chunks: Buffer[] = [];
  private total = 0;

  constructor(private readonly hash: Hash) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
  }

  flush(): void {
    if (this.pos === 0) return;
    const c = this.buf.subarray(0, this.pos);
    this.hash.update(c);
    this.chunks.push(c);
    this.total += this.pos;
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  uvarint(v: number): void {
    assert(Number.isSafeInteger(v) && v >= 0, `snapshot: ${v} is not a non-negative safe integer`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A binary string (one byte per char code), as keys are held. */
  latin1(s: string): void {
    this.uvarint(s.length);
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.uvarint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  get length(): number {
    return this.total + this.pos;
  }

  /** The chunks written (after `flush()`), and their total length. */
  written(): { chunks: readonly Buffer[]; total: number } {
    return { chunks: this.chunks, total: this.total };
  }
}

/** Builds one snapshot from a captured view, a few versions at a time. */
export class SnapshotBuilder {
  private readonly hash = createHash('sha256');
  private readonly w = new ChunkWriter(this.hash);
  private keyIndex = 0;
  private inKey = 0;
  private written = 0;
  private encoded = false;
  private done = false;
  /** The output, allocated once every part is encoded, and filled chunk by chunk. */
  private out: Uint8Array | undefined;
  private outAt = 0;
  private chunkIndex = 0;

  /** `prefix`: bytes to put before the snapshot in the same buffer (a host's own framing). */
  constructor(
    private readonly view: SnapshotView,
    private readonly prefix: Uint8Array = new Uint8Array(0),
  ) {
    const w = this.w;
    w.u8(SNAPSHOT_FORMAT_BINARY);
    w.uvarint(view.appliedIndex);
    w.uvarint(view.revision);
    w.uvarint(view.compactRevision);
    w.uvarint(view.nextLeaseId);
    w.uvarint(view.history.count);
  }

  /** Versions in the snapshot. */
  get versionCount(): number {
    return this.view.history.count;
  }

  /** Lets go of the view without finishing (`finish()` does it too). */
  close(): void {
    this.view.history.release();
  }

  /**
   * Encodes up to `maxVersions` more versions, or, once all are encoded, copies up to
   * `maxVersions` x 256 bytes (at least 1 MiB) into the output; returns true when the output
   * is complete.
   */
  step(maxVersions: number): boolean {
    if (this.done) return true;
    if (this.encoded) return this.assemble(Math.max(CHUNK_BYTES, maxVersions * 256));
    const w = this.w;
    const h = this.view.history;
    let budget = Math.max(1, maxVersions);
    while (budget > 0 && this.keyIndex < h.keys.length) {
      const list = h.list(h.keys[this.keyIndex] as string);
      let i = this.inKey;
      for (; i < list.length && budget > 0; i++) {
        const v = list[i] as KeyVersion;
        if (v.main > h.revision) {
          i = list.length;
          break;
        }
        w.latin1(v.key);
        w.uvarint(v.main);
        w.uvarint(v.sub);
        w.uvarint(v.create);
        w.uvarint(v.version);
        w.uvarint(v.lease);
        w.u8(v.tombstone ? 1 : 0);
        w.bytes(v.value);
        budget--;
        this.written++;
      }
      if (i >= list.length) {
        this.keyIndex++;
        this.inKey = 0;
      } else {
        this.inKey = i;
      }
    }
    if (this.keyIndex < h.keys.length) return false;
    assert(this.written === h.count, `snapshot: wrote ${this.written} versions, the view holds ${h.count}`);
    w.uvarint(this.view.leases.length);
    for (const [id, ttlSec, expiryMs] of this.view.leases) {
      w.f64(id);
      w.f64(ttlSec);
      w.f64(expiryMs);
    }
    w.uvarint(this.view.sessions.length);
    for (const [id, seq, result] of this.view.sessions) {
      w.utf8(id);
      w.uvarint(seq);
      w.utf8(result);
    }
    this.encoded = true;
    this.w.flush();
    this.view.history.release();
    const { total } = this.w.written();
    const pre = this.prefix.length;
    const out = new Uint8Array(pre + SNAPSHOT_HEADER_BYTES + total);
    out.set(this.prefix, 0);
    out.set(Buffer.from(SNAPSHOT_MAGIC, 'latin1'), pre);
    out.set(this.hash.digest(), pre + 8);
    this.out = out;
    this.outAt = pre + SNAPSHOT_HEADER_BYTES;
    return false;
  }

  private assemble(maxBytes: number): boolean {
    const out = this.out as Uint8Array;
    const { chunks } = this.w.written();
    let copied = 0;
    while (this.chunkIndex < chunks.length && copied < maxBytes) {
      const c = chunks[this.chunkIndex++] as Buffer;
      out.set(c, this.outAt);
      this.outAt += c.length;
      copied += c.length;
    }
    if (this.chunkIndex < chunks.length) return false;
    this.done = true;
    return true;
  }

  /** The snapshot bytes (after the prefix); `step` must have returned true. */
  finish(): Uint8Array {
    assert(this.done, 'snapshot: finish() before step() returned true');
    return this.out as Uint8Array;
  }
}

export interface DecodedSnapshotBody {
  appliedIndex: number;
  revision: number;
  compactRevision: number;
  nextLeaseId: number;
  versions: KeyVersion[];
  leases: [number, number, number][];
  sessions: [string, number, string][];
}

/** Reads a format-2 body; throws Error(message, with the offset) on malformed input. */
export function decodeBinaryBody(body: Uint8Array): DecodedSnapshotBody {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at body offset ${pos}`);
  };
  const need = (n: number) => {
    if (pos + n > buf.length) fail(`truncated (${n} more bytes needed)`);
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++] as number;
  };
  const uvarint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = u8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
      if (mul > 2 ** 53) fail('varint too long');
    }
    if (!Number.isSafeInteger(v)) fail('varint out of range');
    return v;
  };
  const f64 = (): number => {
    need(8);
    const v = buf.readDoubleLE(pos);
    pos += 8;
    return v;
  };
  const bytes = (): Uint8Array => {
    const n = uvarint();
    need(n);
    // A copy: the snapshot buffer is not kept alive by the restored state.
    const out = new Uint8Array(n);
    out.set(buf.subarray(pos, pos + n));
    pos += n;
    return out;
  };
  const latin1 = (): string => {
    const n = uvarint();
    need(n);
    const s = buf.toString('latin1', pos, pos + n);
    pos += n;
    return s;
  };
  const utf8 = (): string => {
    const n = uvarint();
    need(n);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const format = u8();
  if (format !== SNAPSHOT_FORMAT_BINARY) fail(`unknown format ${format}`);
  const appliedIndex = uvarint();
  const revision = uvarint();
  const compactRevision = uvarint();
  const nextLeaseId = uvarint();
  const count = uvarint();
  // Each version takes at least 9 bytes: a count beyond that is damage, not a huge allocation.
  if (count > (buf.length - pos) / 9) fail(`version count ${count} exceeds the body`);
  const versions: KeyVersion[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const key = latin1();
    const main = uvarint();
    const sub = uvarint();
    const create = uvarint();
    const version = uvarint();
    const lease = uvarint();
    const tomb = u8();
    if (tomb > 1) fail(`versions[${i}] tombstone flag ${tomb}`);
    const value = bytes();
    versions[i] = { key, main, sub, value, create, version, lease, tombstone: tomb === 1 };
  }
  const leaseCount = uvarint();
  if (leaseCount > (buf.length - pos) / 24) fail(`lease count ${leaseCount} exceeds the body`);
  const leases: [number, number, number][] = [];
  for (let i = 0; i < leaseCount; i++) {
    const row: [number, number, number] = [f64(), f64(), f64()];
    if (!row.every((x) => Number.isSafeInteger(x))) fail(`leases[${i}] malformed`);
    leases.push(row);
  }
  const sessionCount = uvarint();
  if (sessionCount > (buf.length - pos) / 3) fail(`session count ${sessionCount} exceeds the body`);
  const sessions: [string, number, string][] = [];
  for (let i = 0; i < sessionCount; i++) sessions.push([utf8(), uvarint(), utf8()]);
  if (pos !== buf.length) fail(`${buf.length - pos} trailing bytes`);
  return { appliedIndex, revision, compactRevision, nextLeaseId, versions, leases, sessions };
}
