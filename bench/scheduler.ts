/**
 * Seed 04.3.4 measured against modelled (see src/scenarios/cluster-availability.ts): every node
 * fails and is repaired independently (mean MTBF up, mean MTTR down, virtual time); for each
 * topology, the fraction of time every workload had its replicas running and the fraction of
 * time the control plane could accept a change, beside the seed's formulas and the
 * quorum-aware ones. The peer is the closed form, as a ratio measured / modelled.
 *
 * Run: node --import tsx bench/scheduler.ts [--workers 6] [--mtbf-s 57] [--mttr-s 3]
 *      [--duration-s 1200] [--seeds 3] [--fencing lease|none]
 */
import { compareClusterAvailability } from '../src/scenarios/cluster-availability.ts';
import { TOPOLOGIES } from '../src/scenarios/cluster-scenario.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(Number.isFinite(v) && v > 0)) {
    console.error(`${name} must be a positive number`);
    process.exit(2);
  }
  return v;
}
const fi = process.argv.indexOf('--fencing');
const fencing = fi > 0 ? process.argv[fi + 1] : 'lease';
if (fencing !== 'lease' && fencing !== 'none') {
  console.error('--fencing must be lease or none');
  process.exit(2);
}
const workers = flag('--workers', 6);
const mtbfMs = flag('--mtbf-s', 57) * 1000;
const mttrMs = flag('--mttr-s', 3) * 1000;
const durationMs = flag('--duration-s', 1200) * 1000;
const seeds = flag('--seeds', 3);
const masters = 3;

const t0 = performance.now();
const r = compareClusterAvailability({ topologies: TOPOLOGIES, workers, masters, mtbfMs, mttrMs, durationMs, seeds, config: { fencing } });
console.log(
  `A = ${mtbfMs / 1000}/(${mtbfMs / 1000}+${mttrMs / 1000}) = ${r.nodeAvailability.toFixed(4)}; ${workers} workers (peers), ${masters} hybrid masters, k = ${r.workersNeeded} workers hold the desired state; ${seeds} seeds × ${durationMs / 1000} s virtual; fencing ${fencing}`,
);
console.log('| topology | measured service | seed formula | measured/seed | quorum-aware | measured/quorum-aware | measured control plane | model | ratio | all nodes up measured / ΠA | duplicate task-s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const x of r.rows) {
  console.log(
    `| ${x.topology} | ${x.measuredService.toFixed(4)} | ${x.seedFormula.toFixed(4)} | ${(x.measuredService / x.seedFormula).toFixed(2)} | ${x.quorumAware.toFixed(4)} | ${(x.measuredService / x.quorumAware).toFixed(2)} | ${x.measuredControlPlane.toFixed(4)} | ${x.modelControlPlane.toFixed(4)} | ${(x.measuredControlPlane / x.modelControlPlane).toFixed(2)} | ${x.measuredAllUp.toFixed(4)} / ${x.modelAllUp.toFixed(4)} | ${x.duplicateTaskSeconds.toFixed(1)} |`,
  );
}
console.log(`wall ${((performance.now() - t0) / 1000).toFixed(1)} s`);
