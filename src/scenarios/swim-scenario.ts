/**
 * SWIM under the nemesis. Members (`SwimSimNode`) run in the simulator; a disturbance tracker
 * samples every node's condition (down, paused, clogged, any blocked link, a loss burst) and a
 * checker requires that every `fail` event (a member declared dead) is explained by a
 * disturbance within the detection window of a member in the accusation chain (the accused,
 * the member declaring it dead, the member whose dead report it acted on, the members that
 * raised suspicions about it), or a dead view one of them acquired earlier with such an
 * explanation (a partition's leftovers, corrected only by push-pull),
 * `W = maxSuspicionMs + 2 · awarenessMaxMultiplier · probeIntervalMs`. After the safety phase
 * every fault heals and all views must converge (liveness); then one member is crashed for
 * real and every other member must declare it dead within the detection bound
 * `2 · (n − 1) · T + maxSuspicionMs + 10 · T`.
 */
import type { NodeId } from '../core/ids.ts';
import { lanConfig, pushPullIntervalFor, type SwimConfig, suspicionBoundsMs } from '../membership/swim/config.ts';
import type { SwimEvent } from '../membership/swim/member.ts';
import { type SwimSimMsg, SwimSimNode } from '../membership/swim/sim.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export interface SwimRunOptions extends ScenarioOptions {
  config?: SwimConfig;
  /** Mean time between nemesis faults, ms. */
  faultIntervalMs?: number;
  /** Extra setup after boot (tests use it to inject disturbances the tracker does not see). */
  setup?: (sim: Simulator<SwimSimMsg>) => void;
}

export interface SwimRunResult {
  sim: Simulator<SwimSimMsg>;
  nemesis: Nemesis<SwimSimMsg>;
  events: { observer: NodeId; event: SwimEvent }[];
  /** `fail` events explained by a tracked disturbance. */
  explainedFailures: number;
  convergeMs: number;
  /** Time from the final real crash until every member declared it dead, ms. */
  detectMs: number;
}

/** True when every up node sees exactly the up nodes alive. */
export function swimViewsConverged(sim: Simulator<SwimSimMsg>, ids: readonly NodeId[]): boolean {
  const up = ids.filter((id) => sim.isUp(id));
  for (const id of up) {
    const m = (sim.node(id) as SwimSimNode | undefined)?.member;
    if (m === undefined) return false;
    for (const other of ids) {
      const v = m.member(other);
      const wantAlive = sim.isUp(other);
      if (wantAlive && v?.state !== 'alive') return false;
      if (!wantAlive && (v?.state === 'alive' || v?.state === 'suspect')) return false;
    }
  }
  return true;
}

