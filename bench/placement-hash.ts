/**
 * Chooses the placement hash by measurement: ns per hash of MurmurHash3 x86_32, xxHash32 and
 * FNV-1a (all in TypeScript) and node:crypto md5 (ketama's hash, the peer), on short, medium
 * and long ASCII keys; plus a quality check: chi-square of sequential keys ("key:0", "key:1",
 * ...) over 1024 buckets by the top 10 bits (expect about 1023 ± 45 for a good hash) and the
 * mean share of output bits flipped by a one-bit input change (ideal 0.5).
 *
 * Run: node --import tsx bench/placement-hash.ts [--keys 1000000]
 */
import { createHash } from 'node:crypto';
import { fnv1a, murmur3, xxh32 } from '../src/placement/hash.ts';

const argKeys = process.argv.indexOf('--keys');
const keysCount = argKeys >= 0 ? Number(process.argv[argKeys + 1]) : 1_000_000;

const md5u32 = (key: string) => createHash('md5').update(key).digest().readUInt32LE(0);
const candidates: [string, (k: string) => number][] = [
  ['murmur3', (k) => murmur3(k)],
  ['xxh32', (k) => xxh32(k)],
  ['fnv1a', fnv1a],
  ['md5 (node:crypto)', md5u32],
];

function makeKeys(len: number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const base = `key:${i}:`;
    out.push(base.length >= len ? base.slice(0, len) : base + 'x'.repeat(len - base.length));
  }
  return out;
}

function nsPerHash(fn: (k: string) => number, keys: string[]): number {
  let sink = 0;
  for (let i = 0; i < keys.length; i++) sink ^= fn(keys[i] as string); // warm-up (also flattens cons strings)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < keys.length; i++) sink ^= fn(keys[i] as string);
  const t1 = process.hrtime.bigint();
  if (sink === 0.5) console.log(sink);
  return Number(t1 - t0) / keys.length;
}

function chiSquare(fn: (k: string) => number, n: number): number {
  const buckets = new Float64Array(1024);
  for (let i = 0; i < n; i++) buckets[fn(`key:${i}`) >>> 22] = (buckets[fn(`key:${i}`) >>> 22] ?? 0) + 1;
  const expected = n / 1024;
  let chi = 0;
  for (const b of buckets) chi += (b - expected) ** 2 / expected;
  return chi;
}

function avalanche(fn: (k: string) => number, samples: number): number {
  let flipped = 0;
  let total = 0;
  for (let i = 0; i < samples; i++) {
    const key = `key:${i * 7919}`;
    const h = fn(key);
    const c = key.charCodeAt(key.length - 1) ^ 1;
    const h2 = fn(key.slice(0, -1) + String.fromCharCode(c));
    let x = (h ^ h2) >>> 0;
    while (x) {
      flipped += x & 1;
      x >>>= 1;
    }
    total += 32;
  }
  return flipped / total;
}

const rows: string[] = [];
for (const len of [10, 36, 100]) {
  const keys = makeKeys(len, len === 100 ? keysCount / 4 : keysCount);
  for (const [name, fn] of candidates) {
    rows.push(`| ${name} | ${len} | ${nsPerHash(fn, keys).toFixed(1)} |`);
  }
}
console.log('| hash | key bytes | ns/hash |\n|---|---|---|');
console.log(rows.join('\n'));
console.log('\n| hash | chi-square, 1024 buckets (df 1023) | avalanche (ideal 0.5) |\n|---|---|---|');
for (const [name, fn] of candidates) {
  console.log(`| ${name} | ${chiSquare(fn, 200_000).toFixed(0)} | ${avalanche(fn, 20_000).toFixed(3)} |`);
}
