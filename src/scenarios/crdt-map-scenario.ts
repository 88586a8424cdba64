/**
 * `clusterkit sim crdt-map`: the eventually consistent replicated map (LWW-Map CRDT on rumor
 * mongering + anti-entropy, `consistency/replicated-map.ts`) on `--nodes` replicas under the
 * nemesis (partitions, clogging, crashes, pauses, loss, duplication, reordering), with `--ops`
 * writes and deletes issued at random live replicas during the faulty phase. A write is
 * acknowledged once the replica has fsynced its state, and only then gossiped.
 * Checks: after the faults heal every replica converges to the same state (seed 04.6.2) and no
 * acknowledged update is lost (each key holds its largest-stamped write). Measures the virtual
 * time from heal to convergence; `--set split=true` keeps two halves apart for the whole faulty
 * phase (with or without other faults). `--set unsafe=true` acknowledges writes without persisting them,
 * which the lost-update check must catch; `--set roundMs=N` and `--set keys=N` tune the run.
 */
import { assert } from '../core/assert.ts';
import type { NodeId } from '../core/ids.ts';
import { lwwMapType, type LwwMap } from '../consistency/crdt/lww-map.ts';
import { checkConvergence, type LwwWrite, lwwMapLostUpdates } from '../consistency/checkers.ts';
import { ReplicatedMap, type ReplicatedMapConfig, type ReplicatedMapMessage } from '../consistency/replicated-map.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export type CrdtMapMsg = ReplicatedMapMessage<number>;

const STATE_FILE = 'crdt-map.json';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A replica inside the simulator: persists its CRDT state before acknowledging or gossiping a write. */
export class CrdtMapNode implements SimNode<CrdtMapMsg> {
  private ctx: SimContext<CrdtMapMsg> | undefined;
  private replica: ReplicatedMap<number> | undefined;
  private readonly group: readonly NodeId[];
  private readonly config: Partial<ReplicatedMapConfig>;
  private readonly roundMs: number;

  /** Test-only fault: acknowledge writes without persisting them (the checker must catch the loss). */
  private readonly unsafeNoPersist: boolean;

  constructor(group: readonly NodeId[], config: Partial<ReplicatedMapConfig>, roundMs: number, unsafeNoPersist = false) {
    this.group = group;
    this.unsafeNoPersist = unsafeNoPersist;
    this.config = config;
    this.roundMs = roundMs;
  }

  get map(): ReplicatedMap<number> {
    assert(this.replica !== undefined, 'node not started');
    return this.replica;
  }

  start(ctx: SimContext<CrdtMapMsg>): void {
    this.ctx = ctx;
    const raw = ctx.disk.read(STATE_FILE);
    const initial = raw === undefined ? undefined : (JSON.parse(decoder.decode(raw)) as LwwMap<number>);
    this.replica = new ReplicatedMap<number>({
      self: ctx.id,
      rng: ctx.rng,
      peers: () => this.group,
      config: this.config,
      nowMs: ctx.now(),
      ...(initial !== undefined ? { initial } : {}),
    });
    const loop = () => {
      this.map.tick(ctx.now());
      this.flush();
      ctx.setTimer(this.roundMs, loop);
    };
    ctx.setTimer(ctx.rng.float() * this.roundMs, loop);
  }

  onMessage(from: NodeId, msg: CrdtMapMsg): void {
    this.map.handleMessage(from, msg, this.context().now());
    this.flush();
  }

  /** A client write at this replica; returns the acknowledged write (after fsync). */
  write(key: string, value: number | undefined): LwwWrite<number> {
    const ctx = this.context();
    if (value === undefined) this.map.delete(key, ctx.now());
    else this.map.set(key, value, ctx.now());
    const state = this.map.snapshot();
    if (!this.unsafeNoPersist) {
      ctx.disk.write(STATE_FILE, encoder.encode(JSON.stringify(state)));
      ctx.disk.fsync(STATE_FILE);
    }
    this.flush();
    const stamp = state[key]?.entry?.stamp;
    assert(stamp !== undefined, 'a write leaves a stamped register');
    return { key, value, stamp };
  }

  private context(): SimContext<CrdtMapMsg> {
    assert(this.ctx !== undefined, 'node not started');
    return this.ctx;
  }

  private flush(): void {
    const ctx = this.context();
    for (const o of this.map.pollMessages()) ctx.send(o.to, o.msg);
  }
}

