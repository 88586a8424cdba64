/**
 * Byte strings for the KV store. etcd keys and values are arbitrary bytes; clusterkit's public
 * API takes and returns `Uint8Array`. Inside the store a key is held as a "binary string": one
 * UTF-16 code unit per byte (latin1), so keys can be Map keys and JavaScript's string order is
 * exactly etcd's byte-wise lexicographic order.
 *
 * Leaves out: any text encoding other than UTF-8 for the convenience helpers.
 */
import { InvalidArgumentError } from '../core/errors.ts';

export type Bytes = Uint8Array;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string (convenience for callers and tests). */
export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

/** A UTF-8 string from bytes (invalid sequences become U+FFFD). */
export function text(bytes: Bytes): string {
  return decoder.decode(bytes);
}

export function emptyBytes(): Bytes {
  return EMPTY;
}

/** Bytes to the internal binary-string form (one code unit per byte). */
export function toBin(bytes: Bytes): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** The internal binary-string form back to bytes. */
export function fromBin(bin: string): Bytes {
  return new Uint8Array(Buffer.from(bin, 'latin1'));
}

export function toBase64(bytes: Bytes): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (standard alphabet, padded); throws InvalidArgumentError naming `what`. */
export function fromBase64(b64: string, what: string): Bytes {
  if (!BASE64.test(b64)) throw new InvalidArgumentError(`${what} is not valid base64`);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte-wise lexicographic comparison: negative, zero or positive. */
export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The range end that selects every key with `prefix` (etcd's GetPrefixRangeEnd): the prefix with
 * its last byte below 0xff incremented and what follows dropped; `[0]` ("\0", all keys from the
 * start key) when the prefix is empty or all 0xff.
 */
export function prefixEnd(prefix: Bytes): Bytes {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}