export function runSwim(options: SwimRunOptions): SwimRunResult {
  const config = options.config ?? lanConfig();
  const T = config.probeIntervalMs;
  const sim = new Simulator<SwimSimMsg>({
    seed: options.seed,
    network: { latencyMs: { min: 1, max: 5 } },
    replayCommand: `clusterkit sim swim --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms --faults ${options.faults.join(',') || 'none'}`,
  });
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const bounds = suspicionBoundsMs(config, ids.length);
  const windowMs = bounds.maxMs + 2 * config.awarenessMaxMultiplier * T;
  const lastDisturbedMs = new Map<NodeId, number>(ids.map((id) => [id, Number.NEGATIVE_INFINITY]));
  let globalDisturbedMs = Number.NEGATIVE_INFINITY;
  const baselineLoss = sim.network.lossRate;
  const events: { observer: NodeId; event: SwimEvent }[] = [];
  let explainedFailures = 0;

  /** Per accused member: [time, accuser] of every suspicion seen anywhere, for the explanation check. */
  const accusers = new Map<NodeId, [number, NodeId][]>();
  /**
   * Dead views acquired with an explanation, per observer. SWIM does not probe dead members, so
   * a member that declared another dead during a partition keeps that view after the heal until
   * push-pull corrects it; a later accusation it starts from that view is explained by the
   * original fault.
   */
  const staleDead = new Map<NodeId, Set<NodeId>>();
  const disturbedSince = (id: NodeId, since: number): boolean => (lastDisturbedMs.get(id) ?? Number.NEGATIVE_INFINITY) >= since;
  const onEvent = (observer: NodeId, event: SwimEvent): void => {
    events.push({ observer, event });
    const accused = event.member.name;
    if (event.type === 'join' || event.type === 'alive') staleDead.get(observer)?.delete(accused);
    if (event.type === 'suspect') {
      const list = accusers.get(accused) ?? [];
      list.push([sim.now(), event.source]);
      if (list.length > 1000) list.shift();
      accusers.set(accused, list);
    }
    if (event.type !== 'fail') return;
    sample();
    const since = sim.now() - windowMs;
    // The accusation chain: the accused, the member declaring it dead, the member whose dead
    // report it acted on, and every member that raised a suspicion about it in the window.
    const chain = new Set<NodeId>([accused, observer, event.source]);
    for (const [t, who] of accusers.get(accused) ?? []) if (t >= since) chain.add(who);
    const explained =
      globalDisturbedMs >= since || [...chain].some((id) => disturbedSince(id, since) || (staleDead.get(id)?.has(accused) ?? false));
    if (!explained) {
      throw sim.failure(
        `swim: ${observer} declared ${accused} dead at ${sim.now().toFixed(1)} ms (reported by ${event.source}) with no crash, pause, clog, partition or loss of any member in the accusation chain (${[...chain].join(', ')}) in the last ${windowMs} ms`,
      );
    }
    explainedFailures++;
    const set = staleDead.get(observer) ?? new Set<NodeId>();
    set.add(accused);
    staleDead.set(observer, set);
  };

  const sample = (): void => {
    const now = sim.now();
    if (sim.network.lossRate > baselineLoss) globalDisturbedMs = now;
    for (const a of ids) {
      if (!sim.isUp(a) || sim.isPaused(a) || sim.isClogged(a)) lastDisturbedMs.set(a, now);
      for (const b of ids) {
        if (a !== b && sim.isBlocked(a, b)) {
          lastDisturbedMs.set(a, now);
          lastDisturbedMs.set(b, now);
        }
      }
    }
  };
  const sampleEveryMs = Math.max(1, Math.floor(config.probeTimeoutMs / 4));
  const sampler = (): void => {
    sample();
    sim.schedule(sampleEveryMs, sampler);
  };

  for (const id of ids) sim.addNode(id, () => new SwimSimNode({ config, seeds: ids.slice(0, 2), onEvent }));
  if (!sim.runUntil(() => swimViewsConverged(sim, ids), 60_000)) throw sim.failure('swim: the initial cluster did not converge within 60 s');
  options.setup?.(sim);
  sim.schedule(0, sampler);
  const nemesis = new Nemesis(sim, {
    faults: options.faults,
    meanIntervalMs: options.faultIntervalMs ?? 10 * T,
    durationMs: { min: T, max: 10 * T },
  });
  const phases = runPhases({
    sim,
    nemesis,
    safetyMs: options.durationMs,
    // Stale dead views after a heal are corrected by push-pull at the latest; a cluster that
    // fell apart entirely finds itself again through reconnect attempts.
    livenessMs: 2 * pushPullIntervalFor(config.pushPullIntervalMs, ids.length) + 3 * config.reconnectIntervalMs + 20 * T + bounds.maxMs * 2,
    converged: () => swimViewsConverged(sim, ids),
    convergedDescription: 'every member sees exactly the up members alive',
  });
  // A real failure after healing must be detected by everyone within the bound.
  const victim = ids[sim.rng.fork('victim').int(ids.length)] as NodeId;
  sim.crash(victim);
  const crashedAt = sim.now();
  const detectBoundMs = 2 * (ids.length - 1) * T + bounds.maxMs + 10 * T;
  const detected = sim.runUntil(() => swimViewsConverged(sim, ids), detectBoundMs);
  if (!detected) throw sim.failure(`swim: crash of ${victim} not detected by every member within ${detectBoundMs} ms`);
  return { sim, nemesis, events, explainedFailures, convergeMs: phases.convergeMs, detectMs: sim.now() - crashedAt };
}

export const swimScenario: Scenario = {
  name: 'swim',
  description: 'SWIM + Lifeguard members under the nemesis: no unexplained death, views converge after heal, a crash is detected within the bound.',
  defaults: { nodes: 8, durationMs: 120_000, ops: 0, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const lifeguard = options.params.lifeguard !== 'false';
    const r = runSwim({ ...options, config: { ...lanConfig(), lifeguard } });
    const count = (t: SwimEvent['type']) => r.events.filter((e) => e.event.type === t).length;
    return {
      ok: true,
      seed: options.seed,
      headline: `swim: ${options.nodes} members, ${r.nemesis.log.length} faults, ${count('suspect')} suspicions, ${count('fail')} deaths declared (all explained), converged ${r.convergeMs.toFixed(0)} ms after heal, final crash detected by all in ${r.detectMs.toFixed(0)} ms`,
      summary: {
        members: options.nodes,
        faults: r.nemesis.log.length,
        suspicions: count('suspect'),
        refutations: count('alive'),
        deaths: count('fail'),
        explainedDeaths: r.explainedFailures,
        convergeMs: Math.round(r.convergeMs),
        detectMs: Math.round(r.detectMs),
        events: r.sim.stats.events,
        traceHash: r.sim.traceHash().slice(0, 16),
      },
      details: r.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
    };
  },
};
