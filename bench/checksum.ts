/**
 * CRC-32C throughput: slice-by-8 against the one-table bytewise loop, in the same run.
 * Run: node --import tsx bench/checksum.ts
 */
import { crc32c, crc32cBytewise } from '../src/core/checksum.ts';

function measure(name: string, fn: (b: Uint8Array) => number, buf: Uint8Array, totalBytes: number): number {
  const iterations = Math.max(1, Math.floor(totalBytes / buf.length));
  let sink = 0;
  for (let i = 0; i < Math.min(iterations, 1000); i++) sink ^= fn(buf); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink ^= fn(buf);
  const ms = performance.now() - t0;
  const mbPerS = (iterations * buf.length) / 1e6 / (ms / 1000);
  console.log(`${name.padEnd(10)} ${String(buf.length).padStart(7)} B  ${mbPerS.toFixed(0).padStart(6)} MB/s  (sink ${sink & 1})`);
  return mbPerS;
}

const sizes = [64, 256, 4096, 65536];
console.log('| buffer | slice-by-8 MB/s | bytewise MB/s | ratio |');
const rows: string[] = [];
for (const size of sizes) {
  const buf = Uint8Array.from({ length: size }, (_, i) => (i * 131) & 0xff);
  const fast = measure('slice-by-8', crc32c, buf, 200e6);
  const slow = measure('bytewise', crc32cBytewise, buf, 100e6);
  rows.push(`| ${size} B | ${fast.toFixed(0)} | ${slow.toFixed(0)} | ${(fast / slow).toFixed(2)}x |`);
}
console.log(rows.join('\n'));
