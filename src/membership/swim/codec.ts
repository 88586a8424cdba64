/**
 * SWIM packet codec: a 6-byte header (magic 0x53, version 1, big-endian u32 body length) and a
 * UTF-8 JSON body validated field by field. Decoding never throws: a malformed, truncated,
 * oversized or schema-violating packet comes back as a rejection with a reason the member
 * counts. JSON keeps the wire format debuggable; the header makes truncation detectable.
 * Leaves out compression and checksums (UDP has one; the runtime's AES-GCM layer authenticates).
 */
import { isNodeId } from '../../core/ids.ts';
import type { MemberRecord, MemberState, SwimBody, SwimPacket, SwimUpdate } from './messages.ts';

export const CODEC_MAGIC = 0x53;
export const CODEC_VERSION = 1;
export const HEADER_BYTES = 6;
export const ADDRESS_CHARS_MAX = 255;
/** Hard cap on updates in one packet, whatever its size. */
export const UPDATES_PER_PACKET_MAX = 512;

export type RejectReason = 'oversized' | 'truncated' | 'bad-magic' | 'bad-version' | 'malformed' | 'invalid';
export const REJECT_REASONS: readonly RejectReason[] = ['oversized', 'truncated', 'bad-magic', 'bad-version', 'malformed', 'invalid'];

export type DecodeResult = { ok: true; packet: SwimPacket } | { ok: false; reason: RejectReason; detail: string };

export interface CodecLimits {
  /** Largest whole packet (header + body), bytes. */
  bytesMax: number;
  metaBytesMax: number;
  /** Largest member list in a push-pull. */
  membersMax: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encoded size of a JSON value's UTF-8 text, bytes. */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value));
}

export function utf8Bytes(text: string): number {
  // Fast path for ASCII, exact otherwise.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}

export function encodePacket(packet: SwimPacket): Uint8Array {
  const body = encoder.encode(JSON.stringify(packet));
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out[0] = CODEC_MAGIC;
  out[1] = CODEC_VERSION;
  new DataView(out.buffer).setUint32(2, body.length, false);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Size `encodePacket` would produce, bytes. */
export function encodedSize(packet: SwimPacket): number {
  return HEADER_BYTES + jsonBytes(packet);
}

export function decodePacket(bytes: Uint8Array, limits: CodecLimits): DecodeResult {
  if (bytes.length > limits.bytesMax) return reject('oversized', `${bytes.length} bytes > ${limits.bytesMax}`);
  if (bytes.length < HEADER_BYTES) return reject('truncated', `${bytes.length} bytes < ${HEADER_BYTES}-byte header`);
  if (bytes[0] !== CODEC_MAGIC) return reject('bad-magic', `first byte 0x${(bytes[0] ?? 0).toString(16)}`);
  if (bytes[1] !== CODEC_VERSION) return reject('bad-version', `version ${bytes[1]}`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2, false);
  const actual = bytes.length - HEADER_BYTES;
  if (declared > actual) return reject('truncated', `body declares ${declared} bytes, ${actual} present`);
  if (declared < actual) return reject('malformed', `${actual - declared} trailing bytes`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes.subarray(HEADER_BYTES)));
  } catch (err) {
    return reject('malformed', err instanceof Error ? err.message : 'bad JSON');
  }
  const problem = checkPacket(value, limits);
  if (problem !== undefined) return reject('invalid', problem);
  return { ok: true, packet: value as SwimPacket };
}

