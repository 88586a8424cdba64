/**
 * Kademlia under churn and the nemesis (seed 04.4.3). `nodes` Kademlia nodes join through two
 * bootstrap peers; `ops` pairs are stored on the k closest nodes. During the safety phase the
 * nemesis crashes (fresh restart), pauses, clogs and partitions nodes and injects loss,
 * duplication and reordering (at most `k / 2` nodes down at once) while a client issues lookups
 * whose success is recorded. After the heal and one refresh cycle the checkers require that
 * lookups from random live nodes return exactly the k closest live nodes to the target (by
 * XOR), and that every stored pair is still found by FIND_VALUE (republishing restores copies
 * lost to crashes).
 *
 * Parameters (`--set`): `k` (bucket size, default 8), `faultIntervalMs` (mean time between nemesis faults, default 3000).
 */
import type { NodeId } from '../core/ids.ts';
import { stronglyConnected } from '../overlay/graph.ts';
import type { OverlaySimNode } from '../overlay/host.ts';
import { hashId } from '../overlay/ids.ts';
import { defaultKademliaConfig, kClosest, type KadContact, KademliaNode, type KademliaMsg, type KademliaResult } from '../overlay/kademlia.ts';
import type { Nemesis } from '../sim/nemesis.ts';
import type { Simulator } from '../sim/simulator.ts';
import { actOn, addOverlayNodes, awaitResult, churnRate, overlayCore, overlayIds, overlayResult, overlaySimulator, runChurnPhase, storePairs } from './overlay-harness.ts';
import { numberParam } from './overlay-params.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

/** Virtual ms per Kademlia tick. */
export const KADEMLIA_TICK_MS = 100;

export type KademliaSimNode = OverlaySimNode<KademliaMsg, KademliaNode>;

export interface KademliaRunResult {
  sim: Simulator<KademliaMsg>;
  nemesis: Nemesis<KademliaMsg>;
  convergeMs: number;
  keysStored: number;
  churnLookups: number;
  churnLookupsOk: number;
  checkedLookups: number;
  meanHops: number;
  meanRpcs: number;
}

export function kademliaCore(sim: Simulator<KademliaMsg>, id: NodeId): KademliaNode | undefined {
  return overlayCore<KademliaMsg, KademliaNode>(sim, id);
}

/** True when every live node knows at least min(k, live − 1) live contacts and the tables form one strongly connected graph. */
function tablesSettled(sim: Simulator<KademliaMsg>, ids: readonly NodeId[], k: number): boolean {
  const live = ids.filter((id) => sim.isUp(id));
  for (const id of live) {
    const c = kademliaCore(sim, id);
    if (c === undefined) return false;
    const known = c.contacts().filter((x) => sim.isUp(x.addr)).length;
    if (known < Math.min(k, live.length - 1)) return false;
  }
  // And the routing tables link every live node to every other (no island left by a partition).
  return stronglyConnected(live, (id) => kademliaCore(sim, id)?.contacts().map((c) => c.addr) ?? []);
}

