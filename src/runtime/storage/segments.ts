/**
 * The segment rules of the WAL, PURE, shared by the file-backed `Wal`, the byte-disk `DiskWal`
 * (the simulator's disk) and `clusterkit storage check`: segment naming, recovery of a whole
 * log from its segments' bytes (torn tail only in the newest segment, no gaps in the sequence),
 * and how a batch of records is split across segments when one fills up.
 * Deliberately left out: IO of any kind.
 */
import { CorruptionError } from '../../core/errors.ts';
import { recordBytes, type ScannedRecord, scanRecords, type WalRecord } from './record.ts';

export const SEGMENT_RE = /^([0-9a-f]{16})\.wal$/;

export function segmentFileName(seq: number): string {
  return `${seq.toString(16).padStart(16, '0')}.wal`;
}

/** Parses a segment file name (no directory), or undefined if it is not one. */
export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m === null ? undefined : Number.parseInt(m[1]!, 16);
}

/** A record as recovered, with the segment file it came from. */
export interface RecoveredRecord extends ScannedRecord {
  readonly file: string;
}

export interface SegmentState {
  readonly seq: number;
  readonly file: string;
  /** Bytes of whole valid records (the file is truncated to this if a torn tail was found). */
  readonly size: number;
  /** Largest record index (-1 when empty). */
  readonly maxIndex: number;
  readonly records: number;
  /** Smallest record index (-1 when empty). */
  readonly minIndex: number;
}

export interface RecoveredLog {
  readonly records: RecoveredRecord[];
  readonly segments: SegmentState[];
  /** The torn tail found in the newest segment, to be truncated away. */
  readonly truncated?: { readonly file: string; readonly offset: number; readonly droppedBytes: number; readonly reason: string };
}

/**
 * Recovers a log from its segments (sorted by `seq`). `file` is the name used in errors (a path
 * for real files). Throws CorruptionError on a gap in the sequence or damage that is not a torn
 * tail of the newest segment.
 */
export function recoverSegments(
  segments: readonly { readonly seq: number; readonly file: string; readonly data: Uint8Array }[],
  payloadBytesMax: number,
): RecoveredLog {
  const records: RecoveredRecord[] = [];
  const states: SegmentState[] = [];
  let truncated: RecoveredLog['truncated'];
  for (let i = 0; i < segments.length; i++) {
    const { seq, file, data } = segments[i]!;
    const prev = states[states.length - 1];
    if (prev !== undefined && seq !== prev.seq + 1) {
      throw new CorruptionError(file, 0, `WAL segment sequence gap: expected ${segmentFileName(prev.seq + 1)} after ${prev.file}`);
    }
    const scan = scanRecords(data, { file, tornTailAllowed: i === segments.length - 1, payloadBytesMax });
    let maxIndex = -1;
    let minIndex = -1;
    for (const r of scan.records) {
      records.push({ ...r, file });
      if (r.index > maxIndex) maxIndex = r.index;
      if (minIndex === -1 || r.index < minIndex) minIndex = r.index;
    }
    if (scan.torn !== undefined) {
      truncated = { file, offset: scan.torn.offset, droppedBytes: data.length - scan.validBytes, reason: scan.torn.reason };
    }
    states.push({ seq, file, size: scan.validBytes, maxIndex, minIndex, records: scan.records.length });
  }
  return truncated === undefined ? { records, segments: states } : { records, segments: states, truncated };
}

/**
 * Splits a batch into chunks: the first goes to the active segment (holding `activeBytes`), each
 * later one starts a new segment. A segment is rolled when the next record would take a
 * non-empty segment over `segmentBytes`; a record is never split, so a record bigger than a
 * segment gets a segment of its own. Empty chunks are never produced.
 */
export function splitBatch(
  activeBytes: number,
  records: readonly WalRecord[],
  segmentBytes: number,
): { readonly newSegment: boolean; readonly records: WalRecord[] }[] {
  const chunks: { newSegment: boolean; records: WalRecord[] }[] = [];
  let current: { newSegment: boolean; records: WalRecord[] } = { newSegment: false, records: [] };
  let size = activeBytes;
  for (const r of records) {
    const bytes = recordBytes(r.payload.length);
    if (size > 0 && size + bytes > segmentBytes) {
      if (current.records.length > 0) chunks.push(current);
      current = { newSegment: true, records: [] };
      size = 0;
    }
    current.records.push(r);
    size += bytes;
  }
  if (current.records.length > 0) chunks.push(current);
  return chunks;
}
