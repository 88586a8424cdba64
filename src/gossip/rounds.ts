/**
 * A round-synchronous driver for `RumorMonger`: n nodes, every one ticks once per round, and
 * every message (requests, replies, feedback) is delivered within the round, with no loss, and a
 * rumor learned in a round is served from the next one (`serveFresh: false`). This
 * is the model of Demers et al. 1987 and Karp et al. 2000, so their formulas apply; it runs the
 * real protocol core, seeded by the core `Rng`. Used by the measurements in `bench/gossip.ts`
 * and the `clusterkit gossip rounds` command.
 * Leaves out: latency, loss and failures (the event simulator in `sim/` covers those).
 */
import { assert } from '../core/assert.ts';
import type { NodeId } from '../core/ids.ts';
import { createRng } from '../core/rng.ts';
import type { RumorConfig } from './config.ts';
import { type Outgoing, RumorMonger, type RumorMessage } from './rumor.ts';

export interface RoundRunOptions {
  /** Number of nodes (>= 2). */
  n: number;
  seed: number;
  config: Partial<RumorConfig>;
  /** Stop after this many rounds even if the rumor is still spreading. */
  roundsMax: number;
  /** Stop as soon as every node knows the rumor (for dissemination time); otherwise run until no node is hot. */
  stopWhenAllInformed: boolean;
}

export interface RoundRunResult {
  n: number;
  /** First round after which every node knew the rumor; undefined if that never happened. */
  roundsToAll: number | undefined;
  /** Rounds executed. */
  rounds: number;
  /** Informed nodes after each round (index 0 = after round 1). */
  informedByRound: number[];
  /** Fraction of nodes that never heard the rumor when the run stopped. */
  residue: number;
  /** Messages sent in total (requests, replies and feedback). */
  messages: number;
  /** Rumor copies carried in total (Demers' "traffic"). */
  rumorsSent: number;
}

export function runRumorRounds(opts: RoundRunOptions): RoundRunResult {
  assert(Number.isSafeInteger(opts.n) && opts.n >= 2, `round run needs n >= 2, got ${opts.n}`);
  const root = createRng(opts.seed);
  const ids: NodeId[] = Array.from({ length: opts.n }, (_, i) => `n${i}`);
  const index = new Map(ids.map((id, i) => [id, i]));
  const peers = () => ids;
  const nodes = ids.map((self) => new RumorMonger<null>({ self, rng: root.fork(self), peers, config: { ...opts.config, serveFresh: false } }));
  const rumorId = nodes[0]!.broadcast(null);
  let informed = 1;
  let roundsToAll: number | undefined;
  const informedByRound: number[] = [];
  let round = 0;
  const queue: { from: number; out: Outgoing<RumorMessage<null>> }[] = [];
  while (round < opts.roundsMax) {
    round += 1;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      node.tick();
      for (const out of node.pollMessages()) queue.push({ from: i, out });
    }
    for (let q = 0; q < queue.length; q++) {
      const { from, out } = queue[q]!;
      const toIndex = index.get(out.to);
      assert(toIndex !== undefined, `message to unknown node ${out.to}`);
      const target = nodes[toIndex]!;
      target.handleMessage(ids[from]!, out.msg);
      informed += target.pollDelivered().length;
      for (const reply of target.pollMessages()) queue.push({ from: toIndex, out: reply });
    }
    queue.length = 0;
    informedByRound.push(informed);
    if (informed === opts.n && roundsToAll === undefined) roundsToAll = round;
    if (opts.stopWhenAllInformed && roundsToAll !== undefined) break;
    if (!opts.stopWhenAllInformed && nodes.every((x) => x.hotCount() === 0)) break;
  }
  let messages = 0;
  let rumorsSent = 0;
  for (const x of nodes) {
    messages += x.stats.messagesSent;
    rumorsSent += x.stats.rumorsSent;
  }
  assert(nodes.filter((x) => x.knows(rumorId)).length === informed, 'informed count disagrees with the nodes');
  return { n: opts.n, roundsToAll, rounds: round, informedByRound, residue: (opts.n - informed) / opts.n, messages, rumorsSent };
}

/** Mean and p99 (nearest rank) of a sample. */
export function summarize(xs: readonly number[]): { mean: number; p50: number; p99: number; max: number } {
  assert(xs.length > 0, 'summarize needs at least one value');
  const sorted = xs.slice().sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1]! };
}
