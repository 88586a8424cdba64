/**
 * Hash functions: published test vectors pin MurmurHash3 x86_32, xxHash32 and FNV-1a, so a key
 * hashes the same on every machine; the ASCII fast path equals hashing the UTF-8 bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fnv1a, mix2, murmur3, murmur3Bytes, xxh32, xxh32Bytes } from '../../src/placement/hash.ts';

describe('placement/hash', () => {
  it('MurmurHash3 x86_32 matches the reference vectors', () => {
    assert.equal(murmur3('', 0), 0);
    assert.equal(murmur3('', 1), 0x514e28b7);
    assert.equal(murmur3('', 0xffffffff), 0x81f16f39);
    assert.equal(murmur3('\0\0\0\0', 0), 0x2362f9de);
    assert.equal(murmur3('aaaa', 0x9747b28c), 0x5a97808a);
    assert.equal(murmur3('abc', 0), 0xb3dd93fa);
    assert.equal(murmur3('Hello, world!', 0x9747b28c), 0x24884cba);
    assert.equal(murmur3('The quick brown fox jumps over the lazy dog', 0x9747b28c), 0x2fa826cd);
  });
  it('xxHash32 matches the reference vectors', () => {
    assert.equal(xxh32('', 0), 0x02cc5d05);
    assert.equal(xxh32('a', 0), 0x550d7456);
    assert.equal(xxh32('abc', 0), 0x32d153ff);
    assert.equal(xxh32('Nobody inspects the spammish repetition', 0), 0xe2293b2f);
  });
  it('FNV-1a 32 matches the reference vectors', () => {
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
  });
  it('hashes strings as their UTF-8 bytes (non-ASCII and long keys included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => {
        const bytes = new Uint8Array(Buffer.from(s, 'utf8'));
        assert.equal(murmur3(s, seed), murmur3Bytes(bytes, seed));
        assert.equal(xxh32(s, seed), xxh32Bytes(bytes, seed));
      }),
      { numRuns: 300 },
    );
  });
  it('returns unsigned 32-bit integers', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (s, b) => {
        for (const h of [murmur3(s), xxh32(s), fnv1a(s), mix2(murmur3(s), b)]) {
          assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
        }
      }),
    );
  });
});
