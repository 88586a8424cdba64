/**
 * The two classic rumor-spreading experiments, shared by `bench/gossip.ts` and the
 * `clusterkit gossip rounds|residue` commands: rounds until everyone knows (many seeded trials,
 * mean and p99, beside the models) and the residue of rumor mongering for stop parameter k
 * (beside Demers' formula). Both run the real `RumorMonger` in the round-synchronous driver.
 * Leaves out: wall-clock timing (see the benchmark script).
 */
import type { GossipMode, StopRule } from './config.ts';
import { demersResidue, roundsLeadingTerms, roundsMeanField } from './model.ts';
import { runRumorRounds, summarize } from './rounds.ts';

export interface RoundsRow {
  mode: GossipMode;
  n: number;
  trials: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
  /** log2 n + ln n (push), log2 n + log2 ln n (pull), log3 n + ln ln n (push-pull). */
  modelLeading: number;
  /** Mean-field recurrence estimate. */
  modelMeanField: number;
  /** Messages per node per round (all kinds). */
  messagesPerNodeRound: number;
}

export function measureRounds(opts: { modes: readonly GossipMode[]; ns: readonly number[]; trials: number; seed: number; fanout?: number }): RoundsRow[] {
  const rows: RoundsRow[] = [];
  for (const mode of opts.modes) {
    for (const n of opts.ns) {
      const rounds: number[] = [];
      let messages = 0;
      let nodeRounds = 0;
      for (let t = 0; t < opts.trials; t++) {
        const r = runRumorRounds({
          n,
          seed: opts.seed + t,
          config: { mode, fanout: opts.fanout ?? 1, stop: { kind: 'rounds', rounds: 1_000_000 } },
          roundsMax: 10_000,
          stopWhenAllInformed: true,
        });
        rounds.push(r.roundsToAll ?? r.rounds);
        messages += r.messages;
        nodeRounds += n * r.rounds;
      }
      const s = summarize(rounds);
      rows.push({
        mode,
        n,
        trials: opts.trials,
        ...s,
        modelLeading: roundsLeadingTerms(mode, n),
        modelMeanField: roundsMeanField(mode, n),
        messagesPerNodeRound: messages / nodeRounds,
      });
    }
  }
  return rows;
}

export interface ResidueRow {
  rule: StopRule['kind'];
  feedback: boolean;
  mode: GossipMode;
  k: number;
  n: number;
  trials: number;
  /** Mean fraction of nodes never told. */
  residue: number;
  residueP99: number;
  /** Demers' s = e^{-(k+1)(1-s)} (derived for feedback + coin). */
  model: number;
  /** Rumor copies sent per node (Demers' "traffic" m). */
  traffic: number;
  /** Mean rounds until no node is hot. */
  rounds: number;
}

export function measureResidue(opts: {
  ks: readonly number[];
  n: number;
  trials: number;
  seed: number;
  rules: readonly ('counter' | 'coin')[];
  feedback: readonly boolean[];
  mode?: GossipMode;
}): ResidueRow[] {
  const rows: ResidueRow[] = [];
  const mode = opts.mode ?? 'push';
  for (const feedback of opts.feedback) {
    for (const rule of opts.rules) {
      for (const k of opts.ks) {
        const residues: number[] = [];
        let traffic = 0;
        let rounds = 0;
        for (let t = 0; t < opts.trials; t++) {
          const r = runRumorRounds({
            n: opts.n,
            seed: opts.seed + t,
            config: { mode, feedback, stop: { kind: rule, k } },
            roundsMax: 100_000,
            stopWhenAllInformed: false,
          });
          residues.push(r.residue);
          traffic += r.rumorsSent / opts.n;
          rounds += r.rounds;
        }
        const s = summarize(residues);
        rows.push({
          rule,
          feedback,
          mode,
          k,
          n: opts.n,
          trials: opts.trials,
          residue: s.mean,
          residueP99: s.p99,
          model: demersResidue(k),
          traffic: traffic / opts.trials,
          rounds: rounds / opts.trials,
        });
      }
    }
  }
  return rows;
}
