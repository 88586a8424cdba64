/**
 * `clusterkit sim causal-kv`: the causally consistent KV (`consistency/causal-kv.ts`, on causal
 * broadcast with the vector-clock delivery rule) on `--nodes` replicas under the nemesis, with
 * `--ops` puts at random live replicas. Every put is built to depend on what its replica has
 * seen, so causal chains cross replicas. Each replica appends what it applies to a log and
 * fsyncs before sending anything (its own puts included), and recovers from that log after a
 * crash.
 * Checks: the delivery logs satisfy seed 04.6.3 (o_i ≺ o_j ⇒ order(o_i) < order(o_j), rebuilt
 * from the logs by `checkCausalDelivery`, which does not trust the protocol's clocks); after the
 * faults heal every replica has applied every acknowledged put and holds the same map.
 * `--set split=true` keeps two halves apart for the whole faulty phase. `--set unsafe=true` delivers on receipt (no causal buffering), which the checker must catch.
 */
import { assert } from '../core/assert.ts';
import { compareNodeIds, type NodeId } from '../core/ids.ts';
import type { CausalBroadcastMessage, CausalMessage } from '../consistency/causal-broadcast.ts';
import { CausalKv, type KvPut } from '../consistency/causal-kv.ts';
import { type CausalLogEvent, checkCausalDelivery } from '../consistency/checkers.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { SimFailure, Simulator } from '../sim/simulator.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export type CausalKvMsg = CausalBroadcastMessage<KvPut<number>>;

const LOG_FILE = 'causal.log';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Delivery logs kept outside the replicas, for the checker. A restart resets a log to what the replica recovered. */
export class DeliveryRecorder {
  readonly logs = new Map<NodeId, CausalLogEvent[]>();
  reset(node: NodeId, recovered: readonly CausalMessage<unknown>[]): void {
    this.logs.set(
      node,
      recovered.map((m) => ({ kind: m.origin === node ? 'broadcast' : 'deliver', id: `${m.origin}#${m.seq}` })),
    );
  }
  record(node: NodeId, m: CausalMessage<unknown>, own: boolean): void {
    const log = this.logs.get(node) ?? [];
    log.push({ kind: own ? 'broadcast' : 'deliver', id: `${m.origin}#${m.seq}` });
    this.logs.set(node, log);
  }
}

/** Reads the JSON-lines log; a torn or unparsable tail ends it (it was never fsynced). */
export function readCausalLog(raw: Uint8Array | undefined): CausalMessage<KvPut<number>>[] {
  if (raw === undefined) return [];
  const out: CausalMessage<KvPut<number>>[] = [];
  const text = decoder.decode(raw);
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break; // an unterminated last line is a torn write
    try {
      out.push(JSON.parse(text.slice(start, nl)) as CausalMessage<KvPut<number>>);
    } catch {
      break;
    }
    start = nl + 1;
  }
  return out;
}

export class CausalKvNode implements SimNode<CausalKvMsg> {
  private ctx: SimContext<CausalKvMsg> | undefined;
  private replica: CausalKv<number> | undefined;
  private readonly group: readonly NodeId[];
  private readonly recorder: DeliveryRecorder;
  private readonly syncMs: number;
  private readonly unsafe: boolean;

  constructor(group: readonly NodeId[], recorder: DeliveryRecorder, syncMs: number, unsafe: boolean) {
    this.group = group;
    this.recorder = recorder;
    this.syncMs = syncMs;
    this.unsafe = unsafe;
  }

  get kv(): CausalKv<number> {
    assert(this.replica !== undefined, 'node not started');
    return this.replica;
  }

  start(ctx: SimContext<CausalKvMsg>): void {
    this.ctx = ctx;
    const recovered = readCausalLog(ctx.disk.read(LOG_FILE));
    this.recorder.reset(ctx.id, recovered);
    this.replica = new CausalKv<number>({ self: ctx.id, group: this.group, rng: ctx.rng, config: { bufferMax: 256, logMax: 100_000 }, recovered });
    const loop = () => {
      this.kv.tick();
      this.flush();
      ctx.setTimer(this.syncMs, loop);
    };
    ctx.setTimer(ctx.rng.float() * this.syncMs, loop);
  }

