/**
 * Benchmarks for models/: the exact k-of-n availability (Poisson-binomial DP, O(n²)) against
 * brute-force enumeration of all 2^n up/down states (the peer, same answer), and the Monte Carlo
 * simulator's throughput in node events per second.
 * Run: node --import tsx bench/models.ts
 */
import { createRng } from '../src/core/rng.ts';
import { atLeastKOfN } from '../src/models/availability.ts';
import { monteCarloAvailability } from '../src/models/monteCarlo.ts';

function bruteAtLeast(as: readonly number[], k: number): number {
  let total = 0;
  for (let mask = 0; mask < 2 ** as.length; mask++) {
    let p = 1;
    let up = 0;
    for (let i = 0; i < as.length; i++) {
      if (mask & (1 << i)) {
        p *= as[i] ?? 0;
        up++;
      } else p *= 1 - (as[i] ?? 0);
    }
    if (up >= k) total += p;
  }
  return total;
}

function timeMs(fn: () => void, reps: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / reps;
}

const n = 20;
const rng = createRng(1);
const as = Array.from({ length: n }, () => 0.9 + 0.099 * rng.float());
let dpValue = 0;
let bruteValue = 0;
const dpMs = timeMs(() => {
  dpValue = atLeastKOfN(as, 11);
}, 2000);
const bruteMs = timeMs(() => {
  bruteValue = bruteAtLeast(as, 11);
}, 3);
console.log(`k-of-n, n=${n}, k=11: DP ${dpMs.toFixed(4)} ms, brute force ${bruteMs.toFixed(1)} ms, ratio ${(bruteMs / dpMs).toFixed(0)}x, |difference| ${Math.abs(dpValue - bruteValue).toExponential(2)}`);

const nodes = [
  ...Array.from({ length: 3 }, () => ({ mtbf: 99, mttr: 1 })),
  ...Array.from({ length: 10 }, () => ({ mtbf: 19, mttr: 1 })),
];
const t0 = process.hrtime.bigint();
const r = monteCarloAvailability({
  nodes,
  structure: { kind: 'hybrid', masters: 3, masterRule: 'majority', workersNeeded: 8 },
  horizon: 100_000,
  runs: 20,
  rng: createRng(2),
});
const mcMs = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(
  `Monte Carlo, 3 masters + 10 workers, 20 runs x 100000 time units: ${r.events} events in ${mcMs.toFixed(0)} ms (${((r.events / mcMs) * 1000).toExponential(2)} events/s); estimate ${r.estimate.toFixed(5)} ± ${r.halfWidth.toFixed(5)}, closed form ${r.closedForm.toFixed(5)}`,
);