function reject(reason: RejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(o: Obj, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isAddress(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= ADDRESS_CHARS_MAX;
}

function isMeta(v: unknown, metaBytesMax: number): v is string {
  return typeof v === 'string' && utf8Bytes(v) <= metaBytesMax;
}

const STATES: ReadonlySet<string> = new Set<MemberState>(['alive', 'suspect', 'dead', 'left']);

function checkUpdate(u: unknown, limits: CodecLimits): string | undefined {
  if (!isObj(u)) return 'update is not an object';
  switch (u.type) {
    case 'alive':
      if (!exactKeys(u, ['type', 'name', 'address', 'meta', 'incarnation'])) return 'alive update fields';
      if (!isAddress(u.address)) return 'alive update address';
      if (!isMeta(u.meta, limits.metaBytesMax)) return `alive update meta (max ${limits.metaBytesMax} bytes)`;
      break;
    case 'suspect':
    case 'dead':
      if (!exactKeys(u, ['type', 'name', 'incarnation', 'from'])) return `${u.type} update fields`;
      if (!isNodeId(u.from)) return `${u.type} update from`;
      break;
    case 'left':
      if (!exactKeys(u, ['type', 'name', 'incarnation'])) return 'left update fields';
      break;
    default:
      return `unknown update type ${JSON.stringify(u.type)}`;
  }
  if (!isNodeId(u.name)) return 'update name';
  if (!isCount(u.incarnation)) return 'update incarnation';
  return undefined;
}

function checkRecord(r: unknown, limits: CodecLimits): string | undefined {
  if (!isObj(r) || !exactKeys(r, ['name', 'address', 'meta', 'incarnation', 'state'])) return 'member record fields';
  if (!isNodeId(r.name)) return 'member record name';
  if (!isAddress(r.address)) return 'member record address';
  if (!isMeta(r.meta, limits.metaBytesMax)) return 'member record meta';
  if (!isCount(r.incarnation)) return 'member record incarnation';
  if (typeof r.state !== 'string' || !STATES.has(r.state)) return 'member record state';
  return undefined;
}

function checkRecords(states: unknown, limits: CodecLimits): string | undefined {
  if (!Array.isArray(states)) return 'states is not an array';
  if (states.length > limits.membersMax) return `${states.length} member records > ${limits.membersMax}`;
  for (const r of states) {
    const p = checkRecord(r as MemberRecord, limits);
    if (p !== undefined) return p;
  }
  return undefined;
}

function checkBody(b: unknown, limits: CodecLimits): string | undefined {
  if (!isObj(b)) return 'body is not an object';
  const t = b.type as SwimBody['type'];
  switch (t) {
    case 'ping':
      if (!exactKeys(b, ['type', 'seq', 'target']) || !isCount(b.seq) || !isNodeId(b.target)) return 'ping fields';
      return undefined;
    case 'ack':
    case 'nack':
      if (!exactKeys(b, ['type', 'seq']) || !isCount(b.seq)) return `${t} fields`;
      return undefined;
    case 'ping-req':
      if (!exactKeys(b, ['type', 'seq', 'target', 'targetAddress']) || !isCount(b.seq) || !isNodeId(b.target) || !isAddress(b.targetAddress)) {
        return 'ping-req fields';
      }
      return undefined;
    case 'gossip':
      return exactKeys(b, ['type']) ? undefined : 'gossip fields';
    case 'push-pull':
      if (!exactKeys(b, ['type', 'join', 'fromAddress', 'states']) || typeof b.join !== 'boolean' || !isAddress(b.fromAddress)) {
        return 'push-pull fields';
      }
      return checkRecords(b.states, limits);
    case 'push-pull-reply':
      if (!exactKeys(b, ['type', 'states'])) return 'push-pull-reply fields';
      return checkRecords(b.states, limits);
    default:
      return `unknown body type ${JSON.stringify(t)}`;
  }
}

function checkPacket(v: unknown, limits: CodecLimits): string | undefined {
  if (!isObj(v) || !exactKeys(v, ['from', 'body', 'updates'])) return 'packet fields';
  if (!isNodeId(v.from)) return 'packet from';
  const bodyProblem = checkBody(v.body, limits);
  if (bodyProblem !== undefined) return bodyProblem;
  if (!Array.isArray(v.updates)) return 'updates is not an array';
  if (v.updates.length > UPDATES_PER_PACKET_MAX) return `${v.updates.length} updates > ${UPDATES_PER_PACKET_MAX}`;
  for (const u of v.updates) {
    const p = checkUpdate(u as SwimUpdate, limits);
    if (p !== undefined) return p;
  }
  return undefined;
}
