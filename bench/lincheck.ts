/**
 * Benchmark: the linearizability checker on 10,000-operation, 5-key, 10-client register
 * histories generated from a correct register with random overlapping timing.
 * Peer in the same run: the same search with Lowe's memo cache switched off, to show what the
 * cache buys; also the JSON-lines parse time of the same history.
 *
 *   node --import tsx bench/lincheck.ts [--seeds 5]
 */
import { checkLinearizable, type LinearizabilityOptions } from '../src/sim/checkers/linearizability.ts';
import { corruptRead, generateRegisterHistory, type RegisterWorkloadOptions } from '../src/sim/checkers/register-workload.ts';
import { type HistoryEvent, historyToJsonLines } from '../src/sim/history.ts';
import { historyFromJsonLines } from '../src/sim/history-parse.ts';

const seedsArg = process.argv.indexOf('--seeds');
const seeds = seedsArg >= 0 ? Number(process.argv[seedsArg + 1]) : 5;
if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds must be a positive integer');

interface Scenario {
  name: string;
  workload: Omit<RegisterWorkloadOptions, 'seed'>;
  corrupt: boolean;
}
const base = { opsCount: 10_000, keysCount: 5, clientsCount: 10 };
const scenarios: Scenario[] = [
  { name: 'unique values', workload: base, corrupt: false },
  { name: 'unique values, 1% info', workload: { ...base, infoProbability: 0.01 }, corrupt: false },
  { name: 'values 1..5, 1% info', workload: { ...base, infoProbability: 0.01, valuesMax: 5 }, corrupt: false },
  { name: 'one corrupted read', workload: base, corrupt: true },
  { name: 'one corrupted read, values 1..5, 1% info', workload: { ...base, infoProbability: 0.01, valuesMax: 5 }, corrupt: true },
  { name: '10% info', workload: { ...base, infoProbability: 0.1 }, corrupt: false },
  { name: 'one hot key (1 key, 10 clients)', workload: { ...base, keysCount: 1 }, corrupt: false },
  { name: 'one hot key (1 key, 20 clients)', workload: { ...base, keysCount: 1, clientsCount: 20 }, corrupt: false },
  { name: 'one hot key (1 key, 30 clients)', workload: { ...base, keysCount: 1, clientsCount: 30 }, corrupt: false },
];
const NO_MEMO_STEPS_MAX = 5_000_000;

function timeCheck(hist: readonly HistoryEvent[], options: LinearizabilityOptions): { ms: number; outcome: string; steps: number } {
  const t0 = performance.now();
  const r = checkLinearizable(hist, options);
  const ms = performance.now() - t0;
  return { ms, outcome: r.outcome, steps: r.keys.reduce((s, k) => s + k.steps, 0) };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

console.log(`linearizability checker, ${base.opsCount} ops, ${base.keysCount} keys, ${base.clientsCount} clients unless stated, ${seeds} seeds (median)`);
console.log(`scenario | check ms | ops/s | outcome | no-memo ms (outcome; unknown = ${NO_MEMO_STEPS_MAX} steps per key spent) | no-memo/memo | parse ms`);
for (const sc of scenarios) {
  const memo: number[] = [];
  const noMemo: number[] = [];
  const parse: number[] = [];
  const outcomes = new Set<string>();
  const noMemoOutcomes = new Set<string>();
  for (let seed = 1; seed <= seeds; seed++) {
    let hist = generateRegisterHistory({ seed, ...sc.workload });
    if (sc.corrupt) hist = corruptRead(hist, seed) ?? hist;
    const text = historyToJsonLines(hist);
    const p0 = performance.now();
    historyFromJsonLines(text);
    parse.push(performance.now() - p0);
    const a = timeCheck(hist, {});
    memo.push(a.ms);
    outcomes.add(a.outcome);
    const b = timeCheck(hist, { memoize: false, stepsMaxPerKey: NO_MEMO_STEPS_MAX });
    noMemoOutcomes.add(b.outcome);
    noMemo.push(b.ms);
  }
  const m = median(memo);
  const nm = median(noMemo);
  console.log(
    `${sc.name} | ${m.toFixed(1)} | ${Math.round(base.opsCount / (m / 1000))} | ${[...outcomes].join(',')} | ${nm.toFixed(1)} (${[...noMemoOutcomes].join(',')}) | ${(nm / m).toFixed(2)} | ${median(parse).toFixed(1)}`,
  );
}