export interface CrdtMapRun {
  sim: Simulator<CrdtMapMsg>;
  nemesis: Nemesis<CrdtMapMsg>;
  writes: LwwWrite<number>[];
  convergeMs: number;
  lost: string[];
  converged: boolean;
}

export function runCrdtMap(options: ScenarioOptions): CrdtMapRun {
  const roundMs = Number(options.params.roundMs ?? 50);
  const sim = new Simulator<CrdtMapMsg>({
    seed: options.seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    disk: { fsyncLatencyMs: { min: 1, max: 5 }, tornWrites: true },
    trace: 'events',
    replayCommand: `clusterkit sim crdt-map --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms --ops ${options.ops} --faults ${options.faults.join(',') || 'none'}${Object.entries(options.params).map(([k, v]) => ` --set ${k}=${v}`).join('')}`,
  });
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const config: Partial<ReplicatedMapConfig> = { antiEntropyEveryTicks: 4, digestBuckets: 16 };
  const unsafe = options.params.unsafe === 'true';
  for (const id of ids) sim.addNode(id, () => new CrdtMapNode(ids, config, roundMs, unsafe));
  const nemesis = new Nemesis(sim, { faults: options.faults, meanIntervalMs: 150, durationMs: { min: 50, max: 600 } });
  if (options.params.split === 'true') {
    // Two random halves for the whole faulty phase; the phase end heals it (time to converge after a partition heals).
    const shuffled = sim.rng.fork('split').shuffle(ids);
    const half = Math.floor(shuffled.length / 2);
    sim.partition([shuffled.slice(0, half), shuffled.slice(half)]);
  }
  const rng = sim.rng.fork('writes');
  const writes: LwwWrite<number>[] = [];
  const keys = Number(options.params.keys ?? 8);
  for (let i = 0; i < options.ops; i++) {
    sim.schedule(rng.float() * options.durationMs, () => {
      const live = ids.filter((id) => sim.isUp(id) && !sim.isPaused(id));
      if (live.length === 0) return;
      const node = sim.node(rng.pick(live)) as CrdtMapNode;
      const key = `k${rng.int(keys)}`;
      writes.push(node.write(key, rng.int(10) === 0 ? undefined : i + 1));
    });
  }
  const replicas = () => ids.map((id) => sim.node(id) as CrdtMapNode | undefined);
  const converged = () => {
    const all = replicas();
    if (all.some((r) => r === undefined)) return false;
    const first = (all[0] as CrdtMapNode).map.digest().join();
    if (!all.every((r) => (r as CrdtMapNode).map.digest().join() === first)) return false;
    return checkConvergence(lwwMapType<number>(), new Map(all.map((r, i) => [ids[i] as string, (r as CrdtMapNode).map.snapshot()]))).ok;
  };
  const result = runPhases({
    sim,
    nemesis,
    safetyMs: options.durationMs,
    livenessMs: 60_000,
    converged,
    convergedDescription: 'every replica holds the same CRDT state',
  });
  const lost: string[] = [];
  for (const [i, r] of replicas().entries()) {
    if (r === undefined) continue;
    for (const p of lwwMapLostUpdates(writes, r.map.snapshot())) lost.push(`${ids[i]}: ${p}`);
  }
  return { sim, nemesis, writes, convergeMs: result.convergeMs, lost, converged: true };
}

export const crdtMapScenario: Scenario = {
  name: 'crdt-map',
  description: 'Replicated LWW-Map CRDT on rumor mongering + anti-entropy under the nemesis: converges after heal, no update lost.',
  defaults: { nodes: 5, durationMs: 5000, ops: 200, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const run = runCrdtMap(options);
    const ok = run.lost.length === 0;
    return {
      ok,
      seed: options.seed,
      headline: `crdt-map: ${run.writes.length} acknowledged writes on ${options.nodes} replicas, ${run.sim.stats.crashes} crashes, converged ${run.convergeMs.toFixed(1)} ms after heal, ${run.lost.length === 0 ? 'no update lost' : `${run.lost.length} LOST OR WRONG KEYS`}`,
      summary: {
        writes: run.writes.length,
        crashes: run.sim.stats.crashes,
        events: run.sim.stats.events,
        messagesDelivered: run.sim.stats.messagesDelivered,
        dropped: run.sim.stats.droppedLoss + run.sim.stats.droppedPartition + run.sim.stats.droppedDown,
        convergeMs: Number(run.convergeMs.toFixed(3)),
        lost: run.lost.length,
        traceHash: run.sim.traceHash().slice(0, 16),
      },
      details: [...run.lost.slice(0, 20), ...run.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`)],
    };
  },
};
