/**
 * Chord under churn and the nemesis (seed 04.4.3). `nodes` Chord nodes boot and join through
 * two bootstrap peers; once the ring is consistent, `ops` keys are stored (3 replicas). During
 * the safety phase the nemesis crashes (fresh restart, state lost), pauses, clogs and partitions
 * nodes and injects loss, duplication and reordering, with at most `replicas − 1` nodes down at
 * once, while a client issues lookups whose success rate is recorded. After the heal the
 * checkers require: (1) the successor pointers of the live nodes form one ring through all of
 * them, in identifier order, and every predecessor pointer matches; (2) lookups from random
 * nodes return successor(key) among the live nodes; (3) every stored key is still readable
 * (no key is lost while fewer than r successive nodes fail).
 *
 * Parameters (`--set`): `idBits` (identifier width, default 32), `faultIntervalMs` (mean time between nemesis faults, default 3000).
 */
import type { NodeId } from '../core/ids.ts';
import { ChordNode, type ChordMsg, type ChordPeer, type ChordResult, defaultChordConfig, sortRing, successorOf } from '../overlay/chord.ts';
import type { OverlaySimNode } from '../overlay/host.ts';
import { hashId } from '../overlay/ids.ts';
import type { Nemesis } from '../sim/nemesis.ts';
import type { Simulator } from '../sim/simulator.ts';
import { actOn, addOverlayNodes, awaitResult, churnRate, overlayCore, overlayIds, overlayResult, overlaySimulator, runChurnPhase, storePairs } from './overlay-harness.ts';
import { numberParam } from './overlay-params.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

/** Virtual ms per Chord tick. */
export const CHORD_TICK_MS = 100;

export type ChordSimNode = OverlaySimNode<ChordMsg, ChordNode>;

export interface ChordRunResult {
  sim: Simulator<ChordMsg>;
  nemesis: Nemesis<ChordMsg>;
  convergeMs: number;
  keysStored: number;
  churnLookups: number;
  churnLookupsOk: number;
  checkedLookups: number;
  meanHops: number;
}

export function chordCore(sim: Simulator<ChordMsg>, id: NodeId): ChordNode | undefined {
  return overlayCore<ChordMsg, ChordNode>(sim, id);
}

/** undefined when the live nodes' successor and predecessor pointers form one correct ring; else why not. */
export function chordRingProblem(sim: Simulator<ChordMsg>, ids: readonly NodeId[], idBits: number): string | undefined {
  const live = sortRing(ids.filter((id) => sim.isUp(id)).map((addr) => ({ id: hashId(addr, idBits), addr })));
  const n = live.length;
  for (let i = 0; i < n; i++) {
    const p = live[i] as ChordPeer;
    const core = chordCore(sim, p.addr);
    if (core === undefined) return `${p.addr} has no core`;
    const wantSucc = live[(i + 1) % n] as ChordPeer;
    const wantPred = live[(i - 1 + n) % n] as ChordPeer;
    if (n > 1 && core.successor.addr !== wantSucc.addr) return `${p.addr}.successor = ${core.successor.addr}, want ${wantSucc.addr}`;
    if (n > 1 && core.predecessor?.addr !== wantPred.addr) return `${p.addr}.predecessor = ${core.predecessor?.addr ?? 'nil'}, want ${wantPred.addr}`;
  }
  return undefined;
}

