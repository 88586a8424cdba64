/**
 * `clusterkit sim paxos`: a replicated KV register on Multi-Paxos under the nemesis
 * (partitions, swizzle-clog, crashes losing unsynced writes, restarts, pauses, loss,
 * duplication, reordering) plus forced elections (a random replica runs phase 1 now, which makes
 * proposers duel). `--nodes` is the number of replicas. Paxos invariants are checked after every
 * event (one value per slot, chosen values never change, no accept below a durable promise);
 * the client history must be linearizable; the liveness phase must elect a leader that commits
 * and let every client operation complete.
 *
 * Parameters (`--set`): `quorum=majority|flexible` with `q1=N q2=N` (Flexible Paxos; defaults
 * for flexible: q2 = 2, q1 = N - 1), `clients=N` (default 3), `window=N` slots in flight (default
 * 2, small so that batching happens), `batch=N` commands per slot (default 8), `campaigns=false`
 * turns forced elections off, `unsafe=true` sends every message before the fsync (a deliberately
 * broken host, to show the checkers catch it).
 */
import { AssertionError } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import { ballotString } from '../consensus/paxos/ballot.ts';
import { type PaxosConfig, type QuorumConfig, quorumSizes } from '../consensus/paxos/config.ts';
import { checkLinearizable, linearizabilityVerdict } from '../sim/checkers/linearizability.ts';
import { historyToJsonLines } from '../sim/history.ts';
import { type CustomAction, Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { SimFailure, Simulator } from '../sim/simulator.ts';
import { KvWorkload } from '../sim/workload.ts';
import { PaxosChecker, PaxosKvClient, type PaxosKvMsg, PaxosKvServer, paxosKvDriver } from './paxos-kv.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export interface PaxosRun {
  sim: Simulator<PaxosKvMsg>;
  workload: KvWorkload<PaxosKvMsg>;
  checker: PaxosChecker;
  servers: NodeId[];
  nemesis: Nemesis<PaxosKvMsg>;
  convergeMs: number;
  quorum: { q1: number; q2: number };
  server: (id: NodeId) => PaxosKvServer | undefined;
}

export function paxosReplayCommand(o: ScenarioOptions): string {
  const sets = Object.entries(o.params)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  return `clusterkit sim paxos --seed ${o.seed} --nodes ${o.nodes} --duration ${o.durationMs}ms --ops ${o.ops} --faults ${o.faults.join(',') || 'none'}${sets}`;
}

