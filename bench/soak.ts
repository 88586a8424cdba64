/**
 * Soak: runs many seeds of a simulation scenario outside CI, with a progress bar, and prints
 * every failing seed with the command that replays it.
 *
 *   npm run soak -- --seeds 100000 [--scenario raft] [--seed 1] [--nodes 3] [--set key=value]
 *
 * A failing seed belongs in the scenario's regression list (for raft:
 * test/consensus/raft/sim.test.ts, REGRESSION_SEEDS) once its bug is fixed.
 */
import { SingleBar } from 'cli-progress';
import { findScenario, SCENARIOS, type ScenarioOptions } from '../src/scenarios/index.ts';
import { SimFailure } from '../src/sim/simulator.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function intArg(name: string, dflt: number, min: number): number {
  const v = arg(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

const name = arg('scenario') ?? 'raft';
const scenario = findScenario(name);
if (!scenario) {
  console.error(`--scenario: unknown ${JSON.stringify(name)}; choose one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const seeds = intArg('seeds', 1000, 1);
const first = intArg('seed', 1, 0);
const params: Record<string, string> = {};
process.argv.forEach((a, i) => {
  if (a === '--set') {
    const kv = process.argv[i + 1] ?? '';
    const eq = kv.indexOf('=');
    if (eq > 0) params[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
});
const base = (seed: number): ScenarioOptions => ({
  seed,
  nodes: intArg('nodes', scenario.defaults.nodes ?? 3, 1),
  durationMs: intArg('duration-ms', scenario.defaults.durationMs ?? 2000, 1),
  ops: intArg('ops', scenario.defaults.ops ?? 100, 0),
  faults: scenario.defaults.faults ?? [],
  params,
});

const bar = new SingleBar({ format: `${name} {bar} {value}/{total} seeds | {failures} failures | {eta_formatted} left`, etaBuffer: 200 });
bar.start(seeds, 0, { failures: 0 });
const failures: string[] = [];
const t0 = performance.now();
for (let i = 0; i < seeds; i++) {
  const o = base(first + i);
  try {
    const r = scenario.run(o);
    if (!r.ok) failures.push(`seed ${o.seed}: ${r.headline}`);
  } catch (err) {
    if (err instanceof SimFailure) failures.push(`seed ${o.seed}: ${err.message}`);
    else failures.push(`seed ${o.seed}: uncaught ${err instanceof Error ? err.stack : String(err)}`);
  }
  bar.update(i + 1, { failures: failures.length });
}
bar.stop();
const s = (performance.now() - t0) / 1000;
console.log(`${name}: ${seeds - failures.length}/${seeds} seeds passed (seeds ${first}..${first + seeds - 1}) in ${s.toFixed(1)} s`);
for (const f of failures) console.log(`FAILED ${f}`);
process.exitCode = failures.length > 0 ? 1 : 0;
