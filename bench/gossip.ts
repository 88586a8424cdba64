/**
 * Epidemic dissemination measurements for docs/gossip.md: rounds to reach all n nodes for push,
 * pull and push-pull (n = 16 .. 4096, many seeded trials), and the residue of rumor mongering for
 * k = 1..5 beside Demers' formula. Runs the real RumorMonger in the round-synchronous driver.
 *
 * Then the same protocols in the event simulator: rumor spreading with latency and unsynchronized
 * round timers, and the replicated CRDT map and causal KV under the nemesis (time from heal to
 * convergence).
 *
 *   node --import tsx bench/gossip.ts [--quick] [--only rounds|residue|sim]
 */
import { measureResidue, measureRounds } from '../src/gossip/experiments.ts';
import { roundsLeadingTerms } from '../src/gossip/model.ts';
import { summarize } from '../src/gossip/rounds.ts';
import { runCausalKv } from '../src/scenarios/causal-kv-scenario.ts';
import { runCrdtMap } from '../src/scenarios/crdt-map-scenario.ts';
import { runGossipRounds } from '../src/scenarios/gossip-rounds-scenario.ts';
import { ALL_FAULTS, type FaultKind } from '../src/sim/nemesis.ts';

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const want = (section: string) => only === undefined || only === section;
const fmt = (x: number, d = 2) => x.toFixed(d);
const started = performance.now();

if (want('rounds')) {
process.stdout.write('## Rounds until every node knows the rumor (fanout 1, one origin)\n\n');
process.stdout.write('| mode | n | trials | mean | p50 | p99 | max | leading-order model | mean / model | mean-field model | msgs per node per round |\n');
process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n');
for (const n of [16, 64, 256, 1024, 4096]) {
  const trials = quick ? 20 : n >= 4096 ? 300 : 1000;
  for (const row of measureRounds({ modes: ['push', 'pull', 'push-pull'], ns: [n], trials, seed: 1 })) {
    process.stdout.write(
      `| ${row.mode} | ${n} | ${trials} | ${fmt(row.mean)} | ${row.p50} | ${row.p99} | ${row.max} | ${fmt(row.modelLeading)} | ${fmt(row.mean / row.modelLeading, 3)} | ${row.modelMeanField} | ${fmt(row.messagesPerNodeRound)} |\n`,
    );
  }
}

}

if (want('residue')) {
process.stdout.write('\n## Residue of push rumor mongering, n = 1000\n\n');
process.stdout.write("| variant | k | trials | residue | p99 | Demers' s | measured / s | traffic (copies per node) | rounds to quiescence |\n");
process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
const trials = quick ? 10 : 400;
for (const row of measureResidue({ ks: [1, 2, 3, 4, 5], n: 1000, trials, seed: 1, rules: ['coin', 'counter'], feedback: [true, false] })) {
  process.stdout.write(
    `| ${row.feedback ? 'feedback' : 'blind'} + ${row.rule} | ${row.k} | ${trials} | ${fmt(row.residue * 100, 3)}% | ${fmt(row.residueP99 * 100, 2)}% | ${fmt(row.model * 100, 3)}% | ${fmt(row.residue / row.model, 3)} | ${fmt(row.traffic)} | ${fmt(row.rounds, 1)} |\n`,
  );
}
}

if (want('sim')) {
  process.stdout.write('\n## Event simulator: rounds for a rumor to reach everyone (latency 1-10 ms, round 100 ms, timers unsynchronized)\n\n');
  process.stdout.write('| mode | n | faults | rumors | mean rounds | p99 | leading-order model | mean / model |\n|---|---:|---|---:|---:|---:|---:|---:|\n');
  for (const n of quick ? [64] : [64, 256, 1024]) {
    for (const mode of ['push', 'pull', 'push-pull'] as const) {
      for (const faults of [[], ['loss', 'duplicate', 'reorder']] as FaultKind[][]) {
        const rounds: number[] = [];
        let incomplete = 0;
        for (let seed = 1; seed <= (quick ? 2 : n >= 1024 ? 4 : 10); seed++) {
          const r = runGossipRounds({ seed, nodes: n, durationMs: 10_000, ops: 20, faults, params: { mode, roundMs: '100' } });
          rounds.push(...r.spreadRounds);
          incomplete += r.incomplete;
        }
        const s = summarize(rounds);
        const model = roundsLeadingTerms(mode, n);
        process.stdout.write(
          `| ${mode} | ${n} | ${faults.join(',') || 'none'} | ${rounds.length}${incomplete > 0 ? ` (+${incomplete} incomplete)` : ''} | ${fmt(s.mean)} | ${fmt(s.p99)} | ${fmt(model)} | ${fmt(s.mean / model, 3)} |\n`,
        );
      }
    }
  }
  process.stdout.write('\n## Event simulator: time from heal to convergence (virtual ms)\n\n');
  process.stdout.write('| system | replicas | faults during the 5 s safety phase | seeds | mean ms | p50 | p99 | max | in rounds (mean / round) | lost updates / causal violations |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n');
  const seeds = quick ? 3 : 100;
  for (const [name, faults, params] of [
    ['two halves split for 5 s', [], { split: 'true' }],
    ['nemesis: partitions only', ['partition'], {}],
    ['nemesis: all faults', ALL_FAULTS, {}],
  ] as [string, readonly FaultKind[], Record<string, string>][]) {
    const ms: number[] = [];
    let lost = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = runCrdtMap({ seed, nodes: 5, durationMs: 5000, ops: 200, faults, params });
      ms.push(r.convergeMs);
      lost += r.lost.length;
    }
    const s = summarize(ms);
    process.stdout.write(
      `| crdt-map (round 50 ms, anti-entropy every 4 rounds) | 5 | ${name} | ${seeds} | ${fmt(s.mean, 1)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${fmt(s.max, 1)} | ${fmt(s.mean / 50, 1)} | ${lost} |\n`,
    );
    const cms: number[] = [];
    let violations = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = runCausalKv({ seed, nodes: 4, durationMs: 5000, ops: 200, faults, params });
      cms.push(r.convergeMs);
      violations += r.violations.length;
    }
    const c = summarize(cms);
    process.stdout.write(
      `| causal-kv (sync every 50 ms) | 4 | ${name} | ${seeds} | ${fmt(c.mean, 1)} | ${fmt(c.p50, 1)} | ${fmt(c.p99, 1)} | ${fmt(c.max, 1)} | ${fmt(c.mean / 50, 1)} | ${violations} |\n`,
    );
  }
}
process.stdout.write(`\n(total ${fmt((performance.now() - started) / 1000, 1)} s)\n`);
