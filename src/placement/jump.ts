/**
 * Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
 * 2014): maps a 64-bit key to a bucket in [0, n) with no table, in O(ln n) steps, moving exactly
 * the keys that must move when n grows to n + 1. The 64-bit linear congruential step
 * key = key · 2862933555777941757 + 1 is done on two 32-bit halves, so results equal the paper's
 * C++ function bit for bit.
 *
 * The key's 64 bits are (murmur3(key), fmix32(murmur3(key) ^ 0x9e3779b9)).
 *
 * Limits, by the algorithm's nature: buckets are numbered, so nodes keep the order they were
 * given (not sorted), and only appending a node or removing the LAST node is minimally
 * disruptive; removing any other node shifts the numbering. No weights (all must be equal) and
 * no preference order; use a shard map for replicas.
 */
import { ConfigError } from '../core/errors.ts';
import { fmix32, placementHash } from './hash.ts';
import { canonicalNodes, weightOf } from './nodes.ts';
import type { NodeSpec, Placement, PreferenceOptions } from './types.ts';

const C_HI = 0x27bb2ee6;
const C_LO = 0x87b0b0fd;
const TWO_31 = 2147483648;

/** High 32 bits of the 64-bit product of two u32 values. */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16); // < 2^34, exact
  return (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
}

/** The paper's JumpConsistentHash for the 64-bit key (hi, lo). */
export function jumpHash(hi: number, lo: number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new ConfigError(`jump: buckets must be an integer >= 1, got ${buckets}`);
  hi >>>= 0;
  lo >>>= 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key * C + 1 (mod 2^64)
    const newHi = (mulHi32(lo, C_LO) + Math.imul(lo, C_HI) + Math.imul(hi, C_LO)) >>> 0;
    let newLo = Math.imul(lo, C_LO) >>> 0;
    newLo += 1;
    if (newLo === 4294967296) {
      newLo = 0;
      hi = (newHi + 1) >>> 0;
    } else {
      hi = newHi;
    }
    lo = newLo;
    j = Math.floor((b + 1) * (TWO_31 / ((hi >>> 1) + 1)));
  }
  return b;
}

export class Jump implements Placement {
  readonly kind = 'jump' as const;
  readonly nodes: readonly NodeSpec[];
  readonly memoryBytes = 0;

  constructor(nodes: readonly NodeSpec[]) {
    canonicalNodes(nodes, 'jump'); // validation only: jump keeps the given order
    const w0 = weightOf(nodes[0] as NodeSpec);
    if (nodes.some((n) => weightOf(n) !== w0)) {
      throw new ConfigError('jump: jump consistent hash has no weights; give every node the same weight or use ring, rendezvous or maglev');
    }
    this.nodes = nodes.slice();
  }

  hashKey(key: string): number {
    return placementHash(key);
  }

  lookupHashIndex(hash: number): number {
    return jumpHash(hash, fmix32(hash ^ 0x9e3779b9), this.nodes.length);
  }

  lookupIndex(key: string): number {
    return this.lookupHashIndex(placementHash(key));
  }

  lookup(key: string): string {
    return (this.nodes[this.lookupIndex(key)] as NodeSpec).id;
  }

  preference(_key: string, _count: number, _options?: PreferenceOptions): string[] {
    throw new ConfigError('jump: jump consistent hash has no preference order; use ring, rendezvous or maglev, or a shard map, for replicas');
  }

  withNodes(nodes: readonly NodeSpec[]): Jump {
    return new Jump(nodes);
  }
}

export function createJump(nodes: readonly NodeSpec[]): Jump {
  return new Jump(nodes);
}
