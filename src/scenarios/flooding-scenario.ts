/**
 * Pure P2P (seed 04.4.1) under churn and the nemesis: `nodes` peers run Cyclon view shuffling
 * and hold one unique item each. During the safety phase the nemesis crashes (fresh restart
 * through a bootstrap peer), pauses, clogs and partitions peers and injects loss, duplication
 * and reordering while a client floods searches (TTL 4) whose success is recorded. Invariant
 * after every event: every view is bounded by `viewSize`, without self-links or duplicates.
 * Liveness: after the heal the live peers' views form one strongly connected directed graph
 * (flooding follows out-links). Then a flood with a TTL of the live count finds the holder of
 * every live peer's item (a flood that misses while views change is repeated, up to 3 times),
 * and only true holders answer.
 *
 * Parameters (`--set`): `viewSize` (default 6), `shuffleLength` (default 3), `faultIntervalMs` (mean time between nemesis faults, default 3000).
 */
import type { NodeId } from '../core/ids.ts';
import { connectivityDensity, pathStats } from '../models/connectivity.ts';
import { stronglyConnected, undirectedOverlay } from '../overlay/graph.ts';
import type { OverlaySimNode } from '../overlay/host.ts';
import { defaultUnstructuredConfig, type SearchResult, UnstructuredNode, type UnstructuredMsg } from '../overlay/unstructured.ts';
import type { Nemesis } from '../sim/nemesis.ts';
import type { Simulator } from '../sim/simulator.ts';
import { actOn, addOverlayNodes, awaitResult, churnRate, overlayCore, overlayIds, overlayResult, overlaySimulator, runChurnPhase } from './overlay-harness.ts';
import { numberParam } from './overlay-params.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export const FLOODING_TICK_MS = 100;

export type UnstructuredSimNode = OverlaySimNode<UnstructuredMsg, UnstructuredNode>;

export interface FloodingRunResult {
  sim: Simulator<UnstructuredMsg>;
  nemesis: Nemesis<UnstructuredMsg>;
  convergeMs: number;
  churnSearches: number;
  churnSearchesOk: number;
  checkedSearches: number;
  /** Floods after the heal that missed an item while views changed and were repeated. */
  retriedSearches: number;
  /** Overlay graph measures of the live peers after convergence. */
  density: number;
  diameter: number;
  averagePathLength: number;
}

export function unstructuredCore(sim: Simulator<UnstructuredMsg>, id: NodeId): UnstructuredNode | undefined {
  return overlayCore<UnstructuredMsg, UnstructuredNode>(sim, id);
}

