/**
 * `clusterkit sim <scenario>`: runs a simulation scenario (or a sweep of seeds) and prints a
 * summary. A failing seed prints the failure, the seed and the command that replays it.
 */
import { writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { findScenario, SCENARIOS, type ScenarioOptions, type ScenarioResult } from '../../scenarios/index.ts';
import { ALL_FAULTS, type FaultKind } from '../../sim/nemesis.ts';
import { SimFailure } from '../../sim/simulator.ts';
import { durationFlag, intFlag, printJson, table, UsageError } from '../util.ts';

function faultsFlag(value: string): FaultKind[] {
  if (value === 'none' || value === '') return [];
  if (value === 'all') return [...ALL_FAULTS];
  const out: FaultKind[] = [];
  for (const f of value.split(',')) {
    if (!(ALL_FAULTS as readonly string[]).includes(f)) {
      throw new InvalidArgumentError(`--faults: unknown fault ${JSON.stringify(f)}; allowed: ${ALL_FAULTS.join(', ')}, all, none`);
    }
    out.push(f as FaultKind);
  }
  return out;
}

function setFlag(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--set expects key=value, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

interface SimFlags {
  seed: number;
  seeds: number;
  nodes?: number;
  duration?: number;
  ops?: number;
  faults?: FaultKind[];
  set: Record<string, string>;
  json?: boolean;
  history?: string;
  svg?: string;
  progress?: boolean;
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run a deterministic simulation scenario')
    .argument('[scenario]', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('--seed <n>', 'seed of the (first) run', intFlag('--seed', { min: 0, max: Number.MAX_SAFE_INTEGER }), 1)
    .option('--seeds <n>', 'number of consecutive seeds to run', intFlag('--seeds', { min: 1, max: 10_000_000 }), 1)
    .option('--nodes <n>', 'cluster size (meaning depends on the scenario)', intFlag('--nodes', { min: 1, max: 10_000 }))
    .option('--duration <d>', 'virtual duration of the faulty phase (e.g. 2s, 500ms)', durationFlag('--duration'))
    .option('--ops <n>', 'client operations to issue', intFlag('--ops', { min: 0, max: 10_000_000 }))
    .option('--faults <list>', `comma-separated faults: ${ALL_FAULTS.join(',')}, or all / none`, faultsFlag)
    .option('--set <key=value...>', 'scenario parameters (several after one --set, or repeat --set)', setFlag, {})
    .option('--history <file>', 'write the client history as JSON lines (single seed)')
    .option('--svg <file>', 'write the scenario chart, when it draws one')
    .option('--json', 'print JSON instead of text')
    .option('--no-progress', 'no progress bar for multi-seed runs')
    .addHelpText('after', `\nScenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.description}`).join('\n')}\n`)
    .action((name: string | undefined, flags: SimFlags) => {
      if (name === undefined) {
        process.stdout.write(`${table(['scenario', 'description'], SCENARIOS.map((s) => [s.name, s.description]))}\n`);
        return;
      }
      const scenario = findScenario(name);
      if (scenario === undefined) {
        throw new UsageError(`unknown scenario ${JSON.stringify(name)}; choose one of: ${SCENARIOS.map((s) => s.name).join(', ')}`);
      }
      const base = (seed: number): ScenarioOptions => ({
        seed,
        nodes: flags.nodes ?? scenario.defaults.nodes ?? 3,
        durationMs: flags.duration ?? scenario.defaults.durationMs ?? 2000,
        ops: flags.ops ?? scenario.defaults.ops ?? 100,
        faults: flags.faults ?? scenario.defaults.faults ?? [],
        params: flags.set,
      });
      if (flags.seeds === 1) {
        const result = runOne(scenario.run.bind(scenario), base(flags.seed));
        if (flags.history !== undefined && result.historyJsonLines !== undefined) writeFileSync(flags.history, result.historyJsonLines);
        if (flags.svg !== undefined) {
          if (result.svg === undefined) throw new UsageError(`scenario ${name} does not draw a chart (--svg)`);
          writeFileSync(flags.svg, result.svg);
        }
        if (flags.json) {
          const { historyJsonLines: _h, svg: _s, ...rest } = result;
          printJson(rest);
        } else {
          process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${result.headline}\n`);
          process.stdout.write(`${table(['figure', 'value'], Object.entries(result.summary))}\n`);
          if (result.details.length > 0) process.stdout.write(`\n${result.details.join('\n')}\n`);
        }
        if (!result.ok) process.exitCode = 1;
        return;
      }
      // Seed sweep.
      const bar = flags.progress !== false && process.stderr.isTTY && !flags.json ? new SingleBar({ format: `${name} {bar} {value}/{total} seeds | failures {failures}` }) : undefined;
      bar?.start(flags.seeds, 0, { failures: 0 });
      const failures: ScenarioResult[] = [];
      for (let i = 0; i < flags.seeds; i++) {
        const r = runOne(scenario.run.bind(scenario), base(flags.seed + i));
        if (!r.ok) failures.push(r);
        bar?.update(i + 1, { failures: failures.length });
      }
      bar?.stop();
      if (flags.json) printJson({ scenario: name, seeds: flags.seeds, firstSeed: flags.seed, failures: failures.map((f) => ({ seed: f.seed, headline: f.headline })) });
      else {
        process.stdout.write(`${name}: ${flags.seeds - failures.length}/${flags.seeds} seeds passed (seeds ${flags.seed}..${flags.seed + flags.seeds - 1})\n`);
        for (const f of failures) process.stdout.write(`FAILED seed ${f.seed}: ${f.headline}\n`);
      }
      if (failures.length > 0) process.exitCode = 1;
    });
}

function runOne(run: (o: ScenarioOptions) => ScenarioResult, options: ScenarioOptions): ScenarioResult {
  try {
    return run(options);
  } catch (err) {
    if (err instanceof SimFailure) {
      return {
        ok: false,
        seed: options.seed,
        headline: err.message,
        summary: { seed: options.seed },
        details: err.traceTail.slice(-20),
      };
    }
    throw err;
  }
}