function intParam(params: Readonly<Record<string, string>>, name: string, fallback: number, min: number, max: number): number {
  const raw = params[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`--set ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return v;
}

/** The quorum system chosen by `--set quorum=... q1=... q2=...`; throws ConfigError when invalid. */
export function quorumFromParams(n: number, params: Readonly<Record<string, string>>): QuorumConfig {
  const kind = params.quorum ?? 'majority';
  if (kind === 'majority') {
    if (params.q1 !== undefined || params.q2 !== undefined) throw new ConfigError('--set q1/q2 need --set quorum=flexible');
    return { kind: 'majority' };
  }
  if (kind !== 'flexible') throw new ConfigError(`--set quorum must be 'majority' or 'flexible', got ${JSON.stringify(kind)}`);
  const q2 = intParam(params, 'q2', Math.min(2, n), 1, n);
  const q1 = intParam(params, 'q1', n - q2 + 1, 1, n);
  const quorum: QuorumConfig = { kind: 'flexible', q1, q2 };
  quorumSizes(n, quorum);
  return quorum;
}

export function runPaxos(o: ScenarioOptions): PaxosRun {
  if (o.nodes < 1 || o.nodes > 9) throw new ConfigError(`--nodes for the paxos scenario must be 1..9 replicas, got ${o.nodes}`);
  const clientsN = intParam(o.params, 'clients', 3, 1, 100);
  const window = intParam(o.params, 'window', 2, 1, 1024);
  const batch = intParam(o.params, 'batch', 8, 1, 1024);
  const quorum = quorumFromParams(o.nodes, o.params);
  const sizes = quorumSizes(o.nodes, quorum);
  const sim = new Simulator<PaxosKvMsg>({
    seed: o.seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 8 } },
    disk: { fsyncLatencyMs: { min: 0.5, max: 4 }, tornWrites: true, corruptTailRate: 0.2 },
    replayCommand: paxosReplayCommand(o),
  });
  const checker = new PaxosChecker(sizes.q2);
  const servers: NodeId[] = [];
  for (let i = 1; i <= o.nodes; i++) servers.push(`n${i}`);
  const config: Partial<PaxosConfig> & { nodes: readonly NodeId[] } = {
    nodes: servers,
    quorum,
    heartbeatTicks: 2,
    leaderTimeoutTicks: 10,
    prepareRetryTicks: 6,
    batchCommandsMax: batch,
    inflightSlotsMax: window,
  };
  for (const id of servers) {
    sim.addNode(id, () => new PaxosKvServer({ config, tickMs: 10, checker, unsafeSendBeforeSync: o.params.unsafe === 'true' }));
  }
  const clients: NodeId[] = [];
  for (let i = 1; i <= clientsN; i++) {
    const id = `c${i}`;
    clients.push(id);
    sim.addNode(id, () => new PaxosKvClient(servers));
  }
  sim.addInvariant('paxos', () => checker.violation);
  const server = (id: NodeId) => sim.node(id) as PaxosKvServer | undefined;
  const workload = new KvWorkload(
    sim,
    paxosKvDriver((p) => sim.node(clients[p % clients.length] as string) as PaxosKvClient | undefined),
    { clients: clientsN, keys: 3, opsMax: o.ops, thinkMeanMs: 10, opTimeoutMs: 600 },
  );
  const custom: CustomAction[] =
    o.params.campaigns === 'false'
      ? []
      : [
          {
            name: 'campaign',
            weight: 0.5,
            run: (rng: Rng) => {
              const up = servers.filter((id) => sim.isUp(id) && !sim.isPaused(id));
              if (up.length === 0) return;
              const s = server(rng.pick(up));
              s?.act((p) => p.campaign());
            },
          },
        ];
  const nemesis = new Nemesis(sim, {
    targets: servers,
    faults: o.faults,
    custom,
    meanIntervalMs: 60,
    durationMs: { min: 10, max: 150 },
    downMax: o.nodes - Math.max(sizes.q1, sizes.q2),
  });
  workload.start();
  const leader = (): PaxosKvServer | undefined => {
    let best: PaxosKvServer | undefined;
    for (const id of servers) {
      const s = server(id);
      if (s?.paxos.role === 'leader' && !sim.isPaused(id) && (!best || s.paxos.ballot.round > best.paxos.ballot.round)) best = s;
    }
    return best;
  };
  const converged = (): boolean => {
    if (!workload.finished) return false;
    const l = leader();
    if (!l || l.paxos.inflightSlots > 0 || l.paxos.queuedCommands > 0) return false;
    const top = l.paxos.chosenBelow;
    if (top <= 1 || l.appliedBelow < top) return false;
    let caughtUp = 0;
    for (const id of servers) if ((server(id)?.appliedBelow ?? 0) >= top) caughtUp++;
    return caughtUp >= sizes.q2;
  };
  let result: ReturnType<typeof runPhases>;
  try {
    result = runPhases({
      sim,
      nemesis,
      safetyMs: o.durationMs,
      livenessMs: 20_000,
      converged,
      convergedDescription: 'a leader had every slot it proposed chosen and applied, Q2 replicas applied them, and every client operation completed',
    });
  } catch (err) {
    if (!(err instanceof SimFailure || err instanceof AssertionError)) throw err;
    const first = err instanceof SimFailure ? (err.message.split('\n')[0] ?? '') : `assertion failed in a replica: ${err.message}`;
    const lines = servers.map((id) => {
      const s = server(id);
      if (!s) return `${id}: down`;
      const p = s.paxos;
      return `${id}: ${p.role} ballot ${ballotString(p.ballot)} promised ${ballotString(p.promised)} leader ${p.leader || '-'} chosenBelow ${p.chosenBelow} applied<${s.appliedBelow} queued ${p.queuedCommands}`;
    });
    throw sim.failure(`${first}\n  workload finished: ${workload.finished}\n  ${lines.join('\n  ')}`);
  }
  return { sim, workload, checker, servers, nemesis, convergeMs: result.convergeMs, quorum: sizes, server };
}

export const paxosScenario: Scenario = {
  name: 'paxos',
  description: 'A KV register replicated by Multi-Paxos (majority or Flexible Paxos quorums) under the nemesis and duelling proposers; invariants + linearizability.',
  defaults: { nodes: 3, durationMs: 2000, ops: 150, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const run = runPaxos(options);
    const history = run.workload.history();
    const check = checkLinearizable(history);
    const counts = run.workload.counts();
    const ok = check.outcome === 'linearizable';
    const why = linearizabilityVerdict(check);
    let noops = 0;
    let batches = 0;
    let commands = 0;
    for (const id of run.servers) {
      const s = run.server(id)?.paxos.stats;
      noops += s?.noopsProposed ?? 0;
      batches += s?.batches ?? 0;
      commands += s?.commandsProposed ?? 0;
    }
    return {
      ok,
      seed: options.seed,
      headline: `paxos (q1=${run.quorum.q1}, q2=${run.quorum.q2}): ${run.workload.invokedCount} ops (${counts.ok} ok, ${counts.fail} fail, ${counts.info} info), ${run.sim.stats.crashes} crashes, ${run.checker.leaders.size} leader ballots, ${run.checker.maxChosenSlot} slots chosen, converged ${run.convergeMs.toFixed(1)} ms after heal, history ${check.outcome}${why}${ok ? '' : `\n  replay: ${paxosReplayCommand(options)}`}`,
      summary: {
        q1: run.quorum.q1,
        q2: run.quorum.q2,
        ops: run.workload.invokedCount,
        ok: counts.ok,
        fail: counts.fail,
        info: counts.info,
        crashes: run.sim.stats.crashes,
        leaderBallots: run.checker.leaders.size,
        slotsChosen: run.checker.maxChosenSlot,
        noopsProposed: noops,
        noopsChosen: run.checker.noopsChosen,
        commandsPerSlot: batches > 0 ? Number((commands / batches).toFixed(3)) : 0,
        events: run.sim.stats.events,
        messages: run.sim.stats.messagesSent,
        virtualMs: Math.round(run.sim.now()),
        convergeMs: Number(run.convergeMs.toFixed(3)),
        linearizable: check.outcome,
        traceHash: run.sim.traceHash().slice(0, 16),
      },
      details: run.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
      historyJsonLines: historyToJsonLines(history),
    };
  },
};
