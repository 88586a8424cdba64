/**
 * Overlay identifiers (seed 04.4.3): nodes and keys are hashed into one m-bit identifier space,
 * a ring for Chord (Stoica et al. 2001, §4.1) and a XOR-metric space for Kademlia (Maymounkov &
 * Mazières 2002, §2.1). clusterkit uses at most 32 bits so that identifiers are plain numbers
 * and XOR is one machine instruction; the papers use 160-bit SHA-1 identifiers. With n ≤ 4096
 * nodes a 32-bit space keeps collisions rare (birthday bound n²/2³³ ≈ 0.2 %); hosts refuse a
 * colliding node id. Hashing is FNV-1a followed by the murmur3 finaliser (not cryptographic:
 * an adversary choosing ids is out of scope).
 */
import { ConfigError } from '../core/errors.ts';
import { fnv1a32 } from '../core/rng.ts';

/** Largest supported identifier width, bits. */
export const ID_BITS_MAX = 32;

export function checkIdBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > ID_BITS_MAX) throw new ConfigError(`idBits must be an integer in 1..${ID_BITS_MAX}, got ${bits}`);
}

/** Size of the identifier space, 2^bits. */
export function idSpace(bits: number): number {
  return 2 ** bits;
}

function fmix32(h0: number): number {
  let h = h0 >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Identifier of a name (node address or key) in a `bits`-bit space. */
export function hashId(name: string, bits: number): number {
  const h = fmix32(fnv1a32(name));
  return bits === 32 ? h : h >>> (32 - bits);
}

/** (a + b) mod 2^bits. */
export function ringAdd(a: number, b: number, bits: number): number {
  return (a + b) % idSpace(bits);
}

/** Clockwise distance from a to b on the ring, in 0..2^bits-1. */
export function ringDistance(a: number, b: number, bits: number): number {
  const s = idSpace(bits);
  return (((b - a) % s) + s) % s;
}

/** x ∈ (a, b) on the ring; when a = b the interval is the whole ring except a. */
export function inOpen(x: number, a: number, b: number, bits: number): boolean {
  if (a === b) return x !== a;
  const d = ringDistance(a, x, bits);
  return d > 0 && d < ringDistance(a, b, bits);
}

/** x ∈ (a, b] on the ring; when a = b the interval is the whole ring. */
export function inHalfOpen(x: number, a: number, b: number, bits: number): boolean {
  if (a === b) return true;
  const d = ringDistance(a, x, bits);
  return d > 0 && d <= ringDistance(a, b, bits);
}

/** Kademlia's metric d(x, y) = x ⊕ y, as an unsigned number. */
export function xorDistance(a: number, b: number): number {
  return (a ^ b) >>> 0;
}

/** Index of the highest set bit of d (0..31), or -1 for 0: the k-bucket a contact falls in. */
export function highestBit(d: number): number {
  return d === 0 ? -1 : 31 - Math.clz32(d);
}
