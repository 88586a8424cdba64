/**
 * Hash functions for placement: 32-bit MurmurHash3 (x86_32, Appleby), xxHash32 (Collet) and
 * FNV-1a, written with `Math.imul` and `>>>` only, over the UTF-8 bytes of a string, so a key
 * hashes to the same value on every machine and Node version. `placementHash` is the one the
 * placements use; docs/placement.md records the measurement that chose it.
 *
 * Also here: `mix2` (xxHash32 of two 32-bit words, used to combine a key hash with a node hash
 * in rendezvous hashing) and `fmix32` (MurmurHash3's finalizer).
 *
 * Left out: 64-bit hashes (xxHash64 and MurmurHash3 x64 need 64-bit multiplies, which cost
 * BigInt or four 16-bit products per step in JavaScript; 32 bits are enough to place up to
 * millions of points). None of these are cryptographic: keys chosen by an adversary can collide.
 */

const encoder = new TextEncoder();
/** Reused scratch buffer for non-ASCII keys; grows to the longest key seen (bounded below). */
let scratch = new Uint8Array(256);
/** Keys longer than this many UTF-16 units are encoded into a fresh buffer, not the scratch one. */
const SCRATCH_KEEP_MAX = 1 << 16;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** UTF-8 bytes of `s`: a view into the scratch buffer (valid until the next call). */
function utf8(s: string): Uint8Array {
  const need = s.length * 3;
  if (need > SCRATCH_KEEP_MAX) return encoder.encode(s);
  if (scratch.length < need) scratch = new Uint8Array(need);
  const { written } = encoder.encodeInto(s, scratch);
  return scratch.subarray(0, written);
}

// ---------------------------------------------------------------- MurmurHash3 x86_32

const M3_C1 = 0xcc9e2d51;
const M3_C2 = 0x1b873593;

/** MurmurHash3's 32-bit finalizer: a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function m3Block(h: number, k: number): number {
  k = Math.imul(k, M3_C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, M3_C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function m3Tail(h: number, k: number): number {
  k = Math.imul(k, M3_C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, M3_C2);
  return h ^ k;
}

/** MurmurHash3 x86_32 of bytes. */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  const n = bytes.length;
  let h = seed | 0;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    const k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    h = m3Block(h, k);
  }
  const rem = n & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= (bytes[i + 2] as number) << 16;
    if (rem >= 2) k ^= (bytes[i + 1] as number) << 8;
    k ^= bytes[i] as number;
    h = m3Tail(h, k);
  }
  return fmix32(h ^ n);
}

/** MurmurHash3 x86_32 of the UTF-8 bytes of `key`. */
export function murmur3(key: string, seed = 0): number {
  if (!isAscii(key)) return murmur3Bytes(utf8(key), seed);
  const n = key.length;
  let h = seed | 0;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    const k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24);
    h = m3Block(h, k);
  }
  const rem = n & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= key.charCodeAt(i + 2) << 16;
    if (rem >= 2) k ^= key.charCodeAt(i + 1) << 8;
    k ^= key.charCodeAt(i);
    h = m3Tail(h, k);
  }
  return fmix32(h ^ n);
}

// ---------------------------------------------------------------- xxHash32

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function xxRound(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, P2)) | 0;
  acc = rotl(acc, 13);
  return Math.imul(acc, P1);
}

function xxAvalanche(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** xxHash32 of bytes. */
export function xxh32Bytes(bytes: Uint8Array, seed = 0): number {
  const n = bytes.length;
  const word = (i: number) =>
    (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = n - 16;
    while (i <= limit) {
      v1 = xxRound(v1, word(i));
      v2 = xxRound(v2, word(i + 4));
      v3 = xxRound(v3, word(i + 8));
      v4 = xxRound(v4, word(i + 12));
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + n) | 0;
  while (i + 4 <= n) {
    h = (h + Math.imul(word(i), P3)) | 0;
    h = Math.imul(rotl(h, 17), P4);
    i += 4;
  }
  while (i < n) {
    h = (h + Math.imul(bytes[i] as number, P5)) | 0;
    h = Math.imul(rotl(h, 11), P1);
    i++;
  }
  return xxAvalanche(h);
}

/** xxHash32 of the UTF-8 bytes of `key`. */
export function xxh32(key: string, seed = 0): number {
  if (!isAscii(key)) return xxh32Bytes(utf8(key), seed);
  const n = key.length;
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = n - 16;
    while (i <= limit) {
      v1 = xxRound(v1, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24));
      v2 = xxRound(v2, key.charCodeAt(i + 4) | (key.charCodeAt(i + 5) << 8) | (key.charCodeAt(i + 6) << 16) | (key.charCodeAt(i + 7) << 24));
      v3 = xxRound(v3, key.charCodeAt(i + 8) | (key.charCodeAt(i + 9) << 8) | (key.charCodeAt(i + 10) << 16) | (key.charCodeAt(i + 11) << 24));
      v4 = xxRound(v4, key.charCodeAt(i + 12) | (key.charCodeAt(i + 13) << 8) | (key.charCodeAt(i + 14) << 16) | (key.charCodeAt(i + 15) << 24));
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + n) | 0;
  while (i + 4 <= n) {
    const w = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24);
    h = (h + Math.imul(w, P3)) | 0;
    h = Math.imul(rotl(h, 17), P4);
    i += 4;
  }
  while (i < n) {
    h = (h + Math.imul(key.charCodeAt(i), P5)) | 0;
    h = Math.imul(rotl(h, 11), P1);
    i++;
  }
  return xxAvalanche(h);
}

/**
 * xxHash32 of the 8 bytes `a` then `b` (little-endian), seed 0: combines two 32-bit hashes into
 * one with full avalanche. Rendezvous hashing scores a (key, node) pair with it.
 */
export function mix2(a: number, b: number): number {
  let h = (P5 + 8) | 0;
  h = (h + Math.imul(a, P3)) | 0;
  h = Math.imul(rotl(h, 17), P4);
  h = (h + Math.imul(b, P3)) | 0;
  h = Math.imul(rotl(h, 17), P4);
  return xxAvalanche(h);
}

// ---------------------------------------------------------------- FNV-1a

/** FNV-1a 32-bit of the UTF-8 bytes of `key`. Fast on short keys, weak avalanche. */
export function fnv1a(key: string): number {
  if (!isAscii(key)) {
    const bytes = utf8(key);
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    return h >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------- the choice

export type HashName = 'murmur3' | 'xxh32' | 'fnv1a';

export const HASHES: Readonly<Record<HashName, (key: string, seed?: number) => number>> = {
  murmur3,
  xxh32,
  fnv1a: (key: string) => fnv1a(key),
};

/**
 * The hash every placement uses for keys and points: MurmurHash3 x86_32 (chosen by
 * bench/placement-hash.ts; see docs/placement.md).
 */
export function placementHash(key: string, seed = 0): number {
  return murmur3(key, seed);
}
