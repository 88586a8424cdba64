/**
 * Long seed sweeps outside CI: `npm run soak -- --seeds 100000 [--scenario raft] [--seed 1]
 * [--nodes N] [--set key=value ...]`.
 * Runs every seed of a scenario (default: every registered scenario that checks safety), shows
 * a progress bar, and prints each failing seed with its replay command. Failing seeds belong in
 * the scenario's regression tests.
 */
import { SingleBar } from 'cli-progress';
import { SCENARIOS } from '../src/scenarios/index.ts';
import { SimFailure } from '../src/sim/simulator.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const seeds = Number(flag('--seeds', '1000'));
const first = Number(flag('--seed', '1'));
const only = flag('--scenario', '');
const nodesFlag = flag('--nodes', '');
const params: Record<string, string> = {};
process.argv.forEach((a, i) => {
  if (a !== '--set') return;
  const kv = process.argv[i + 1] ?? '';
  const eq = kv.indexOf('=');
  if (eq <= 0) {
    console.error(`soak: --set expects key=value, got ${JSON.stringify(kv)}`);
    process.exit(2);
  }
  params[kv.slice(0, eq)] = kv.slice(eq + 1);
});
if (nodesFlag !== '' && !(Number.isSafeInteger(Number(nodesFlag)) && Number(nodesFlag) >= 1)) {
  console.error(`soak: --nodes must be a positive integer, got ${JSON.stringify(nodesFlag)}`);
  process.exit(2);
}
const chosen = only === '' ? SCENARIOS.filter((s) => s.soak !== false) : SCENARIOS.filter((s) => s.name === only);
if (chosen.length === 0) {
  console.error(`soak: unknown scenario ${JSON.stringify(only)}; choose one of: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(first) || first < 0) {
  console.error('soak: --seeds must be a positive integer and --seed a non-negative integer');
  process.exit(2);
}

let failures = 0;
for (const scenario of chosen) {
  const bar = new SingleBar({ format: `${scenario.name.padEnd(14)} {bar} {value}/{total} seeds | {failures} failed | {eta_formatted} left` });
  bar.start(seeds, 0, { failures: 0 });
  let failed = 0;
  for (let i = 0; i < seeds; i++) {
    const seed = first + i;
    const options = {
      seed,
      nodes: nodesFlag !== '' ? Number(nodesFlag) : (scenario.defaults.nodes ?? 3),
      durationMs: scenario.defaults.durationMs ?? 2000,
      ops: scenario.defaults.ops ?? 100,
      faults: scenario.defaults.faults ?? [],
      params,
    };
    let message: string | undefined;
    try {
      const r = scenario.run(options);
      if (!r.ok) message = r.headline;
    } catch (err) {
      if (!(err instanceof SimFailure)) throw err;
      message = err.message;
    }
    if (message !== undefined) {
      failed++;
      bar.stop();
      console.log(`\nFAILED ${scenario.name} seed ${seed}: ${message}`);
      bar.start(seeds, i + 1, { failures: failed });
    }
    bar.update(i + 1, { failures: failed });
  }
  bar.stop();
  console.log(`${scenario.name}: ${seeds - failed}/${seeds} seeds passed (seeds ${first}..${first + seeds - 1})`);
  failures += failed;
}
process.exitCode = failures > 0 ? 1 : 0;
