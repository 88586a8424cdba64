/**
 * `clusterkit sim gossip-rounds`: rumor mongering (`gossip/rumor.ts`) on `--nodes` members in
 * the event simulator, with network latency, unsynchronized round timers and optional faults;
 * `--ops` rumors start at random members, one every few rounds. Measures, per rumor, the time
 * until every member knows it, in rounds of `roundMs`, beside the round-synchronous models
 * (push log2 n + ln n, pull log2 n + log2 ln n, push-pull log3 n + ln ln n). Checks that every
 * rumor reaches every member (`--set mode=push|pull|push-pull`, `--set roundMs=N`).
 * The stop rule is the age rule with a generous age, so a rumor that is lost is a bug, not a
 * residue; residue is measured by `clusterkit gossip residue`.
 */
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { GossipMode } from '../gossip/config.ts';
import { roundsLeadingTerms } from '../gossip/model.ts';
import { summarize } from '../gossip/rounds.ts';
import { RumorMonger, type RumorMessage } from '../gossip/rumor.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

type Msg = RumorMessage<null>;

class GossipNode implements SimNode<Msg> {
  monger: RumorMonger<null> | undefined;
  private ctx: SimContext<Msg> | undefined;
  constructor(
    private readonly group: readonly NodeId[],
    private readonly mode: GossipMode,
    private readonly roundMs: number,
    private readonly ageRounds: number,
    private readonly learned: (node: NodeId, rumor: string, atMs: number) => void,
  ) {}
  start(ctx: SimContext<Msg>): void {
    this.ctx = ctx;
    this.monger = new RumorMonger<null>({
      self: ctx.id,
      rng: ctx.rng,
      peers: () => this.group,
      config: { mode: this.mode, stop: { kind: 'rounds', rounds: this.ageRounds } },
    });
    const loop = () => {
      this.monger?.tick();
      this.flush();
      ctx.setTimer(this.roundMs, loop);
    };
    ctx.setTimer(ctx.rng.float() * this.roundMs, loop);
  }
  onMessage(from: NodeId, msg: Msg): void {
    this.monger?.handleMessage(from, msg);
    this.flush();
  }
  originate(id: string): void {
    this.monger?.broadcast(null, id);
    if (this.ctx !== undefined) this.learned(this.ctx.id, id, this.ctx.now());
  }
  private flush(): void {
    const ctx = this.ctx;
    if (ctx === undefined || this.monger === undefined) return;
    for (const r of this.monger.pollDelivered()) this.learned(ctx.id, r.id, ctx.now());
    for (const o of this.monger.pollMessages()) ctx.send(o.to, o.msg);
  }
}

export interface GossipRoundsRun {
  mode: GossipMode;
  n: number;
  roundMs: number;
  /** Per rumor: rounds (ms / roundMs) from origination until the last member learned it. */
  spreadRounds: number[];
  /** Rumors that did not reach every member. */
  incomplete: number;
  messages: number;
  sim: Simulator<Msg>;
}

export function runGossipRounds(options: ScenarioOptions): GossipRoundsRun {
  const modeParam = options.params.mode ?? 'push-pull';
  if (modeParam !== 'push' && modeParam !== 'pull' && modeParam !== 'push-pull') {
    throw new ConfigError(`--set mode must be push, pull or push-pull, got ${JSON.stringify(modeParam)}`);
  }
  const mode: GossipMode = modeParam;
  const roundMs = Number(options.params.roundMs ?? 100);
  if (!(roundMs >= 1 && roundMs <= 60_000)) throw new ConfigError(`--set roundMs must be a number of ms in 1..60000, got ${JSON.stringify(options.params.roundMs)}`);
  if (options.nodes < 2) throw new ConfigError(`--nodes must be >= 2 for gossip-rounds, got ${options.nodes}`);
  const n = options.nodes;
  const sim = new Simulator<Msg>({
    seed: options.seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    trace: 'off',
    replayCommand: `clusterkit sim gossip-rounds --seed ${options.seed} --nodes ${n} --ops ${options.ops} --duration ${options.durationMs}ms --faults ${options.faults.join(',') || 'none'} --set mode=${mode} --set roundMs=${roundMs}`,
  });
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const known = new Map<string, Map<NodeId, number>>();
  const started = new Map<string, number>();
  const learned = (node: NodeId, rumor: string, atMs: number) => {
    let m = known.get(rumor);
    if (m === undefined) {
      m = new Map();
      known.set(rumor, m);
    }
    if (!m.has(node)) m.set(node, atMs);
  };
  const ageRounds = Math.ceil(4 * Math.log2(n)) + 20;
  for (const id of ids) sim.addNode(id, () => new GossipNode(ids, mode, roundMs, ageRounds, learned));
  const rng = sim.rng.fork('rumors');
  const gapMs = options.durationMs / Math.max(1, options.ops);
  for (let i = 0; i < options.ops; i++) {
    sim.schedule(roundMs + i * gapMs, () => {
      const origin = sim.node(rng.pick(ids)) as GossipNode | undefined;
      if (origin === undefined) return;
      const id = `r${i}`;
      started.set(id, sim.now());
      origin.originate(id);
    });
  }
  const nemesis = new Nemesis(sim, { faults: options.faults, meanIntervalMs: 200, durationMs: { min: 50, max: 400 }, downMax: 0 });
  const allKnown = () => [...started.keys()].every((id) => (known.get(id)?.size ?? 0) === n);
  runPhases({ sim, nemesis, safetyMs: options.durationMs + roundMs, livenessMs: ageRounds * roundMs * 2, converged: () => started.size === options.ops && allKnown() });
  const spreadRounds: number[] = [];
  let incomplete = 0;
  for (const [id, t0] of started) {
    const m = known.get(id);
    if (m === undefined || m.size < n) {
      incomplete++;
      continue;
    }
    spreadRounds.push((Math.max(...m.values()) - t0) / roundMs);
  }
  return { mode, n, roundMs, spreadRounds, incomplete, messages: sim.stats.messagesDelivered, sim };
}

export const gossipRoundsScenario: Scenario = {
  name: 'gossip-rounds',
  description: 'Rumor mongering in the event simulator: time for each rumor to reach every member, in rounds, beside the models.',
  defaults: { nodes: 64, durationMs: 10_000, ops: 20, faults: [] },
  soak: false,
  run(options: ScenarioOptions): ScenarioResult {
    const run = runGossipRounds(options);
    const s = run.spreadRounds.length > 0 ? summarize(run.spreadRounds) : { mean: Number.NaN, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
    const model = roundsLeadingTerms(run.mode, run.n);
    const ok = run.incomplete === 0;
    return {
      ok,
      seed: options.seed,
      headline: `gossip-rounds: ${run.mode}, n = ${run.n}: mean ${s.mean.toFixed(2)} rounds to reach everyone (p99 ${s.p99.toFixed(2)}), model ${model.toFixed(2)}; ${run.incomplete} of ${run.spreadRounds.length + run.incomplete} rumors incomplete`,
      summary: {
        mode: run.mode,
        n: run.n,
        rumors: run.spreadRounds.length + run.incomplete,
        meanRounds: Number(s.mean.toFixed(3)),
        p99Rounds: Number(s.p99.toFixed(3)),
        modelRounds: Number(model.toFixed(3)),
        meanOverModel: Number((s.mean / model).toFixed(3)),
        incomplete: run.incomplete,
        messagesDelivered: run.messages,
      },
      details: [],
    };
  },
};