export function runChord(options: ScenarioOptions): ChordRunResult {
  const config = { ...defaultChordConfig(), idBits: numberParam(options.params, 'idBits', 32), replicas: 3, successorsMax: 4 };
  const sim = overlaySimulator<ChordMsg>('chord', options, true);
  const ids = overlayIds(options.nodes);
  const seen = new Map<number, NodeId>();
  for (const id of ids) {
    const h = hashId(id, config.idBits);
    const other = seen.get(h);
    if (other !== undefined) throw sim.failure(`chord: ${id} and ${other} hash to the same ${config.idBits}-bit identifier; use more idBits`);
    seen.set(h, id);
  }
  const bootstrap = ids.slice(0, 2);
  addOverlayNodes(sim, ids, CHORD_TICK_MS, (ctx) => new ChordNode({ address: ctx.id, config, rng: ctx.rng, bootstrap }));
  const T = CHORD_TICK_MS;
  if (!sim.runUntil(() => chordRingProblem(sim, ids, config.idBits) === undefined, 600 * T)) {
    throw sim.failure(`chord: the initial ring did not form: ${chordRingProblem(sim, ids, config.idBits)}`);
  }
  // Let fix-fingers run a full cycle.
  sim.runFor(config.idBits * T);

  const rng = sim.rng.fork('chord-client');
  const stored = storePairs(options.ops, rng, (key, value) => {
    const r = awaitResult<ChordMsg, ChordResult, ChordNode>(sim, rng.pick(ids), (c) => c.put(key, value), 50 * T);
    if (!(r?.type === 'put' && r.ok)) throw sim.failure(`chord: put ${key} failed before any fault: ${JSON.stringify(r)}`);
  });
  sim.runFor(config.replicateEveryTicks * 2 * T);

  // Churn-phase client: a lookup every 2 ticks from a random live node, success counted.
  const churn = runChurnPhase<ChordMsg, ChordResult>({
    sim,
    options,
    ids,
    rng,
    tickMs: T,
    requestEveryMs: 2 * T,
    core: (id) => chordCore(sim, id),
    request: (id) => actOn(sim, id, (c: ChordNode) => c.lookup(rng.int(2 ** config.idBits))),
    succeeded: (r) => r.type === 'lookup',
    downMax: config.replicas - 1,
    converged: () => chordRingProblem(sim, ids, config.idBits) === undefined,
    convergedDescription: 'successor and predecessor pointers of the live nodes form one ring in identifier order',
  });
  // Replicas and fingers catch up.
  sim.runFor(Math.max(config.idBits, 4 * config.replicateEveryTicks) * T);
  const problem = chordRingProblem(sim, ids, config.idBits);
  if (problem !== undefined) throw sim.failure(`chord: ring broke again after convergence: ${problem}`);

  const live = sortRing(ids.filter((id) => sim.isUp(id)).map((addr) => ({ id: hashId(addr, config.idBits), addr })));
  let hopsSum = 0;
  const checks = Math.max(20, options.nodes * 2);
  for (let i = 0; i < checks; i++) {
    const from = rng.pick(live).addr;
    const key = rng.int(2 ** config.idBits);
    const r = awaitResult<ChordMsg, ChordResult, ChordNode>(sim, from, (c) => c.lookup(key), 100 * T);
    const want = successorOf(live, key);
    if (r?.type !== 'lookup') throw sim.failure(`chord: lookup of ${key} from ${from} after convergence did not succeed: ${JSON.stringify(r)}`);
    if (r.owner.addr !== want?.addr) throw sim.failure(`chord: lookup of ${key} from ${from} returned ${r.owner.addr}, the owner is ${want?.addr}`);
    hopsSum += r.hops;
  }
  for (const [key, value] of stored) {
    const from = rng.pick(live).addr;
    const r = awaitResult<ChordMsg, ChordResult, ChordNode>(sim, from, (c) => c.get(key), 100 * T);
    if (r?.type !== 'get' || r.value !== value) {
      const holders = live.filter((p) => chordCore(sim, p.addr)?.hasKey(key)).map((p) => p.addr);
      throw sim.failure(`chord: key ${key} lost: get from ${from} returned ${JSON.stringify(r)}; live holders: ${holders.join(',') || 'none'}; owner ${successorOf(live, hashId(key, config.idBits))?.addr}`);
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
  };
}

export const chordScenario: Scenario = {
  name: 'chord',
  description: 'Chord DHT under churn and the nemesis: one correct ring after heal, lookups find the owner, no stored key lost.',
  defaults: { nodes: 16, durationMs: 60_000, ops: 40, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const r = runChord(options);
    const rate = churnRate(r.churnLookups, r.churnLookupsOk);
    return overlayResult(
      options,
      r.sim,
      r.nemesis,
      `chord: ${options.nodes} nodes, ${r.nemesis.log.length} faults, ring consistent ${r.convergeMs.toFixed(0)} ms after heal, ${r.checkedLookups} lookups correct (mean ${r.meanHops.toFixed(2)} hops), ${r.keysStored} keys all readable; lookups under churn ${(rate * 100).toFixed(1)} % ok`,
      {
        nodes: options.nodes,
        faults: r.nemesis.log.length,
        convergeMs: Math.round(r.convergeMs),
        keysStored: r.keysStored,
        checkedLookups: r.checkedLookups,
        meanHops: Number(r.meanHops.toFixed(3)),
        churnLookups: r.churnLookups,
        churnLookupSuccess: Number(rate.toFixed(4)),
      },
    );
  },
};
