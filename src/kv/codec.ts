/**
 * Byte encoding of log entries, results and snapshot bodies: JSON (UTF-8) in which every byte
 * string is written as `{"$b64":"<standard base64>"}`. JSON keeps entries readable in a WAL dump
 * and safe to carry anywhere; the tag makes bytes unambiguous. Decoding a log entry validates it
 * completely (see validate.ts), so a corrupted or hostile entry becomes a clear
 * InvalidArgumentError, never a crash.
 *
 * Leaves out: a compact binary encoding (protobuf-like); JSON costs ~1.4x the payload for bytes.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { fromBase64, toBase64 } from './bytes.ts';
import type { KvEntry, KvResult } from './types.ts';
import { type KvLimits, parseEntry } from './validate.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function replacer(this: unknown, key: string, value: unknown): unknown {
  // Read the original (a Buffer's toJSON has already run on `value`).
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) return { $b64: toBase64(original) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$b64') {
      if (typeof o.$b64 !== 'string') throw new InvalidArgumentError('a {"$b64": ...} byte string must hold a string');
      return fromBase64(o.$b64, 'a {"$b64": ...} byte string');
    }
  }
  return value;
}

/** JSON text with tagged byte strings. */
export function toTaggedJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/** Parses JSON text with tagged byte strings; throws InvalidArgumentError on bad JSON or base64. */
export function fromTaggedJson(text: string): unknown {
  try {
    return JSON.parse(text, reviver);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`malformed JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function encodeEntry(entry: KvEntry): Uint8Array {
  return encoder.encode(toTaggedJson(entry));
}

/** Decodes and validates a log entry against `limits`. Throws InvalidArgumentError. */
export function decodeEntry(data: Uint8Array, limits: KvLimits): KvEntry {
  // Base64 and JSON framing cost at most ~1.4x plus field names; refuse before parsing anything far larger.
  const encodedMax = Math.ceil(limits.requestBytesMax * 1.5) + 64 * 1024;
  if (data.byteLength > encodedMax) {
    throw new InvalidArgumentError(`entry is ${data.byteLength} bytes encoded, over ${encodedMax} (derived from requestBytesMax ${limits.requestBytesMax})`);
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new InvalidArgumentError('entry is not valid UTF-8');
  }
  return parseEntry(fromTaggedJson(text), limits);
}

export function encodeResult(result: KvResult): string {
  return toTaggedJson(result);
}

/** Decodes a result this module encoded (results are produced by the state machine itself). */
export function decodeResult(text: string): KvResult {
  return fromTaggedJson(text) as KvResult;
}
