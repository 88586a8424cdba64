/**
 * The write-ahead-log record format and its recovery scanner, PURE (bytes in, values out), so
 * the real WAL (`wal.ts`) and the simulator's disk store exactly the same bytes.
 *
 * A record is a 24-byte header followed by the payload (all integers big-endian):
 *
 *   offset  size  field
 *   0       4     payload length in bytes
 *   4       1     record type (1..255; 0 is never written, so zero-filled space is recognisable)
 *   5       3     reserved, zero
 *   8       8     index (an unsigned integer chosen by the writer, e.g. a Raft log index; 0 if none)
 *   16      4     CRC-32C of the payload
 *   20      4     CRC-32C of header bytes 0..20 (so a damaged length is detected before it is used)
 *
 * Recovery rule (as etcd's WAL, made precise): in the LAST segment, a record that runs past the
 * end of the data (a partial header, or a valid header whose payload is cut short), a complete
 * final record whose payload CRC fails, or an all-zero tail is a torn write: the scan stops there
 * and reports the offset to truncate at. Anything else (a bad header or bad payload CRC followed
 * by more data, or any damage in an earlier segment) is corruption: a `CorruptionError` naming
 * the file and offset. Deliberately left out: record compression and encryption at rest.
 */
import { crc32c } from '../../core/checksum.ts';
import { CorruptionError } from '../../core/errors.ts';

export const RECORD_HEADER_BYTES = 24;
/** Largest payload the format can describe; writers use a smaller configured limit. */
export const RECORD_PAYLOAD_BYTES_LIMIT = 0x7fff_ffff;

export interface WalRecord {
  /** 1..255, meaning chosen by the writer. */
  readonly type: number;
  /** Non-negative safe integer chosen by the writer (e.g. the Raft index of an entry), 0 if none. */
  readonly index: number;
  readonly payload: Uint8Array;
}

/** A record found by the scanner, with where it starts (header offset) in its file. */
export interface ScannedRecord extends WalRecord {
  readonly offset: number;
}

export function recordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}

function checkRecord(r: WalRecord): void {
  if (!Number.isInteger(r.type) || r.type < 1 || r.type > 255) {
    throw new RangeError(`WAL record type must be an integer in 1..255, got ${r.type}`);
  }
  if (!Number.isSafeInteger(r.index) || r.index < 0) {
    throw new RangeError(`WAL record index must be a non-negative safe integer, got ${r.index}`);
  }
  if (r.payload.length > RECORD_PAYLOAD_BYTES_LIMIT) {
    throw new RangeError(`WAL record payload of ${r.payload.length} bytes exceeds the format limit`);
  }
}

/** Writes one record into `out` at `at`; returns the offset after it. */
export function writeRecord(out: Uint8Array, at: number, r: WalRecord): number {
  checkRecord(r);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, r.payload.length);
  out[at + 4] = r.type;
  out[at + 5] = 0;
  out[at + 6] = 0;
  out[at + 7] = 0;
  view.setUint32(at + 8, Math.floor(r.index / 0x1_0000_0000));
  view.setUint32(at + 12, r.index >>> 0);
  view.setUint32(at + 16, crc32c(r.payload));
  view.setUint32(at + 20, crc32c(out, 0, at, at + 20));
  out.set(r.payload, at + RECORD_HEADER_BYTES);
  return at + RECORD_HEADER_BYTES + r.payload.length;
}

/** Encodes records back to back into one buffer (one write for a whole batch). */
export function encodeRecords(records: readonly WalRecord[]): Uint8Array {
  let total = 0;
  for (const r of records) total += recordBytes(r.payload.length);
  const out = new Uint8Array(total);
  let at = 0;
  for (const r of records) at = writeRecord(out, at, r);
  return out;
}

export function encodeRecord(r: WalRecord): Uint8Array {
  return encodeRecords([r]);
}

export interface ScanOptions {
  /** File name used in error messages. */
  readonly file: string;
  /** True for the newest segment: only there may a torn tail be truncated. */
  readonly tornTailAllowed: boolean;
  /** Payloads longer than this are treated as a bad header. */
  readonly payloadBytesMax: number;
}

export interface ScanResult {
  readonly records: ScannedRecord[];
  /** Bytes of the data that hold whole, valid records (truncate the file here). */
  readonly validBytes: number;
  /** Set when a torn tail was found (and must be truncated away): why and where. */
  readonly torn?: { readonly offset: number; readonly reason: string };
}

function allZero(data: Uint8Array, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Scans a whole segment. Returns every valid record in order; throws `CorruptionError` on damage
 * that is not a torn tail (see the module comment for the rule).
 */
export function scanRecords(data: Uint8Array, opts: ScanOptions): ScanResult {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: ScannedRecord[] = [];
  let at = 0;
  const torn = (reason: string): ScanResult => {
    if (!opts.tornTailAllowed) throw new CorruptionError(opts.file, at, `${reason} (not the newest segment)`);
    return { records, validBytes: at, torn: { offset: at, reason } };
  };
  while (at < data.length) {
    const remaining = data.length - at;
    if (remaining < RECORD_HEADER_BYTES) {
      return torn(`partial record header (${remaining} of ${RECORD_HEADER_BYTES} bytes)`);
    }
    const headerCrc = view.getUint32(at + 20);
    if (crc32c(data, 0, at, at + 20) !== headerCrc) {
      if (allZero(data, at)) return torn('zero-filled tail');
      throw new CorruptionError(opts.file, at, 'record header checksum mismatch');
    }
    const length = view.getUint32(at);
    const type = data[at + 4]!;
    if (type === 0 || data[at + 5] !== 0 || data[at + 6] !== 0 || data[at + 7] !== 0) {
      throw new CorruptionError(opts.file, at, `bad record header (type ${type})`);
    }
    if (length > opts.payloadBytesMax) {
      throw new CorruptionError(opts.file, at, `record length ${length} exceeds the limit ${opts.payloadBytesMax}`);
    }
    const end = at + RECORD_HEADER_BYTES + length;
    if (end > data.length) {
      return torn(`partial record payload (${data.length - at - RECORD_HEADER_BYTES} of ${length} bytes)`);
    }
    const payload = data.subarray(at + RECORD_HEADER_BYTES, end);
    if (crc32c(payload) !== view.getUint32(at + 16)) {
      if (end === data.length) return torn('final record payload checksum mismatch');
      throw new CorruptionError(opts.file, at, 'record payload checksum mismatch');
    }
    const index = view.getUint32(at + 8) * 0x1_0000_0000 + view.getUint32(at + 12);
    records.push({ type, index, payload, offset: at });
    at = end;
  }
  return { records, validBytes: at };
}