export function runFlooding(options: ScenarioOptions): FloodingRunResult {
  const config = { ...defaultUnstructuredConfig(), viewSize: numberParam(options.params, 'viewSize', 6), shuffleLength: numberParam(options.params, 'shuffleLength', 3) };
  const sim = overlaySimulator<UnstructuredMsg>('flooding', options, false);
  const ids = overlayIds(options.nodes);
  const bootstrap = ids.slice(0, 2);
  addOverlayNodes(sim, ids, FLOODING_TICK_MS, (ctx) => new UnstructuredNode({ address: ctx.id, config, rng: ctx.rng, bootstrap, items: [`item-${ctx.id}`] }));
  sim.addInvariant('views bounded, no self-links, no duplicates', () => {
    for (const id of ids) {
      const c = unstructuredCore(sim, id);
      if (c === undefined) continue;
      const v = c.neighbours();
      if (v.length > config.viewSize) return `${id} has ${v.length} neighbours > viewSize ${config.viewSize}`;
      if (v.includes(id)) return `${id} lists itself`;
      if (new Set(v).size !== v.length) return `${id} lists a neighbour twice`;
    }
    return undefined;
  });
  const T = FLOODING_TICK_MS;
  const liveIds = (): NodeId[] => ids.filter((id) => sim.isUp(id));
  const links = (id: NodeId): NodeId[] => unstructuredCore(sim, id)?.neighbours() ?? [];
  const connected = (): boolean => stronglyConnected(liveIds(), links);
  if (!sim.runUntil(connected, 600 * T)) throw sim.failure('flooding: the initial overlay never became strongly connected');
  sim.runFor(20 * config.shuffleEveryTicks * T);

  const rng = sim.rng.fork('flooding-client');
  // Churn-phase client: a TTL-4 flood every 5 ticks between two random live peers.
  const churn = runChurnPhase<UnstructuredMsg, SearchResult>({
    sim,
    options,
    ids,
    rng,
    tickMs: T,
    requestEveryMs: 5 * T,
    core: (id) => unstructuredCore(sim, id),
    request: (id) => {
      const target = rng.pick(ids);
      return sim.isUp(target) ? actOn(sim, id, (c: UnstructuredNode) => c.search(`item-${target}`, { kind: 'flood', ttl: 4 })) : undefined;
    },
    succeeded: (r) => r.holders.length > 0,
    converged: connected,
    convergedDescription: 'the live peers’ views form one strongly connected graph',
  });
  const live = liveIds();
  const g = undirectedOverlay(live, links);
  const stats = pathStats(g);
  let checked = 0;
  let retries = 0;
  const reaches = (a: NodeId, b: NodeId): boolean => {
    const seen = new Set<NodeId>([a]);
    const stack = [a];
    while (stack.length > 0) {
      const x = stack.pop() as NodeId;
      if (x === b) return true;
      for (const y of links(x)) {
        if (seen.has(y) || !sim.isUp(y)) continue;
        seen.add(y);
        stack.push(y);
      }
    }
    return false;
  };
  for (const target of live) {
    const from = rng.pick(live);
    // Cyclon keeps shuffling while the checks run: with small views a peer can be briefly
    // absent from every view (in-degree 0), even in the middle of a flood. Each search starts
    // when the overlay is strongly connected; a miss is retried (up to 3 floods), and only an
    // item that stays unfound, or a hit at a peer that does not hold it, fails the run.
    let holders: readonly NodeId[] = [];
    let startedConnected = true;
    for (let attempt = 0; attempt < 3 && holders.length === 0; attempt++) {
      if (!sim.runUntil(connected, 100 * T)) throw sim.failure('flooding: the overlay lost strong connectivity after convergence and did not regain it within 10 s');
      const reachable = reaches(from, target);
      const r = awaitResult<UnstructuredMsg, SearchResult, UnstructuredNode>(sim, from, (c) => c.search(`item-${target}`, { kind: 'flood', ttl: live.length }), 100 * T);
      if (r === undefined) throw sim.failure(`flooding: search from ${from} got no result`);
      holders = r.holders;
      startedConnected = reachable;
      if (holders.length === 0) retries++;
    }
    if (holders.join(',') !== target) {
      throw sim.failure(`flooding: search for item-${target} from ${from} (TTL ${live.length}) found [${holders.join(',')}] in 3 floods, want [${target}] (reachable at the last start: ${startedConnected})`);
    }
    checked++;
  }
  return {
    sim,
    nemesis: churn.nemesis,
    convergeMs: churn.convergeMs,
    churnSearches: churn.requests,
    churnSearchesOk: churn.requestsOk,
    checkedSearches: checked,
    retriedSearches: retries,
    density: connectivityDensity(g),
    diameter: stats.diameter,
    averagePathLength: stats.averagePathLength,
  };
}

export const floodingScenario: Scenario = {
  name: 'flooding',
  description: 'Pure P2P: Cyclon views under churn and the nemesis stay bounded and strongly connected; flooding finds every item after heal.',
  defaults: { nodes: 32, durationMs: 60_000, ops: 0, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const r = runFlooding(options);
    const rate = churnRate(r.churnSearches, r.churnSearchesOk);
    return overlayResult(
      options,
      r.sim,
      r.nemesis,
      `flooding: ${options.nodes} peers, ${r.nemesis.log.length} faults, strongly connected ${r.convergeMs.toFixed(0)} ms after heal, ${r.checkedSearches} floods found their item; C = ${r.density.toFixed(3)}, diameter ${r.diameter}, avg path ${r.averagePathLength.toFixed(2)}; TTL-4 searches under churn ${(rate * 100).toFixed(1)} % ok`,
      {
        peers: options.nodes,
        faults: r.nemesis.log.length,
        convergeMs: Math.round(r.convergeMs),
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
