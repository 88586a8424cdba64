/**
 * Hybrid P2P with super-peers (seed 04.4.2) under churn and the nemesis: `nodes` peers with
 * random capacities (1..100; super-peer eligibility from 10) start as leaves and elect
 * super-peers through two bootstrap peers. Each peer holds one unique item. During the safety
 * phase the nemesis crashes (fresh restart as a leaf), pauses, clogs and partitions peers and
 * injects loss, duplication and reordering while leaves search. Invariant after every event:
 * no super-peer serves more than `leavesPerSuperMax` leaves and none is below the capacity
 * threshold. Liveness after the heal: every live leaf is attached to a live super-peer that
 * lists it, super-peers list only leaves attached to them, and every super-peer knows every
 * other one. Then a search from a random leaf finds every live peer's item (a search that
 * misses while the hierarchy moves is repeated, up to 3 times), and only there.
 *
 * Parameters (`--set`): `leavesPerSuperMax` (default 6), `faultIntervalMs` (mean time between nemesis faults, default 3000).
 */
import type { NodeId } from '../core/ids.ts';
import { connectivityDensity, pathStats } from '../models/connectivity.ts';
import { undirectedOverlay } from '../overlay/graph.ts';
import type { OverlaySimNode } from '../overlay/host.ts';
import { defaultSuperPeerConfig, type SuperPeerMsg, SuperPeerNode, type SuperPeerSearchResult } from '../overlay/superpeer.ts';
import type { Nemesis } from '../sim/nemesis.ts';
import type { Simulator } from '../sim/simulator.ts';
import { actOn, addOverlayNodes, awaitResult, churnRate, overlayCore, overlayIds, overlayResult, overlaySimulator, runChurnPhase } from './overlay-harness.ts';
import { numberParam } from './overlay-params.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export const SUPERPEER_TICK_MS = 100;

export type SuperPeerSimNode = OverlaySimNode<SuperPeerMsg, SuperPeerNode>;

export interface SuperPeerRunResult {
  sim: Simulator<SuperPeerMsg>;
  nemesis: Nemesis<SuperPeerMsg>;
  convergeMs: number;
  supers: number;
  leaves: number;
  meanSuperCapacity: number;
  meanLeafCapacity: number;
  failovers: number;
  churnSearches: number;
  churnSearchesOk: number;
  checkedSearches: number;
  /** Searches after the heal that missed while the hierarchy moved and were repeated. */
  retriedSearches: number;
  density: number;
  diameter: number;
  averagePathLength: number;
}

export function superPeerCore(sim: Simulator<SuperPeerMsg>, id: NodeId): SuperPeerNode | undefined {
  return overlayCore<SuperPeerMsg, SuperPeerNode>(sim, id);
}

/** undefined when the hierarchy is consistent; otherwise what is wrong. */
export function superPeerProblem(sim: Simulator<SuperPeerMsg>, ids: readonly NodeId[]): string | undefined {
  const cores = ids.map((id) => superPeerCore(sim, id)).filter((c): c is SuperPeerNode => c !== undefined);
  const supers = cores.filter((c) => c.role === 'super');
  const superSet = new Set(supers.map((c) => c.address));
  if (supers.length === 0 && cores.some((c) => c.capacity >= c.config.superCapacityMin)) return 'no super-peer';
  for (const c of cores) {
    if (c.role !== 'leaf') continue;
    const sp = c.superPeer;
    if (sp === null || !superSet.has(sp)) return `leaf ${c.address} is attached to ${sp ?? 'nobody'}, not a live super-peer`;
    if (!superPeerCore(sim, sp)?.leaves().includes(c.address)) return `super-peer ${sp} does not list its leaf ${c.address}`;
  }
  for (const s of supers) {
    for (const l of s.leaves()) if (superPeerCore(sim, l)?.superPeer !== s.address) return `super-peer ${s.address} lists ${l}, which is not attached to it`;
    const known = new Set(s.knownSupers());
    for (const o of supers) if (o !== s && !known.has(o.address)) return `super-peer ${s.address} does not know super-peer ${o.address}`;
  }
  return undefined;
}

