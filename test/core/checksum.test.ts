import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32c, crc32cBytewise } from '../../src/core/checksum.ts';

/** Bit-at-a-time reference straight from the polynomial definition. */
function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('core/checksum: CRC-32C', () => {
  it('matches the standard check value for "123456789" (0xE3069283)', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });
  it('matches the RFC 3720 B.4 known answers', () => {
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });
  it('is 0 for empty input', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });
  it('slice-by-8 agrees with the bytewise and bitwise references at every length and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), (bytes, skip) => {
        const expected = crc32cBitwise(bytes);
        assert.equal(crc32c(bytes), expected);
        assert.equal(crc32cBytewise(bytes), expected);
        const start = Math.min(skip, bytes.length);
        assert.equal(crc32c(bytes, 0, start), crc32cBitwise(bytes.subarray(start)));
      }),
      { numRuns: 300 },
    );
  });
  it('gives the same answer for views at every byte alignment of the underlying buffer', () => {
    const backing = Uint8Array.from({ length: 1100 }, (_, i) => (i * 97 + 13) & 0xff);
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 7, 127, 128, 129, 1000]) {
        const view = backing.subarray(offset, offset + length);
        assert.equal(crc32c(view), crc32cBitwise(view), `offset ${offset} length ${length}`);
      }
    }
  });
  it('chains: crc(b, crc(a)) = crc(a ++ b)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        assert.equal(crc32c(b, crc32c(a)), crc32c(ab));
      }),
      { numRuns: 200 },
    );
  });
  it('detects every single-bit flip in a 64-byte buffer', () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
    const base = crc32c(data);
    for (let bit = 0; bit < 64 * 8; bit++) {
      data[bit >> 3]! ^= 1 << (bit & 7);
      assert.notEqual(crc32c(data), base, `flip of bit ${bit} undetected`);
      data[bit >> 3]! ^= 1 << (bit & 7);
    }
  });
});
