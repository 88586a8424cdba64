/**
 * WAL group commit: records/s and fdatasyncs/s with 1, 16 and 64 concurrent appenders of
 * 256-byte records, against a plain `fs.writeSync` + `fs.fdatasyncSync` loop (one record per
 * sync, the best a commit-per-record design can do) measured in the same run on the same disk.
 *
 * The machine is shared and its fsync rate drifts, so each configuration runs `--rounds` times
 * alternating with the plain loop, and the table reports medians and the median of the
 * per-round ratios (each ratio compares two runs seconds apart).
 *
 * Run: node --import tsx bench/wal.ts [--seconds 1] [--rounds 3] [--dir <path on the disk to measure>]
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

const seconds = Number(arg('--seconds', '1'));
const rounds = Number(arg('--rounds', '3'));
const root = mkdtempSync(join(arg('--dir', tmpdir()), 'ck-bench-wal-'));
const payload = new Uint8Array(256).fill(0xab);

let plainRuns = 0;
function plainLoop(): { recordsPerS: number; syncsPerS: number } {
  const file = join(root, `plain-${plainRuns++}.log`);
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

let walRuns = 0;
async function walRun(appenders: number): Promise<{ recordsPerS: number; syncsPerS: number; recordsPerSync: number }> {
  const { wal } = await Wal.open(join(root, `wal-${appenders}-${walRuns++}`));
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const rows: string[] = [
  '| appenders | plain loop records/s (= fsyncs/s) | WAL records/s | WAL fdatasyncs/s | records per sync | records/s vs plain | fsyncs/s vs plain |',
  '|---:|---:|---:|---:|---:|---:|---:|',
];
for (const n of [1, 16, 64]) {
  const plain: number[] = [];
  const recs: number[] = [];
  const syncs: number[] = [];
  const perSync: number[] = [];
  const recRatio: number[] = [];
  const syncRatio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const p = plainLoop();
    const w = await walRun(n);
    plain.push(p.syncsPerS);
    recs.push(w.recordsPerS);
    syncs.push(w.syncsPerS);
    perSync.push(w.recordsPerSync);
    recRatio.push(w.recordsPerS / p.recordsPerS);
    syncRatio.push(w.syncsPerS / p.syncsPerS);
    console.log(
      `${n} appenders, round ${r + 1}: plain ${p.syncsPerS.toFixed(0)}/s; wal ${w.recordsPerS.toFixed(0)} records/s, ${w.syncsPerS.toFixed(0)} syncs/s`,
    );
  }
  rows.push(
    `| ${n} | ${median(plain).toFixed(0)} | ${median(recs).toFixed(0)} | ${median(syncs).toFixed(0)} | ${median(perSync).toFixed(1)} | ${median(recRatio).toFixed(2)}x | ${median(syncRatio).toFixed(2)}x |`,
  );
}
console.log(`\n${rows.join('\n')}`);
rmSync(root, { recursive: true, force: true });
