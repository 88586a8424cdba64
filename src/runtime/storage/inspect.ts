/**
 * Read-only verification of a data directory (or a bare WAL directory): scans every WAL
 * segment with the same recovery rules as `Wal.open`, loads the hard state and the newest
 * snapshot, and reports what a node would find, without truncating or locking anything. Used by
 * `clusterkit storage check`. Throws `CorruptionError` (file and offset) where a node would
 * refuse to start. Deliberately left out: repair.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptionError } from '../../core/errors.ts';
import { HardStateFile } from './hardstate.ts';
import { scanRecords } from './record.ts';
import { SnapshotStore } from './snapshot.ts';
import { segmentFileName, WAL_DEFAULTS } from './wal.ts';

export interface SegmentReport {
  readonly file: string;
  readonly bytes: number;
  readonly records: number;
  /** Smallest and largest record index (undefined when the segment is empty). */
  readonly firstIndex: number | undefined;
  readonly lastIndex: number | undefined;
  /** Where a torn tail starts (a node would truncate here on open). */
  readonly tornTailAt: number | undefined;
}

export interface StorageReport {
  readonly dir: string;
  readonly identity: { readonly clusterId: string; readonly nodeId: string } | undefined;
  readonly segments: SegmentReport[];
  readonly hardStateBytes: number | undefined;
  readonly snapshot: { readonly file: string; readonly index: number; readonly term: number; readonly dataBytes: number } | undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function inspectStorage(dir: string, payloadBytesMax: number = WAL_DEFAULTS.payloadBytesMax): Promise<StorageReport> {
  const isDataDir = await exists(join(dir, 'clusterkit.json'));
  let identity: StorageReport['identity'];
  if (isDataDir) {
    const idPath = join(dir, 'clusterkit.json');
    try {
      const parsed = JSON.parse(await readFile(idPath, 'utf8')) as { clusterId?: unknown; nodeId?: unknown };
      if (typeof parsed.clusterId === 'string' && typeof parsed.nodeId === 'string') {
        identity = { clusterId: parsed.clusterId, nodeId: parsed.nodeId };
      }
    } catch {
      throw new CorruptionError(idPath, 0, 'identity file is not valid JSON');
    }
  }
  const walDir = isDataDir ? join(dir, 'wal') : dir;
  const names = (await exists(walDir)) ? (await readdir(walDir)).filter((n) => /^[0-9a-f]{16}\.wal$/.test(n)).sort() : [];
  const segments: SegmentReport[] = [];
  for (let i = 0; i < names.length; i++) {
    const file = join(walDir, names[i]!);
    const seq = Number.parseInt(names[i]!.slice(0, 16), 16);
    if (i > 0) {
      const prevSeq = Number.parseInt(names[i - 1]!.slice(0, 16), 16);
      if (seq !== prevSeq + 1) throw new CorruptionError(file, 0, `WAL segment sequence gap: expected ${segmentFileName(prevSeq + 1)}`);
    }
    const data = await readFile(file);
    const scan = scanRecords(data, { file, tornTailAllowed: i === names.length - 1, payloadBytesMax });
    let first: number | undefined;
    let last: number | undefined;
    for (const r of scan.records) {
      first = first === undefined ? r.index : Math.min(first, r.index);
      last = last === undefined ? r.index : Math.max(last, r.index);
    }
    segments.push({ file, bytes: data.length, records: scan.records.length, firstIndex: first, lastIndex: last, tornTailAt: scan.torn?.offset });
  }
  let hardStateBytes: number | undefined;
  let snapshot: StorageReport['snapshot'];
  if (isDataDir) {
    hardStateBytes = (await new HardStateFile(join(dir, 'hardstate')).load())?.length;
    const snapDir = join(dir, 'snap');
    if (await exists(snapDir)) {
      const store = await SnapshotStore.open(snapDir).catch(() => undefined);
      const latest = await store?.latest();
      if (latest !== undefined) snapshot = { file: latest.file, index: latest.index, term: latest.term, dataBytes: latest.data.length };
    }
  }
  return { dir, identity, segments, hardStateBytes, snapshot };
}