export function runKademlia(options: ScenarioOptions): KademliaRunResult {
  const config = { ...defaultKademliaConfig(), k: numberParam(options.params, 'k', 8) };
  const sim = overlaySimulator<KademliaMsg>('kademlia', options, true);
  const ids = overlayIds(options.nodes);
  const bootstrap = ids.slice(0, 2);
  addOverlayNodes(sim, ids, KADEMLIA_TICK_MS, (ctx) => new KademliaNode({ address: ctx.id, config, rng: ctx.rng, bootstrap }));
  const T = KADEMLIA_TICK_MS;
  if (!sim.runUntil(() => tablesSettled(sim, ids, config.k), 600 * T)) throw sim.failure('kademlia: routing tables did not fill after boot');
  sim.runFor(12 * config.refreshEveryTicks * T);

  const rng = sim.rng.fork('kademlia-client');
  const stored = storePairs(options.ops, rng, (key, value) => {
    const r = awaitResult<KademliaMsg, KademliaResult, KademliaNode>(sim, rng.pick(ids), (c) => c.put(key, value), 100 * T);
    if (!(r?.type === 'put' && r.storedOn >= 1)) throw sim.failure(`kademlia: put ${key} failed before any fault: ${JSON.stringify(r)}`);
  });

  const churn = runChurnPhase<KademliaMsg, KademliaResult>({
    sim,
    options,
    ids,
    rng,
    tickMs: T,
    requestEveryMs: 2 * T,
    core: (id) => kademliaCore(sim, id),
    request: (id) => actOn(sim, id, (c: KademliaNode) => c.lookup(rng.int(2 ** config.idBits))),
    succeeded: (r) => r.type === 'lookup' && r.closest.length > 0,
    downMax: Math.floor(config.k / 2),
    converged: () => tablesSettled(sim, ids, config.k),
    convergedDescription: 'every live node knows at least min(k, live − 1) live contacts, and the tables connect every live node to every other',
  });
  // One full refresh cycle and one republish period after the heal.
  sim.runFor(Math.max(12 * config.refreshEveryTicks, config.republishEveryTicks) * T);

  const live: KadContact[] = ids.filter((id) => sim.isUp(id)).map((addr) => ({ id: hashId(addr, config.idBits), addr }));
  let hopsSum = 0;
  let rpcsSum = 0;
  const checks = Math.max(20, options.nodes * 2);
  for (let i = 0; i < checks; i++) {
    const from = rng.pick(live);
    const target = rng.int(2 ** config.idBits);
    const r = awaitResult<KademliaMsg, KademliaResult, KademliaNode>(sim, from.addr, (c) => c.lookup(target), 100 * T);
    if (r?.type !== 'lookup') throw sim.failure(`kademlia: lookup of ${target} from ${from.addr} did not finish: ${JSON.stringify(r)}`);
    // The lookup never returns the node that asks: compare against the k closest among the others.
    const want = kClosest(
      live.filter((c) => c.addr !== from.addr),
      target,
      config.k,
    ).map((c) => c.addr);
    const got = r.closest.map((c) => c.addr);
    if (want.join(',') !== got.join(',')) {
      const missing = want.filter((a) => !got.includes(a));
      const knownBy = missing.map((m) => `${m} known by ${live.filter((c) => kademliaCore(sim, c.addr)?.contacts().some((x) => x.addr === m)).length}, knows ${kademliaCore(sim, m)?.contacts().length ?? 0}`);
      throw sim.failure(`kademlia: lookup of ${target} from ${from.addr} returned [${got.join(',')}], the k closest live nodes are [${want.join(',')}] (${knownBy.join('; ')})`);
    }
    hopsSum += r.hops;
    rpcsSum += r.rpcs;
  }
  for (const [key, value] of stored) {
    const from = rng.pick(live).addr;
    const r = awaitResult<KademliaMsg, KademliaResult, KademliaNode>(sim, from, (c) => c.get(key), 100 * T);
    if (r?.type !== 'get' || r.value !== value) {
      const holders = live.filter((p) => kademliaCore(sim, p.addr)?.hasKey(key)).map((p) => p.addr);
      throw sim.failure(`kademlia: value of ${key} not found from ${from}: ${JSON.stringify(r)}; live holders: ${holders.join(',') || 'none'}`);
    }
  }
  return {
    sim,
    nemesis: churn.nemesis,
    convergeMs: churn.convergeMs,
    keysStored: stored.size,
    churnLookups: churn.requests,
    churnLookupsOk: churn.requestsOk,
    checkedLookups: checks,
    meanHops: hopsSum / checks,
    meanRpcs: rpcsSum / checks,
  };
}

export const kademliaScenario: Scenario = {
  name: 'kademlia',
  description: 'Kademlia DHT under churn and the nemesis: lookups return the k closest live nodes after heal, stored values found.',
  defaults: { nodes: 24, durationMs: 60_000, ops: 30, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const r = runKademlia(options);
    const rate = churnRate(r.churnLookups, r.churnLookupsOk);
    return overlayResult(
      options,
      r.sim,
      r.nemesis,
      `kademlia: ${options.nodes} nodes, ${r.nemesis.log.length} faults, ${r.checkedLookups} lookups returned the k closest live nodes (mean ${r.meanHops.toFixed(2)} hops, ${r.meanRpcs.toFixed(1)} RPCs), ${r.keysStored} values all found; lookups under churn ${(rate * 100).toFixed(1)} % ok`,
      {
        nodes: options.nodes,
        faults: r.nemesis.log.length,
        convergeMs: Math.round(r.convergeMs),
        keysStored: r.keysStored,
        checkedLookups: r.checkedLookups,
        meanHops: Number(r.meanHops.toFixed(3)),
        meanRpcs: Number(r.meanRpcs.toFixed(2)),
        churnLookups: r.churnLookups,
        churnLookupSuccess: Number(rate.toFixed(4)),
      },
    );
  },
};
