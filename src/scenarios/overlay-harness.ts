/**
 * Shared scaffolding of the overlay scenarios (seed 04.4): the simulator with its replay
 * command, one `OverlaySimNode` per peer, running a request on a node until its result
 * arrives, the churn phase (a background client issuing requests while the nemesis injects
 * faults, then heal and convergence) and the common part of the scenario result. What each
 * overlay checks, and how, stays in its own scenario file; nothing here draws randomness
 * beyond what the callers ask for, so the traces are those of the scenarios written out.
 */
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import { type OverlayCore, OverlaySimNode } from '../overlay/host.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import type { SimContext } from '../sim/types.ts';
import { numberParam, setFlags } from './overlay-params.ts';
import type { ScenarioOptions, ScenarioResult } from './types.ts';

/** An overlay core whose client calls return a request id and whose results are polled. */
export interface PollingCore<M, R extends { reqId: number }> extends OverlayCore<M> {
  pollResults(): R[];
}

/** The simulator of an overlay scenario; `withOps` puts `--ops` into the replay command. */
export function overlaySimulator<M>(name: string, options: ScenarioOptions, withOps: boolean): Simulator<M> {
  const ops = withOps ? ` --ops ${options.ops}` : '';
  return new Simulator<M>({
    seed: options.seed,
    network: { latencyMs: { min: 1, max: 10 } },
    replayCommand: `clusterkit sim ${name} --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms${ops} --faults ${options.faults.join(',') || 'none'}${setFlags(options.params)}`,
  });
}

/** The node ids `n1`..`n<count>`. */
export function overlayIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** Adds one `OverlaySimNode` per id, each (re)start building a fresh core with `create`. */
export function addOverlayNodes<M, C extends OverlayCore<M>>(sim: Simulator<M>, ids: readonly NodeId[], tickMs: number, create: (ctx: SimContext<M>) => C): void {
  for (const id of ids) sim.addNode(id, () => new OverlaySimNode<M, C>({ tickMs, create }));
}

/** The core of a live node, or undefined when it is down. */
export function overlayCore<M, C extends OverlayCore<M>>(sim: Simulator<M>, id: NodeId): C | undefined {
  if (!sim.isUp(id)) return undefined;
  return (sim.node(id) as OverlaySimNode<M, C> | undefined)?.core;
}

/** Runs a client call on a live node (and sends what it produced); undefined when the node is down. */
export function actOn<M, C extends OverlayCore<M>, R>(sim: Simulator<M>, id: NodeId, fn: (core: C) => R): R | undefined {
  if (!sim.isUp(id)) return undefined;
  return (sim.node(id) as OverlaySimNode<M, C>).act(fn);
}

/** Runs `start` on a node and steps the simulator until its result arrives (or `maxMs`). */
export function awaitResult<M, R extends { reqId: number }, C extends PollingCore<M, R>>(sim: Simulator<M>, id: NodeId, start: (c: C) => number, maxMs: number): R | undefined {
  const host = sim.node(id) as OverlaySimNode<M, C> | undefined;
  const reqId = host?.act(start);
  if (host === undefined || reqId === undefined) return undefined;
  let got: R | undefined;
  sim.runUntil(() => {
    const c = host.core;
    if (c === undefined || !sim.isUp(id)) return true;
    for (const r of c.pollResults()) if (r.reqId === reqId) got = r;
    return got !== undefined;
  }, maxMs);
  return got;
}

export interface ChurnPhaseOptions<M, R extends { reqId: number }> {
  sim: Simulator<M>;
  options: ScenarioOptions;
  ids: readonly NodeId[];
  /** The client's random stream: it picks the requesting node, then `request` may draw more. */
  rng: Rng;
  tickMs: number;
  /** Virtual ms between two client requests. */
  requestEveryMs: number;
  /** The core of a live node, polled for the results of the requests issued on it. */
  core(id: NodeId): PollingCore<M, R> | undefined;
  /** Issues one request on `from` (picked by the client); its id, or undefined when none was issued. */
  request(from: NodeId): number | undefined;
  /** Whether a result counts as a success. */
  succeeded(r: R): boolean;
  /** Most nodes down at once (the nemesis default when absent). */
  downMax?: number;
  converged(): boolean;
  convergedDescription: string;
}

export interface ChurnPhaseResult<M> {
  nemesis: Nemesis<M>;
  convergeMs: number;
  /** Requests issued by the client during the churn phase, and how many of them succeeded. */
  requests: number;
  requestsOk: number;
}

/**
 * The churn phase: a client issues a request every `requestEveryMs` from a random node while
 * the nemesis injects faults for `durationMs` (mean `faultIntervalMs` between faults, each
 * lasting 5..50 ticks); then the faults heal and the run must converge within 1200 ticks.
 */
export function runChurnPhase<M, R extends { reqId: number }>(o: ChurnPhaseOptions<M, R>): ChurnPhaseResult<M> {
  const { sim, options, rng } = o;
  const T = o.tickMs;
  let requests = 0;
  let requestsOk = 0;
  let clientOn = true;
  const waiting = new Map<NodeId, Set<number>>();
  const client = (): void => {
    if (!clientOn) return;
    for (const [id, reqs] of waiting) {
      const c = o.core(id);
      if (c === undefined) continue;
      for (const r of c.pollResults()) if (reqs.delete(r.reqId) && o.succeeded(r)) requestsOk++;
    }
    const id = rng.pick(o.ids);
    const reqId = o.request(id);
    if (reqId !== undefined) {
      requests++;
      const set = waiting.get(id) ?? new Set<number>();
      set.add(reqId);
      waiting.set(id, set);
    }
    sim.schedule(o.requestEveryMs, client);
  };
  sim.schedule(0, client);

  const nemesis = new Nemesis(sim, {
    faults: options.faults,
    meanIntervalMs: numberParam(options.params, 'faultIntervalMs', 30 * T),
    durationMs: { min: 5 * T, max: 50 * T },
    ...(o.downMax === undefined ? {} : { downMax: o.downMax }),
  });
  const phases = runPhases({
    sim,
    nemesis,
    safetyMs: options.durationMs,
    livenessMs: 1200 * T,
    converged: o.converged,
    convergedDescription: o.convergedDescription,
  });
  clientOn = false;
  return { nemesis, convergeMs: phases.convergeMs, requests, requestsOk };
}

/**
 * Stores `count` pairs `k<i>` → `v<i>-<random>` through `put`, which throws when a put fails;
 * returns the stored pairs. The value's random part is drawn before `put` runs.
 */
export function storePairs(count: number, rng: Rng, put: (key: string, value: string) => void): Map<string, string> {
  const stored = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `k${i}`;
    const value = `v${i}-${rng.int(1_000_000)}`;
    put(key, value);
    stored.set(key, value);
  }
  return stored;
}

/** The success rate of the churn-phase requests (1 when there were none). */
export function churnRate(requests: number, requestsOk: number): number {
  return requests === 0 ? 1 : requestsOk / requests;
}

/** A passing scenario result: `summary` followed by the event count and trace hash, the nemesis log as details. */
export function overlayResult<M>(options: ScenarioOptions, sim: Simulator<M>, nemesis: Nemesis<M>, headline: string, summary: ScenarioResult['summary']): ScenarioResult {
  return {
    ok: true,
    seed: options.seed,
    headline,
    summary: { ...summary, events: sim.stats.events, traceHash: sim.traceHash().slice(0, 16) },
    details: nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
  };
}
