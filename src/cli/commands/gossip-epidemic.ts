/**
 * `clusterkit gossip rounds` and `clusterkit gossip residue`: the epidemic dissemination
 * experiments (Demers et al. 1987; Karp et al. 2000) run on the real rumor-mongering core in a
 * round-synchronous seeded simulation, printed beside their models.
 */
import type { Command } from 'commander';
import type { GossipMode } from '../../gossip/config.ts';
import { measureResidue, measureRounds } from '../../gossip/experiments.ts';
import { intFlag, printJson, table, UsageError } from '../util.ts';

const MODES: readonly GossipMode[] = ['push', 'pull', 'push-pull'];

function intList(flag: string, min: number, max: number) {
  const one = intFlag(flag, { min, max });
  return (value: string): number[] => value.split(',').map((v) => one(v.trim()));
}

function parseModes(value: string): GossipMode[] {
  if (value === 'all') return [...MODES];
  const out: GossipMode[] = [];
  for (const m of value.split(',')) {
    const mode = MODES.find((x) => x === m.trim());
    if (mode === undefined) throw new UsageError(`--mode must be push, pull, push-pull, all or a comma list of them; got ${JSON.stringify(m)}`);
    out.push(mode);
  }
  return out;
}

/** The `gossip` command may also be registered by the membership module; attach to it if present. */
function gossipCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'gossip') ??
    program.command('gossip').description('Gossip: membership and epidemic dissemination')
  );
}

export function registerGossipEpidemic(program: Command): void {
  const gossip = gossipCommand(program);
  gossip
    .command('rounds')
    .description('Rounds for one rumor to reach all n nodes (push, pull, push-pull), many seeded trials, beside the models')
    .option('--nodes <list>', 'comma-separated cluster sizes, each 2..65536', intList('--nodes', 2, 65_536), [16, 64, 256, 1024])
    .option('--mode <mode>', 'push, pull, push-pull, all, or a comma list', 'all')
    .option('--trials <n>', 'seeded trials per (mode, n), 1..100000', intFlag('--trials', { min: 1, max: 100_000 }), 200)
    .option('--fanout <n>', 'peers contacted per round, 1..16', intFlag('--fanout', { min: 1, max: 16 }), 1)
    .option('--seed <n>', 'first seed (trial i uses seed + i)', intFlag('--seed', { min: 0 }), 1)
    .option('--json', 'print JSON rows')
    .action((o: { nodes: number[]; mode: string; trials: number; fanout: number; seed: number; json?: boolean }) => {
      const rows = measureRounds({ modes: parseModes(o.mode), ns: o.nodes, trials: o.trials, seed: o.seed, fanout: o.fanout });
      if (o.json) return printJson(rows);
      process.stdout.write(
        `${table(
          ['mode', 'n', 'trials', 'mean', 'p50', 'p99', 'max', 'model', 'mean-field', 'mean/model', 'msgs/node/round'],
          rows.map((r) => [r.mode, r.n, r.trials, r.mean, r.p50, r.p99, r.max, r.modelLeading, r.modelMeanField, r.mean / r.modelLeading, r.messagesPerNodeRound]),
        )}\nmodel: push log2 n + ln n (Pittel 1987); pull log2 n + log2 ln n; push-pull log3 n + ln ln n (Karp et al. 2000)\n`,
      );
    });
  gossip
    .command('residue')
    .description("Residue (fraction never told) of rumor mongering for k = 1..k-max, beside Demers' s = e^{-(k+1)(1-s)}")
    .option('--nodes <n>', 'cluster size, 2..65536', intFlag('--nodes', { min: 2, max: 65_536 }), 1000)
    .option('--k-max <k>', 'largest stop parameter k, 1..20', intFlag('--k-max', { min: 1, max: 20 }), 5)
    .option('--rule <rule>', 'coin, counter or both', 'both')
    .option('--blind', 'also run the blind variants (no feedback)')
    .option('--trials <n>', 'seeded trials per k, 1..100000', intFlag('--trials', { min: 1, max: 100_000 }), 50)
    .option('--seed <n>', 'first seed', intFlag('--seed', { min: 0 }), 1)
    .option('--json', 'print JSON rows')
    .action((o: { nodes: number; kMax: number; rule: string; blind?: boolean; trials: number; seed: number; json?: boolean }) => {
      if (o.rule !== 'coin' && o.rule !== 'counter' && o.rule !== 'both') {
        throw new UsageError(`--rule must be coin, counter or both; got ${JSON.stringify(o.rule)}`);
      }
      const rules: ('coin' | 'counter')[] = o.rule === 'both' ? ['coin', 'counter'] : [o.rule];
      const ks = Array.from({ length: o.kMax }, (_, i) => i + 1);
      const rows = measureResidue({ ks, n: o.nodes, trials: o.trials, seed: o.seed, rules, feedback: o.blind ? [true, false] : [true] });
      if (o.json) return printJson(rows);
      process.stdout.write(
        `${table(
          ['variant', 'k', 'n', 'trials', 'residue %', 'p99 %', "Demers' s %", 'traffic/node', 'rounds'],
          rows.map((r) => [
            `${r.feedback ? 'feedback' : 'blind'}+${r.rule}`,
            r.k,
            r.n,
            r.trials,
            r.residue * 100,
            r.residueP99 * 100,
            r.model * 100,
            r.traffic,
            r.rounds,
          ]),
        )}\nDemers' s = e^{-(k+1)(1-s)} is derived for push rumor mongering with feedback and the coin rule.\n`,
      );
    });
}
