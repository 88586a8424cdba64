/**
 * Epidemic dissemination measurements for docs/gossip.md: rounds to reach all n nodes for push,
 * pull and push-pull (n = 16 .. 4096, many seeded trials), and the residue of rumor mongering for
 * k = 1..5 beside Demers' formula. Runs the real RumorMonger in the round-synchronous driver.
 *
 *   node --import tsx bench/gossip.ts [--quick]
 */
import { measureResidue, measureRounds } from '../src/gossip/experiments.ts';

const quick = process.argv.includes('--quick');
const fmt = (x: number, d = 2) => x.toFixed(d);
const started = performance.now();

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

process.stdout.write('\n## Residue of push rumor mongering, n = 1000\n\n');
process.stdout.write("| variant | k | trials | residue | p99 | Demers' s | measured / s | traffic (copies per node) | rounds to quiescence |\n");
process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
const trials = quick ? 10 : 400;
for (const row of measureResidue({ ks: [1, 2, 3, 4, 5], n: 1000, trials, seed: 1, rules: ['coin', 'counter'], feedback: [true, false] })) {
  process.stdout.write(
    `| ${row.feedback ? 'feedback' : 'blind'} + ${row.rule} | ${row.k} | ${trials} | ${fmt(row.residue * 100, 3)}% | ${fmt(row.residueP99 * 100, 2)}% | ${fmt(row.model * 100, 3)}% | ${fmt(row.residue / row.model, 3)} | ${fmt(row.traffic)} | ${fmt(row.rounds, 1)} |\n`,
  );
}
process.stdout.write(`\n(total ${fmt((performance.now() - started) / 1000, 1)} s)\n`);
