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
import { OverlaySimNode } from '../overlay/host.ts';
import { defaultUnstructuredConfig, type SearchResult, UnstructuredNode, type UnstructuredMsg } from '../overlay/unstructured.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import { numberParam, setFlags } from './overlay-params.ts';
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
  if (!sim.isUp(id)) return undefined;
  return (sim.node(id) as UnstructuredSimNode | undefined)?.core;
}

function awaitSearch(sim: Simulator<UnstructuredMsg>, id: NodeId, start: (c: UnstructuredNode) => number, maxMs: number): SearchResult | undefined {
  const host = sim.node(id) as UnstructuredSimNode | undefined;
  const reqId = host?.act(start);
  if (host === undefined || reqId === undefined) return undefined;
  let got: SearchResult | undefined;
  sim.runUntil(() => {
    const c = host.core;
    if (c === undefined || !sim.isUp(id)) return true;
    for (const r of c.pollResults()) if (r.reqId === reqId) got = r;
    return got !== undefined;
  }, maxMs);
  return got;
}

export function runFlooding(options: ScenarioOptions): FloodingRunResult {
  const config = { ...defaultUnstructuredConfig(), viewSize: numberParam(options.params, 'viewSize', 6), shuffleLength: numberParam(options.params, 'shuffleLength', 3) };
  const sim = new Simulator<UnstructuredMsg>({
    seed: options.seed,
    network: { latencyMs: { min: 1, max: 10 } },
    replayCommand: `clusterkit sim flooding --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms --faults ${options.faults.join(',') || 'none'}${setFlags(options.params)}`,
  });
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const bootstrap = ids.slice(0, 2);
  for (const id of ids) {
    sim.addNode(id, () => new OverlaySimNode<UnstructuredMsg, UnstructuredNode>({ tickMs: FLOODING_TICK_MS, create: (ctx) => new UnstructuredNode({ address: ctx.id, config, rng: ctx.rng, bootstrap, items: [`item-${ctx.id}`] }) }));
  }
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
  let churnSearches = 0;
  let churnOk = 0;
  let clientOn = true;
  const waiting = new Map<NodeId, Map<number, string>>();
  const client = (): void => {
    if (!clientOn) return;
    for (const [id, reqs] of waiting) {
      const c = unstructuredCore(sim, id);
      if (c === undefined) continue;
      for (const r of c.pollResults()) if (reqs.delete(r.reqId) && r.holders.length > 0) churnOk++;
    }
    const id = rng.pick(ids);
    const target = rng.pick(ids);
    if (sim.isUp(id) && sim.isUp(target)) {
      const reqId = (sim.node(id) as UnstructuredSimNode).act((c) => c.search(`item-${target}`, { kind: 'flood', ttl: 4 }));
      if (reqId !== undefined) {
        churnSearches++;
        const m = waiting.get(id) ?? new Map<number, string>();
        m.set(reqId, target);
        waiting.set(id, m);
      }
    }
    sim.schedule(5 * T, client);
  };
  sim.schedule(0, client);
  const nemesis = new Nemesis(sim, { faults: options.faults, meanIntervalMs: numberParam(options.params, 'faultIntervalMs', 30 * T), durationMs: { min: 5 * T, max: 50 * T } });
  const phases = runPhases({
    sim,
    nemesis,
    safetyMs: options.durationMs,
    livenessMs: 1200 * T,
    converged: connected,
    convergedDescription: 'the live peers’ views form one strongly connected graph',
  });
  clientOn = false;
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
      const r = awaitSearch(sim, from, (c) => c.search(`item-${target}`, { kind: 'flood', ttl: live.length }), 100 * T);
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
    nemesis,
    convergeMs: phases.convergeMs,
    churnSearches,
    churnSearchesOk: churnOk,
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
    const rate = r.churnSearches === 0 ? 1 : r.churnSearchesOk / r.churnSearches;
    return {
      ok: true,
      seed: options.seed,
      headline: `flooding: ${options.nodes} peers, ${r.nemesis.log.length} faults, strongly connected ${r.convergeMs.toFixed(0)} ms after heal, ${r.checkedSearches} floods found their item; C = ${r.density.toFixed(3)}, diameter ${r.diameter}, avg path ${r.averagePathLength.toFixed(2)}; TTL-4 searches under churn ${(rate * 100).toFixed(1)} % ok`,
      summary: {
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
        events: r.sim.stats.events,
        traceHash: r.sim.traceHash().slice(0, 16),
      },
      details: r.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
    };
  },
};
