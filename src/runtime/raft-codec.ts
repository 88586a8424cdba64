/**
 * Byte encodings a real Raft host needs around the sans-IO core: Raft messages on the peer
 * transport, log entries / hard state / snapshot markers as WAL records, and the configuration
 * stored in a snapshot file's metadata. Raft paper Figure 2 (what is persisted) and §7
 * (snapshots); etcd's WAL record kinds (entry, state, snapshot) are the model.
 *
 * Message encoding: a JSON body in which every byte string is replaced by `{"$b": n}`, followed
 * by the byte strings themselves, length-prefixed; so entry payloads travel as raw bytes (no
 * base64 inflation) while the rest stays readable.
 *
 *   u32 json length | u32 blob count | json | (u32 length | bytes) x blob count
 *
 * Deliberately left out: schema evolution (peers of one cluster run one version) and deep
 * validation of peer messages (peers are authenticated members of the cluster).
 */
import { CorruptionError, InvalidArgumentError } from '../core/errors.ts';
import type { ConfState, Entry, HardState, Message } from '../consensus/raft/types.ts';
import type { MessageCodec } from './transport/codec.ts';
import type { WalRecord } from './storage/record.ts';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** WAL record types written by the Raft host. */
export const WAL_ENTRY = 10;
export const WAL_HARD_STATE = 11;
/** A snapshot received from the leader was installed: entries before this record are void. */
export const WAL_SNAPSHOT = 12;

export function encodeRaftMessage(msg: Message): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(msg, function (this: unknown, key: string, value: unknown) {
    const original = (this as Record<string, unknown>)[key];
    if (original instanceof Uint8Array) {
      blobs.push(original);
      return { $b: blobs.length - 1 };
    }
    return value;
  });
  const jsonBytes = enc.encode(json);
  let total = 8 + jsonBytes.length;
  for (const b of blobs) total += 4 + b.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, jsonBytes.length);
  view.setUint32(4, blobs.length);
  out.set(jsonBytes, 8);
  let at = 8 + jsonBytes.length;
  for (const b of blobs) {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

export function decodeRaftMessage(bytes: Uint8Array): Message {
  if (bytes.length < 8) throw new InvalidArgumentError(`raft message of ${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(0);
  const count = view.getUint32(4);
  if (8 + jsonLength > bytes.length) throw new InvalidArgumentError('raft message json runs past the end');
  const blobs: Uint8Array[] = [];
  let at = 8 + jsonLength;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw new InvalidArgumentError('raft message blob table runs past the end');
    const n = view.getUint32(at);
    if (at + 4 + n > bytes.length) throw new InvalidArgumentError('raft message blob runs past the end');
    blobs.push(bytes.slice(at + 4, at + 4 + n));
    at += 4 + n;
  }
  const json = dec.decode(bytes.subarray(8, 8 + jsonLength));
  const msg = JSON.parse(json, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      if (typeof o.$b === 'number' && Object.keys(o).length === 1) {
        const blob = blobs[o.$b];
        if (blob === undefined) throw new InvalidArgumentError(`raft message refers to missing blob ${o.$b}`);
        return blob;
      }
    }
    return value;
  }) as unknown;
  if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') {
    throw new InvalidArgumentError('raft message is not an object with a type');
  }
  return msg as Message;
}

export const raftMessageCodec: MessageCodec<Message> = { encode: encodeRaftMessage, decode: decodeRaftMessage };

// ------------------------------------------------------------------------------ WAL records

/** Entry record payload: u8 kind (0 normal, 1 conf change) | f64 term | data or conf JSON. */
export function entryRecord(e: Entry): WalRecord {
  const body = e.type === 'normal' ? e.data : enc.encode(JSON.stringify(e.change));
  const payload = new Uint8Array(9 + body.length);
  const view = new DataView(payload.buffer);
  view.setUint8(0, e.type === 'normal' ? 0 : 1);
  view.setFloat64(1, e.term);
  payload.set(body, 9);
  return { type: WAL_ENTRY, index: e.index, payload };
}

export function decodeEntryRecord(r: { index: number; payload: Uint8Array; file?: string; offset?: number }): Entry {
  const where = (detail: string) => new CorruptionError(r.file ?? 'wal', r.offset ?? 0, detail);
  if (r.payload.length < 9) throw where('entry record shorter than 9 bytes');
  const view = new DataView(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength);
  const kind = view.getUint8(0);
  const term = view.getFloat64(1);
  const body = r.payload.slice(9);
  if (kind === 0) return { type: 'normal', term, index: r.index, data: body };
  if (kind === 1) return { type: 'conf-change', term, index: r.index, change: JSON.parse(dec.decode(body)) as Extract<Entry, { type: 'conf-change' }>['change'] };
  throw where(`unknown entry kind ${kind}`);
}

export function encodeHardState(hs: HardState): Uint8Array {
  return enc.encode(JSON.stringify(hs));
}

export function decodeHardState(bytes: Uint8Array, file: string, offset: number): HardState {
  try {
    const o = JSON.parse(dec.decode(bytes)) as HardState;
    if (typeof o.term === 'number' && typeof o.vote === 'string' && typeof o.commit === 'number') return o;
  } catch {
    // fall through
  }
  throw new CorruptionError(file, offset, 'hard state record does not parse');
}

export function hardStateRecord(hs: HardState): WalRecord {
  return { type: WAL_HARD_STATE, index: 0, payload: encodeHardState(hs) };
}

export function snapshotMarkerRecord(index: number, term: number): WalRecord {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setFloat64(0, term);
  return { type: WAL_SNAPSHOT, index, payload };
}

/** Newer of two hard states (term, then commit): terms and commits never go back. */
export function laterHardState(a: HardState | undefined, b: HardState | undefined): HardState | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.term !== b.term) return a.term > b.term ? a : b;
  return { term: a.term, vote: a.vote !== '' ? a.vote : b.vote, commit: Math.max(a.commit, b.commit) };
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return enc.encode(JSON.stringify(cs));
}

export function decodeConfState(bytes: Uint8Array, file: string): ConfState {
  try {
    const o = JSON.parse(dec.decode(bytes)) as ConfState;
    if (Array.isArray(o.voters) && Array.isArray(o.learners) && Array.isArray(o.votersOutgoing) && Array.isArray(o.learnersNext)) return o;
  } catch {
    // fall through
  }
  throw new CorruptionError(file, 0, 'snapshot metadata is not a configuration');
}
