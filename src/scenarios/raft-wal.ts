/**
 * The Raft log on a simulated disk: a write-ahead log of CRC-checked records (entries and hard
 * states, in the order the core's Ready hands them out) and a snapshot file replaced atomically.
 * Record format: u32 body length, u32 CRC-32 (IEEE) of the body, JSON body. Recovery replays
 * every valid record into a `MemoryStorage` and truncates a torn or corrupt tail (durably), as
 * the real runtime's WAL does.
 *
 * Leaves out: segment files and preallocation (the runtime's WAL has them).
 */
import type { SimDisk } from '../sim/types.ts';
import { MemoryStorage } from '../consensus/raft/storage.ts';
import type { ConfState, Entry, HardState, Snapshot } from '../consensus/raft/types.ts';

export const WAL_FILE = 'raft.wal';
export const SNAP_FILE = 'raft.snap';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (CRC_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

type EntryJson =
  | { k: 'n'; t: number; i: number; d: string }
  | { k: 'c'; t: number; i: number; c: Extract<Entry, { type: 'conf-change' }>['change'] };

type WalRecord = { r: 'e'; e: EntryJson[] } | { r: 'h'; h: HardState };

const enc = new TextEncoder();
const dec = new TextDecoder();

function b64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

function unb64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function entryToJson(e: Entry): EntryJson {
  return e.type === 'normal' ? { k: 'n', t: e.term, i: e.index, d: b64(e.data) } : { k: 'c', t: e.term, i: e.index, c: e.change };
}

export function entryFromJson(j: EntryJson): Entry {
  return j.k === 'n'
    ? { type: 'normal', term: j.t, index: j.i, data: unb64(j.d) }
    : { type: 'conf-change', term: j.t, index: j.i, change: j.c };
}

export function frame(body: unknown): Uint8Array {
  const bytes = enc.encode(JSON.stringify(body));
  const out = new Uint8Array(8 + bytes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, bytes.length);
  view.setUint32(4, crc32(bytes));
  out.set(bytes, 8);
  return out;
}

/** Valid framed bodies and the byte length of the valid prefix. */
export function unframeAll(bytes: Uint8Array): { bodies: unknown[]; validBytes: number } {
  const bodies: unknown[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off + 8 <= bytes.length) {
    const len = view.getUint32(off);
    const sum = view.getUint32(off + 4);
    if (off + 8 + len > bytes.length) break;
    const body = bytes.subarray(off + 8, off + 8 + len);
    if (crc32(body) !== sum) break;
    try {
      bodies.push(JSON.parse(dec.decode(body)));
    } catch {
      break;
    }
    off += 8 + len;
  }
  return { bodies, validBytes: off };
}

export function walEntriesRecord(entries: readonly Entry[]): Uint8Array {
  const rec: WalRecord = { r: 'e', e: entries.map(entryToJson) };
  return frame(rec);
}

export function walHardStateRecord(hs: HardState): Uint8Array {
  const rec: WalRecord = { r: 'h', h: hs };
  return frame(rec);
}

export function snapshotFile(snap: Snapshot): Uint8Array {
  return frame({ m: snap.metadata, d: b64(snap.data) });
}

export interface Recovered {
  storage: MemoryStorage;
  truncatedBytes: number;
  records: number;
}

/** Rebuilds storage from the disk: snapshot file, then the WAL (torn tail truncated and synced). */
export function recoverStorage(disk: SimDisk, bootstrap: ConfState): Recovered {
  const storage = MemoryStorage.bootstrap(bootstrap);
  const snapBytes = disk.read(SNAP_FILE);
  if (snapBytes) {
    const { bodies } = unframeAll(snapBytes);
    const body = bodies[0] as { m: Snapshot['metadata']; d: string } | undefined;
    if (body) storage.applySnapshot({ metadata: body.m, data: unb64(body.d) });
  }
  const wal = disk.read(WAL_FILE) ?? new Uint8Array(0);
  const { bodies, validBytes } = unframeAll(wal);
  for (const b of bodies) {
    const rec = b as WalRecord;
    if (rec.r === 'e') storage.append(rec.e.map(entryFromJson));
    else storage.setHardState(rec.h);
  }
  const truncatedBytes = wal.length - validBytes;
  if (truncatedBytes > 0) {
    disk.write(WAL_FILE, wal.slice(0, validBytes));
    disk.fsync(WAL_FILE);
  }
  return { storage, truncatedBytes, records: bodies.length };
}

/** Rewrites the WAL to hold only what the storage still has (after a snapshot), atomically. */
export function rewriteWal(disk: SimDisk, storage: MemoryStorage): void {
  const parts = [walEntriesRecord(storage.allEntries()), walHardStateRecord(storage.hardState())];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  disk.write(WAL_FILE, out);
}
