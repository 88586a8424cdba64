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
import { OverlaySimNode } from '../overlay/host.ts';
import { defaultSuperPeerConfig, type SuperPeerMsg, SuperPeerNode, type SuperPeerSearchResult } from '../overlay/superpeer.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import { numberParam, setFlags } from './overlay-params.ts';
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
  if (!sim.isUp(id)) return undefined;
  return (sim.node(id) as SuperPeerSimNode | undefined)?.core;
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

function awaitSearch(sim: Simulator<SuperPeerMsg>, id: NodeId, item: string, maxMs: number): SuperPeerSearchResult | undefined {
  const host = sim.node(id) as SuperPeerSimNode | undefined;
  const reqId = host?.act((c) => c.search(item));
  if (host === undefined || reqId === undefined) return undefined;
  let got: SuperPeerSearchResult | undefined;
  sim.runUntil(() => {
    const c = host.core;
    if (c === undefined || !sim.isUp(id)) return true;
    for (const r of c.pollResults()) if (r.reqId === reqId) got = r;
    return got !== undefined;
  }, maxMs);
  return got;
}

export function runSuperPeer(options: ScenarioOptions): SuperPeerRunResult {
  const config = { ...defaultSuperPeerConfig(), leavesPerSuperMax: numberParam(options.params, 'leavesPerSuperMax', 6) };
  const sim = new Simulator<SuperPeerMsg>({
    seed: options.seed,
    network: { latencyMs: { min: 1, max: 10 } },
    replayCommand: `clusterkit sim superpeer --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms --faults ${options.faults.join(',') || 'none'}${setFlags(options.params)}`,
  });
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const bootstrap = ids.slice(0, 2);
  const capRng = sim.rng.fork('capacities');
  const capacity = new Map(ids.map((id) => [id, 1 + capRng.int(100)]));
  for (const id of ids) {
    sim.addNode(
      id,
      () =>
        new OverlaySimNode<SuperPeerMsg, SuperPeerNode>({
          tickMs: SUPERPEER_TICK_MS,
          create: (ctx) => new SuperPeerNode({ address: ctx.id, config, rng: ctx.rng, capacity: capacity.get(ctx.id) ?? 1, bootstrap, items: [`item-${ctx.id}`] }),
        }),
    );
  }
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
  let churnSearches = 0;
  let churnOk = 0;
  let clientOn = true;
  const waiting = new Map<NodeId, Set<number>>();
  const client = (): void => {
    if (!clientOn) return;
    for (const [id, reqs] of waiting) {
      const c = superPeerCore(sim, id);
      if (c === undefined) continue;
      for (const r of c.pollResults()) if (reqs.delete(r.reqId) && r.holders.length > 0) churnOk++;
    }
    const id = rng.pick(ids);
    const target = rng.pick(ids);
    if (sim.isUp(id) && sim.isUp(target)) {
      const reqId = (sim.node(id) as SuperPeerSimNode).act((c) => c.search(`item-${target}`));
      if (reqId !== undefined) {
        churnSearches++;
        const set = waiting.get(id) ?? new Set<number>();
        set.add(reqId);
        waiting.set(id, set);
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
    converged: () => superPeerProblem(sim, ids) === undefined,
    convergedDescription: 'every live leaf attached to a live super-peer that lists it; super-peers know each other',
  });
  clientOn = false;
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
      const r = awaitSearch(sim, from, `item-${target}`, 100 * T);
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
    nemesis,
    convergeMs: phases.convergeMs,
    supers: supers.length,
    leaves: leaves.length,
    meanSuperCapacity: mean(supers.map((c) => c.capacity)),
    meanLeafCapacity: mean(leaves.map((c) => c.capacity)),
    failovers: cores.reduce((s, c) => s + c.stats.failovers, 0),
    churnSearches,
    churnSearchesOk: churnOk,
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
    const rate = r.churnSearches === 0 ? 1 : r.churnSearchesOk / r.churnSearches;
    return {
      ok: true,
      seed: options.seed,
      headline: `superpeer: ${options.nodes} peers, ${r.nemesis.log.length} faults, ${r.supers} super-peers (mean capacity ${r.meanSuperCapacity.toFixed(0)} vs leaves ${r.meanLeafCapacity.toFixed(0)}), consistent ${r.convergeMs.toFixed(0)} ms after heal, ${r.checkedSearches} searches exact; C = ${r.density.toFixed(3)}, diameter ${r.diameter}; searches under churn ${(rate * 100).toFixed(1)} % ok`,
      summary: {
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
        events: r.sim.stats.events,
        traceHash: r.sim.traceHash().slice(0, 16),
      },
      details: r.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
    };
  },
};
