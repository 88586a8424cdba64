/**
 * CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of iSCSI
 * (RFC 3720 appendix B.4), ext4 metadata and etcd's WAL. Used for every frame on the wire and
 * every record on disk. Pure: no IO, works on any `Uint8Array`.
 *
 * Implementation: slice-by-8 (Kounavis & Berry, "A Systematic Approach to Building High
 * Performance Software-based CRC Generators", 2005): eight 256-entry tables, eight input bytes
 * per step; on little-endian hosts, inputs of 128 bytes or more are read as aligned 32-bit
 * words (two loads per step instead of eight). bench/checksum.ts measures the gain over the
 * one-table loop. Deliberately left out: hardware CRC instructions (not reachable from
 * JavaScript) and combining CRCs of independently computed pieces.
 */

const POLY_REFLECTED = 0x82f63b78;

/** Eight 256-entry tables laid out one after another: table k at offset k * 256. */
const TABLES: Uint32Array = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = (c >>> 8) ^ t[c & 0xff]!;
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
}

/** Little-endian hosts can read the input four bytes at a time through an Int32Array view. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes, creating the word view costs more than it saves. */
const WORD_PATH_BYTES_MIN = 128;

/**
 * CRC-32C of `data[start, end)`. `previous` chains calls: `crc32c(b, crc32c(a))` equals the CRC
 * of `a` followed by `b`. Returns an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, previous = 0, start = 0, end: number = data.length): number {
  const t = TABLES;
  let crc = ~previous >>> 0;
  let i = start;
  if (LITTLE_ENDIAN && end - start >= WORD_PATH_BYTES_MIN) {
    // Bytewise up to 4-byte alignment, then eight bytes per step as two aligned 32-bit words.
    const alignTo = start + ((4 - ((data.byteOffset + start) & 3)) & 3);
    for (; i < alignTo; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
    const pairs = (end - i) >>> 3;
    const words = new Int32Array(data.buffer, data.byteOffset + i, pairs * 2);
    for (let k = 0; k < words.length; k += 2) {
      const lo = crc ^ words[k]!;
      const hi = words[k + 1]!;
      crc =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + (hi & 0xff)]! ^
        t[512 + ((hi >>> 8) & 0xff)]! ^
        t[256 + ((hi >>> 16) & 0xff)]! ^
        t[hi >>> 24]!;
    }
    i += pairs * 8;
  } else {
    // Slice-by-8 reading single bytes (short inputs, or a big-endian host).
    const bulkEnd = start + ((end - start) & ~7);
    while (i < bulkEnd) {
      const lo = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
      crc =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + data[i + 4]!]! ^
        t[512 + data[i + 5]!]! ^
        t[256 + data[i + 6]!]! ^
        t[data[i + 7]!]!;
      i += 8;
    }
  }
  while (i < end) {
    crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
    i++;
  }
  return ~crc >>> 0;
}

/** The plain one-table loop, one byte per step. Kept for tests and the benchmark. */
export function crc32cBytewise(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
  return ~crc >>> 0;
}
