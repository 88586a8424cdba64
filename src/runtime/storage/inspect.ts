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
import { SnapshotStore } from './snapshot.ts';
import { parseSegmentName, recoverSegments } from './segments.ts';
import { WAL_DEFAULTS } from './wal.ts';

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
  const inputs: { seq: number; file: string; data: Uint8Array }[] = [];
  if (await exists(walDir)) {
    for (const name of (await readdir(walDir)).sort()) {
      const seq = parseSegmentName(name);
      if (seq !== undefined) inputs.push({ seq, file: join(walDir, name), data: await readFile(join(walDir, name)) });
    }
  }
  const log = recoverSegments(inputs, payloadBytesMax);
  const segments: SegmentReport[] = log.segments.map((s, i) => ({
    file: s.file,
    bytes: inputs[i]!.data.length,
    records: s.records,
    firstIndex: s.records === 0 ? undefined : s.minIndex,
    lastIndex: s.records === 0 ? undefined : s.maxIndex,
    tornTailAt: log.truncated?.file === s.file ? log.truncated.offset : undefined,
  }));
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
