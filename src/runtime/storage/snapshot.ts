/**
 * Snapshot files (Raft §7, log compaction): `<index 16 hex>-<term 16 hex>.snap` in one
 * directory, each holding two `record.ts` records: metadata (type 1: last included index in
 * the record index, term and opaque host metadata such as the configuration in the payload)
 * and data (type 2: the state machine image). Installed atomically (temp, fsync, rename,
 * directory fsync); older snapshots beyond `retain` are deleted after each install, and stray
 * temp files at open. Deliberately left out: streaming (a snapshot is one in-memory buffer, at
 * most 2 GiB) and chunked transfer between nodes (the Raft host sends it in messages).
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, CorruptionError } from '../../core/errors.ts';
import { encodeRecords, RECORD_PAYLOAD_BYTES_LIMIT, scanRecords } from './record.ts';
import { fsyncDir, writeFileAtomic } from './fsutil.ts';

export const SNAPSHOT_META_TYPE = 1;
export const SNAPSHOT_DATA_TYPE = 2;

export interface StoredSnapshotMeta {
  /** Index of the last log entry the snapshot includes. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** Opaque host metadata (e.g. the cluster configuration at `index`). */
  readonly meta: Uint8Array;
}

export interface StoredSnapshot extends StoredSnapshotMeta {
  readonly data: Uint8Array;
  readonly file: string;
}

const SNAP_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const hex16 = (n: number): string => n.toString(16).padStart(16, '0');

export function snapshotFileName(index: number, term: number): string {
  return `${hex16(index)}-${hex16(term)}.snap`;
}

export function encodeSnapshot(s: StoredSnapshotMeta, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8 + s.meta.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, Math.floor(s.term / 0x1_0000_0000));
  view.setUint32(4, s.term >>> 0);
  head.set(s.meta, 8);
  return encodeRecords([
    { type: SNAPSHOT_META_TYPE, index: s.index, payload: head },
    { type: SNAPSHOT_DATA_TYPE, index: s.index, payload: data },
  ]);
}

/** Decodes and validates a snapshot file's bytes; throws CorruptionError naming `file`. */
export function decodeSnapshot(bytes: Uint8Array, file: string): Omit<StoredSnapshot, 'file'> {
  const scan = scanRecords(bytes, { file, tornTailAllowed: false, payloadBytesMax: RECORD_PAYLOAD_BYTES_LIMIT });
  const [metaRec, dataRec] = scan.records;
  if (
    scan.records.length !== 2 ||
    metaRec === undefined ||
    dataRec === undefined ||
    metaRec.type !== SNAPSHOT_META_TYPE ||
    dataRec.type !== SNAPSHOT_DATA_TYPE ||
    metaRec.index !== dataRec.index ||
    metaRec.payload.length < 8
  ) {
    throw new CorruptionError(file, 0, 'snapshot file must hold one metadata record and one data record');
  }
  const view = new DataView(metaRec.payload.buffer, metaRec.payload.byteOffset, metaRec.payload.byteLength);
  const term = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  return { index: metaRec.index, term, meta: metaRec.payload.subarray(8), data: dataRec.payload };
}

export interface SnapshotStoreOptions {
  /** How many snapshots to keep (the newest first). Default 2, minimum 1. */
  readonly retain?: number;
}

export class SnapshotStore {
  readonly dir: string;
  private readonly retain: number;

  private constructor(dir: string, retain: number) {
    this.dir = dir;
    this.retain = retain;
  }

  /** Opens (creating) the snapshot directory and removes temp files left by a crash. */
  static async open(dir: string, opts: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    const retain = opts.retain ?? 2;
    if (!Number.isInteger(retain) || retain < 1) throw new ConfigError(`snapshot retain must be an integer >= 1, got ${retain}`);
    await mkdir(dir, { recursive: true });
    const stale = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
    for (const n of stale) await unlink(join(dir, n));
    if (stale.length > 0) await fsyncDir(dir);
    return new SnapshotStore(dir, retain);
  }

  /** Snapshot files, newest (highest index, then term) first. */
  async list(): Promise<{ file: string; index: number; term: number }[]> {
    const out: { file: string; index: number; term: number }[] = [];
    for (const name of await readdir(this.dir)) {
      const m = SNAP_RE.exec(name);
      if (m === null) continue;
      out.push({ file: join(this.dir, name), index: Number.parseInt(m[1]!, 16), term: Number.parseInt(m[2]!, 16) });
    }
    return out.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /**
   * Durably installs a snapshot, then deletes all but the newest `retain` ones. Resolves after
   * the new file is in place and synced; returns the deleted files.
   */
  async install(meta: StoredSnapshotMeta, data: Uint8Array): Promise<{ file: string; removed: string[] }> {
    if (!Number.isSafeInteger(meta.index) || meta.index < 0 || !Number.isSafeInteger(meta.term) || meta.term < 0) {
      throw new RangeError(`snapshot index and term must be non-negative integers, got ${meta.index}/${meta.term}`);
    }
    const file = join(this.dir, snapshotFileName(meta.index, meta.term));
    await writeFileAtomic(file, encodeSnapshot(meta, data));
    const removed: string[] = [];
    for (const old of (await this.list()).slice(this.retain)) {
      await unlink(old.file);
      removed.push(old.file);
    }
    if (removed.length > 0) await fsyncDir(this.dir);
    return { file, removed };
  }

  /** The newest snapshot, or undefined if there is none. Throws CorruptionError if it is damaged. */
  async latest(): Promise<StoredSnapshot | undefined> {
    const newest = (await this.list())[0];
    if (newest === undefined) return undefined;
    const decoded = decodeSnapshot(await readFile(newest.file), newest.file);
    if (decoded.index !== newest.index || decoded.term !== newest.term) {
      throw new CorruptionError(newest.file, 0, `snapshot content (index ${decoded.index}, term ${decoded.term}) does not match its file name`);
    }
    return { ...decoded, file: newest.file };
  }
}