export function runSuperPeer(options: ScenarioOptions): SuperPeerRunResult {
  const config = { ...defaultSuperPeerConfig(), leavesPerSuperMax: numberParam(options.params, 'leavesPerSuperMax', 6) };
  const sim = overlaySimulator<SuperPeerMsg>('superpeer', options, false);
  const ids = overlayIds(options.nodes);
  const bootstrap = ids.slice(0, 2);
  const capRng = sim.rng.fork('capacities');
  const capacity = new Map(ids.map((id) => [id, 1 + capRng.int(100)]));
  addOverlayNodes(sim, ids, SUPERPEER_TICK_MS, (ctx) => new SuperPeerNode({ address: ctx.id, config, rng: ctx.rng, capacity: capacity.get(ctx.id) ?? 1, bootstrap, items: [`item-${ctx.id}`] }));
  sim.addInvariant('super-peers bounded and capable', () => {
    for (const id of ids) {
      const c = superPeerCore(sim, id);
      if (c === undefined || c.role !== 'super') continue;
      if (c.leaves().length > config.leavesPerSuperMax) return `super-peer ${id} serves ${c.leaves().length} leaves > ${config.leavesPerSuperMax}`;
      if (c.capacity < config.superCapacityMin) return `super-peer ${id} has capacity ${c.capacity} < ${config.superCapacityMin}`;
    }
    return undefined;
  });
  const T = SUPERPEER_TICK_MS;
  if (!sim.runUntil(() => superPeerProblem(sim, ids) === undefined, 600 * T)) throw sim.failure(`superpeer: the initial hierarchy did not form: ${superPeerProblem(sim, ids)}`);

  const rng = sim.rng.fork('superpeer-client');
  // Churn-phase client: a search every 5 ticks from a random live peer for a random live peer's item.
  const churn = runChurnPhase<SuperPeerMsg, SuperPeerSearchResult>({
    sim,
    options,
    ids,
    rng,
    tickMs: T,
    requestEveryMs: 5 * T,
    core: (id) => superPeerCore(sim, id),
    request: (id) => {
      const target = rng.pick(ids);
      return sim.isUp(target) ? actOn(sim, id, (c: SuperPeerNode) => c.search(`item-${target}`)) : undefined;
    },
    succeeded: (r) => r.holders.length > 0,
    converged: () => superPeerProblem(sim, ids) === undefined,
    convergedDescription: 'every live leaf attached to a live super-peer that lists it; super-peers know each other',
  });
  const live = ids.filter((id) => sim.isUp(id));
  const cores = live.map((id) => superPeerCore(sim, id) as SuperPeerNode);
  let checked = 0;
  const leafIds = cores.filter((c) => c.role === 'leaf').map((c) => c.address);
  let retries = 0;
  for (const target of live) {
    const from = rng.pick(leafIds.length > 0 ? leafIds : live);
    // The hierarchy keeps adapting while the checks run (a handover to a stronger leaf, an idle
    // super-peer stepping down), and a search that crosses such a move can miss. Each search
    // starts from a consistent hierarchy; a miss is retried (up to 3 searches), and only an
    // item that stays unfound, or a hit at a peer that does not hold it, fails the run.
    let holders: readonly NodeId[] = [];
    for (let attempt = 0; attempt < 3 && holders.length === 0; attempt++) {
      if (!sim.runUntil(() => superPeerProblem(sim, ids) === undefined, 100 * T)) {
        throw sim.failure(`superpeer: the hierarchy became inconsistent after convergence and stayed so for 10 s: ${superPeerProblem(sim, ids)}`);
      }
      const r = awaitResult<SuperPeerMsg, SuperPeerSearchResult, SuperPeerNode>(sim, from, (c) => c.search(`item-${target}`), 100 * T);
      if (r === undefined) throw sim.failure(`superpeer: search from ${from} got no result`);
      holders = r.holders;
      if (holders.length === 0) retries++;
    }
    if (holders.join(',') !== target) throw sim.failure(`superpeer: search for item-${target} from ${from} found [${holders.join(',')}] in 3 searches, want [${target}]`);
    checked++;
  }
  const g = undirectedOverlay(live, (id) => superPeerCore(sim, id)?.links() ?? []);
  const stats = pathStats(g);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const supers = cores.filter((c) => c.role === 'super');
  const leaves = cores.filter((c) => c.role === 'leaf');
  return {
    sim,
    nemesis: churn.nemesis,
    convergeMs: churn.convergeMs,
    supers: supers.length,
    leaves: leaves.length,
    meanSuperCapacity: mean(supers.map((c) => c.capacity)),
    meanLeafCapacity: mean(leaves.map((c) => c.capacity)),
    failovers: cores.reduce((s, c) => s + c.stats.failovers, 0),
    churnSearches: churn.requests,
    churnSearchesOk: churn.requestsOk,
    checkedSearches: checked,
    retriedSearches: retries,
    density: connectivityDensity(g),
    diameter: stats.diameter,
    averagePathLength: stats.averagePathLength,
  };
}

export const superPeerScenario: Scenario = {
  name: 'superpeer',
  description: 'Hybrid P2P: super-peers elected by capacity under churn and the nemesis; leaves fail over; every item found after heal.',
  defaults: { nodes: 30, durationMs: 60_000, ops: 0, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const r = runSuperPeer(options);
    const rate = churnRate(r.churnSearches, r.churnSearchesOk);
    return overlayResult(
      options,
      r.sim,
      r.nemesis,
      `superpeer: ${options.nodes} peers, ${r.nemesis.log.length} faults, ${r.supers} super-peers (mean capacity ${r.meanSuperCapacity.toFixed(0)} vs leaves ${r.meanLeafCapacity.toFixed(0)}), consistent ${r.convergeMs.toFixed(0)} ms after heal, ${r.checkedSearches} searches exact; C = ${r.density.toFixed(3)}, diameter ${r.diameter}; searches under churn ${(rate * 100).toFixed(1)} % ok`,
      {
        peers: options.nodes,
        faults: r.nemesis.log.length,
        convergeMs: Math.round(r.convergeMs),
        superPeers: r.supers,
        leaves: r.leaves,
        meanSuperCapacity: Number(r.meanSuperCapacity.toFixed(1)),
        meanLeafCapacity: Number(r.meanLeafCapacity.toFixed(1)),
        failovers: r.failovers,
        checkedSearches: r.checkedSearches,
        retriedSearches: r.retriedSearches,
        density: Number(r.density.toFixed(4)),
        diameter: r.diameter,
        averagePathLength: Number(r.averagePathLength.toFixed(3)),
        churnSearches: r.churnSearches,
        churnSearchSuccess: Number(rate.toFixed(4)),
      },
    );
  },
};