  onMessage(from: NodeId, msg: CausalKvMsg): void {
    if (this.unsafe && msg.type === 'cb-data') {
      // Broken on purpose: deliver whatever arrives, in arrival order, without the causal rule.
      for (const m of msg.msgs) {
        const ctx = this.context();
        const id = `${m.origin}#${m.seq}`;
        if (this.recorder.logs.get(ctx.id)?.some((e) => e.id === id)) continue;
        this.recorder.record(ctx.id, m, false);
      }
    }
    this.kv.handleMessage(from, msg);
    this.flush();
  }

  /** A client put at this replica; returns the acknowledged message. */
  put(key: string, value: number): CausalMessage<KvPut<number>> {
    const m = this.kv.put(key, value);
    this.flush();
    return m;
  }

  private context(): SimContext<CausalKvMsg> {
    assert(this.ctx !== undefined, 'node not started');
    return this.ctx;
  }

  /** Persist applied puts (fsync), record them for the checker, then send. */
  private flush(): void {
    const ctx = this.context();
    const applied = this.kv.pollApplied();
    if (applied.length > 0) {
      let text = '';
      for (const d of applied) text += `${JSON.stringify(d.msg)}\n`;
      ctx.disk.append(LOG_FILE, encoder.encode(text));
      ctx.disk.fsync(LOG_FILE);
      for (const d of applied) {
        const id = `${d.msg.origin}#${d.msg.seq}`;
        if (this.unsafe && !d.own && this.recorder.logs.get(ctx.id)?.some((e) => e.id === id)) continue;
        this.recorder.record(ctx.id, d.msg, d.own);
      }
    }
    for (const o of this.kv.pollMessages()) ctx.send(o.to, o.msg);
  }
}

export interface CausalKvRun {
  sim: Simulator<CausalKvMsg>;
  nemesis: Nemesis<CausalKvMsg>;
  puts: CausalMessage<KvPut<number>>[];
  refused: number;
  convergeMs: number;
  violations: string[];
  deliveries: number;
}

