/**
 * Seeded pseudo-random numbers with a stable algorithm: xoshiro128** (Blackman & Vigna),
 * seeded through splitmix32. Only 32-bit integer arithmetic (`Math.imul`, `>>>`), so the same
 * seed gives the same sequence on every machine and Node version. Not cryptographic.
 *
 * Protocol cores never call `Math.random`; they receive an `Rng` from their host. The simulator
 * derives one stream per node and per purpose with `fork(label)`, so adding a draw in one place
 * does not shift every other stream.
 */
import { assert } from './assert.ts';

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [0, n), unbiased. n must be a positive integer <= 2^32. */
  int(n: number): number;
  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** Exponentially distributed value with the given mean. */
  exponential(mean: number): number;
  /** Standard normal value (Box–Muller). */
  normal(): number;
  /** An independent stream derived from this one's seed and a label. */
  fork(label: string): Rng;
  /** The seed this stream was built from (for replay messages). */
  readonly seed: number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a 32-bit of a string: used to turn labels into seed material. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Xoshiro128 implements Rng {
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed) && seed >= 0, `rng seed must be a non-negative safe integer, got ${seed}`);
    this.seed = seed;
    // Mix both 32-bit halves of the seed so seeds above 2^32 differ.
    const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
    const sm = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c = (this.c ^ this.a) >>> 0;
    this.d = (this.d ^ this.b) >>> 0;
    this.b = (this.b ^ this.c) >>> 0;
    this.a = (this.a ^ this.d) >>> 0;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d, 11);
    return result;
  }

  float(): number {
    // 53 bits of randomness from two draws.
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  int(n: number): number {
    assert(Number.isInteger(n) && n > 0 && n <= 0x1_0000_0000, `rng.int bound must be in 1..2^32, got ${n}`);
    // Lemire-style rejection to avoid modulo bias.
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  range(lo: number, hi: number): number {
    assert(Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo, `rng.range needs integers lo <= hi, got ${lo}..${hi}`);
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'rng.pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  exponential(mean: number): number {
    // 1 - float() is in (0, 1], so the log is finite.
    return -Math.log(1 - this.float()) * mean;
  }

  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    const u = 1 - this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fork(label: string): Rng {
    const mixed = (fnv1a32(label) ^ Math.imul(this.seed >>> 0, 0x9e3779b1)) >>> 0;
    const hi = Math.floor(this.seed / 0x1_0000_0000) >>> 0;
    return new Xoshiro128(mixed + ((hi ^ fnv1a32(`${label}#hi`)) & 0x1fffff) * 0x1_0000_0000);
  }
}

export function createRng(seed: number): Rng {
  return new Xoshiro128(seed);
}
