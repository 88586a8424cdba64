/**
 * WAL group commit: records/s and fdatasyncs/s with 1, 16 and 64 concurrent appenders of
 * 256-byte records, against a plain `fs.writeSync` + `fs.fdatasyncSync` loop (one record per
 * sync, the best a commit-per-record design can do) measured in the same run on the same disk.
 *
 * Run: node --import tsx bench/wal.ts [--seconds 3] [--dir <path on the disk to measure>]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecord } from '../src/runtime/storage/record.ts';
import { Wal } from '../src/runtime/storage/wal.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const seconds = Number(arg('--seconds', '3'));
const root = mkdtempSync(join(arg('--dir', tmpdir()), 'ck-bench-wal-'));
const payload = new Uint8Array(256).fill(0xab);

function plainLoop(): { recordsPerS: number; syncsPerS: number } {
  const file = join(root, 'plain.log');
  const fd = openSync(file, 'w');
  const rec = encodeRecord({ type: 1, index: 1, payload });
  const endAt = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < endAt) {
    writeSync(fd, rec);
    fdatasyncSync(fd);
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  closeSync(fd);
  return { recordsPerS: n / s, syncsPerS: n / s };
}

async function walRun(appenders: number): Promise<{ recordsPerS: number; syncsPerS: number; recordsPerSync: number }> {
  const { wal } = await Wal.open(join(root, `wal-${appenders}`));
  const endAt = performance.now() + seconds * 1000;
  let index = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < endAt) await wal.append([{ type: 1, index: ++index, payload }]);
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const st = wal.stats();
  await wal.close();
  return { recordsPerS: st.recordsWritten / s, syncsPerS: st.syncs / s, recordsPerSync: st.recordsWritten / st.syncs };
}

const plain = plainLoop();
console.log(`plain writeSync+fdatasyncSync loop: ${plain.recordsPerS.toFixed(0)} records/s = fsyncs/s`);
const rows: string[] = [
  '| appenders | records/s | fdatasyncs/s | records per sync | records/s vs plain | fsyncs/s vs plain |',
  '|---:|---:|---:|---:|---:|---:|',
  `| plain loop | ${plain.recordsPerS.toFixed(0)} | ${plain.syncsPerS.toFixed(0)} | 1.0 | 1.00x | 1.00x |`,
];
for (const n of [1, 16, 64]) {
  const r = await walRun(n);
  console.log(`wal, ${n} appenders: ${r.recordsPerS.toFixed(0)} records/s, ${r.syncsPerS.toFixed(0)} syncs/s, ${r.recordsPerSync.toFixed(1)} records/sync`);
  rows.push(
    `| ${n} | ${r.recordsPerS.toFixed(0)} | ${r.syncsPerS.toFixed(0)} | ${r.recordsPerSync.toFixed(1)} | ${(r.recordsPerS / plain.recordsPerS).toFixed(2)}x | ${(r.syncsPerS / plain.syncsPerS).toFixed(2)}x |`,
  );
}
console.log(`\n${rows.join('\n')}`);
rmSync(root, { recursive: true, force: true });