export function runCausalKv(options: ScenarioOptions): CausalKvRun {
  const unsafe = options.params.unsafe === 'true';
  const sim = new Simulator<CausalKvMsg>({
    seed: options.seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 20 } },
    disk: { fsyncLatencyMs: { min: 1, max: 5 }, tornWrites: true },
    replayCommand: `clusterkit sim causal-kv --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms --ops ${options.ops} --faults ${options.faults.join(',') || 'none'}${Object.entries(options.params).map(([k, v]) => ` --set ${k}=${v}`).join('')}`,
  });
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const recorder = new DeliveryRecorder();
  const syncMs = Number(options.params.syncMs ?? 50);
  for (const id of ids) sim.addNode(id, () => new CausalKvNode(ids, recorder, syncMs, unsafe));
  const nemesis = new Nemesis(sim, { faults: options.faults, meanIntervalMs: 150, durationMs: { min: 50, max: 600 } });
  if (options.params.split === 'true') {
    // Two random halves for the whole faulty phase; the phase end heals it (time to converge after a partition heals).
    const shuffled = sim.rng.fork('split').shuffle(ids);
    const half = Math.floor(shuffled.length / 2);
    sim.partition([shuffled.slice(0, half), shuffled.slice(half)]);
  }
  const rng = sim.rng.fork('puts');
  const puts: CausalMessage<KvPut<number>>[] = [];
  let refused = 0;
  const keys = Number(options.params.keys ?? 5);
  for (let i = 0; i < options.ops; i++) {
    sim.schedule(rng.float() * options.durationMs, () => {
      const live = ids.filter((id) => sim.isUp(id) && !sim.isPaused(id));
      if (live.length === 0) return;
      const node = sim.node(rng.pick(live)) as CausalKvNode;
      try {
        puts.push(node.put(`k${rng.int(keys)}`, i + 1));
      } catch {
        refused += 1; // overloaded: a definite failure, nothing was written
      }
    });
  }
  if (!unsafe) {
    sim.addInvariant('causal delivery (seed 04.6.3)', () => {
      // Checked incrementally would be cheaper; the full check every 500 events keeps runs fast.
      if (sim.stats.events % 500 !== 0) return undefined;
      const r = checkCausalDelivery(recorder.logs, 3);
      return r.ok ? undefined : r.violations.join('; ');
    });
  }
  const replicas = () => ids.map((id) => sim.node(id) as CausalKvNode | undefined);
  const converged = () => {
    const all = replicas();
    if (all.some((r) => r === undefined)) return false;
    const total = puts.length;
    return all.every((r) => Object.values((r as CausalKvNode).kv.clock()).reduce((a, b) => a + b, 0) === total);
  };
  const describe = () =>
    ids
      .map((id) => {
        const r = sim.node(id) as CausalKvNode | undefined;
        if (r === undefined) return `${id} down`;
        const cb = r.kv.broadcast;
        return `${id} clock ${JSON.stringify(r.kv.clock())} buffered ${cb.bufferedCount()} stats ${JSON.stringify(cb.stats)}`;
      })
      .join('; ');
  let result: ReturnType<typeof runPhases>;
  try {
    result = runPhases({
      sim,
      nemesis,
      safetyMs: options.durationMs,
      livenessMs: 60_000,
      converged,
      convergedDescription: 'every replica applied every acknowledged put',
    });
  } catch (err) {
    if (err instanceof SimFailure) throw sim.failure(`${err.message.split('\n')[0]} (${puts.length} puts; ${describe()})`);
    throw err;
  }
  const check = checkCausalDelivery(recorder.logs);
  const violations = [...check.violations];
  // Convergence and no lost put: every replica holds, for every key, the LWW winner over all puts.
  const winner = new Map<string, CausalMessage<KvPut<number>>>();
  for (const p of puts) {
    const w = winner.get(p.payload.key);
    if (w === undefined || p.payload.lamport > w.payload.lamport || (p.payload.lamport === w.payload.lamport && compareNodeIds(p.origin, w.origin) > 0)) {
      winner.set(p.payload.key, p);
    }
  }
  for (const [i, r] of replicas().entries()) {
    if (r === undefined) continue;
    for (const [key, w] of winner) {
      if (r.kv.get(key) !== w.payload.value) violations.push(`${ids[i]}: key ${key} = ${r.kv.get(key)}, expected ${w.payload.value} from ${w.origin}#${w.seq}`);
    }
  }
  return { sim, nemesis, puts, refused, convergeMs: result.convergeMs, violations, deliveries: check.deliveries };
}

export const causalKvScenario: Scenario = {
  name: 'causal-kv',
  description: 'Causally consistent KV on vector-clock causal broadcast under the nemesis: causal order checked over the delivery logs.',
  defaults: { nodes: 4, durationMs: 3000, ops: 150, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const run = runCausalKv(options);
    const ok = run.violations.length === 0;
    return {
      ok,
      seed: options.seed,
      headline: `causal-kv: ${run.puts.length} puts on ${options.nodes} replicas, ${run.deliveries} deliveries checked, ${run.sim.stats.crashes} crashes, converged ${run.convergeMs.toFixed(1)} ms after heal, ${ok ? 'causal order holds, replicas equal' : `${run.violations.length} VIOLATIONS`}`,
      summary: {
        puts: run.puts.length,
        refused: run.refused,
        deliveries: run.deliveries,
        crashes: run.sim.stats.crashes,
        events: run.sim.stats.events,
        convergeMs: Number(run.convergeMs.toFixed(3)),
        violations: run.violations.length,
        traceHash: run.sim.traceHash().slice(0, 16),
      },
      details: [...run.violations.slice(0, 20), ...run.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`)],
    };
  },
};
