/**
 * `clusterkit sim raft`: a replicated KV register on the Raft core under the nemesis
 * (partitions, swizzle-clog, crashes losing unsynced writes, restarts, pauses, loss,
 * duplication, reordering) plus membership changes and leadership transfers during faults.
 * `--nodes` is the number of initial voters; one spare server starts outside the configuration
 * for the membership changes to add. Raft invariants are checked after every event; the client
 * history must be linearizable; the liveness phase must elect a leader that commits in its term
 * and let every client operation complete.
 *
 * Parameters (`--set`): `reads=lease` uses leader leases (pause faults are then left out: a
 * paused leader is exactly the clock-drift case the lease assumption excludes), `batch=false`
 * turns proposal batching off, `clients=N` (default 3), `unsafe=true` sends every message before
 * the fsync (a deliberately broken host, to show the checkers catch lost acknowledged writes).
 */

import type { RaftConfig } from '../consensus/raft/config.ts';
import { RaftLogLostError } from '../consensus/raft/raft.ts';
import type { ConfState } from '../consensus/raft/types.ts';
import { AssertionError } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import { checkLinearizable, linearizabilityVerdict } from '../sim/checkers/linearizability.ts';
import { historyToJsonLines } from '../sim/history.ts';
import { type CustomAction, Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { SimFailure, Simulator } from '../sim/simulator.ts';
import { KvWorkload } from '../sim/workload.ts';
import { RaftChecker, RaftKvClient, type RaftKvMsg, RaftKvServer, raftKvDriver } from './raft-kv.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export interface RaftRun {
  sim: Simulator<RaftKvMsg>;
  workload: KvWorkload<RaftKvMsg>;
  checker: RaftChecker;
  servers: NodeId[];
  nemesis: Nemesis<RaftKvMsg>;
  convergeMs: number;
  server: (id: NodeId) => RaftKvServer | undefined;
}

export function replayCommand(o: ScenarioOptions): string {
  const sets = Object.entries(o.params)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  return `clusterkit sim raft --seed ${o.seed} --nodes ${o.nodes} --duration ${o.durationMs}ms --ops ${o.ops} --faults ${o.faults.join(',') || 'none'}${sets}`;
}

export function runRaft(o: ScenarioOptions): RaftRun {
  const lease = o.params.reads === 'lease';
  const clientsN = Number(o.params.clients ?? 3);
  if (!Number.isInteger(clientsN) || clientsN < 1 || clientsN > 100) throw new ConfigError(`--set clients must be an integer in 1..100, got ${o.params.clients}`);
  if (o.params.reads !== undefined && o.params.reads !== 'lease' && o.params.reads !== 'index') {
    throw new ConfigError(`--set reads must be 'index' or 'lease', got ${JSON.stringify(o.params.reads)}`);
  }
  if (o.nodes > 9) throw new ConfigError(`--nodes for the raft scenario must be at most 9 voters, got ${o.nodes}`);
  const sim = new Simulator<RaftKvMsg>({
    seed: o.seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 8 } },
    disk: { fsyncLatencyMs: { min: 0.5, max: 4 }, tornWrites: true, corruptTailRate: 0.2 },
    replayCommand: replayCommand(o),
  });
  const checker = new RaftChecker();
  const voters: NodeId[] = [];
  for (let i = 1; i <= o.nodes; i++) voters.push(`n${i}`);
  const servers = [...voters, `n${o.nodes + 1}`];
  const bootstrap: ConfState = { voters, learners: [], votersOutgoing: [], learnersNext: [] };
  const config: Partial<RaftConfig> = {
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    readOnlyOption: lease ? 'lease-based' : 'safe',
    maxSizePerMsgBytes: 512,
    maxInflightMsgs: 4,
    snapshotChunkBytes: 64,
    batchAppends: o.params.batch !== 'false',
  };
  for (const id of servers) {
    sim.addNode(
      id,
      () => new RaftKvServer({ bootstrap, config, tickMs: 10, checker, snapshotEveryEntries: 20, compactionLagEntries: 2, unsafeSendBeforeSync: o.params.unsafe === 'true' }),
    );
  }
  const clients: NodeId[] = [];
  for (let i = 1; i <= clientsN; i++) {
    const id = `c${i}`;
    clients.push(id);
    sim.addNode(id, () => new RaftKvClient(servers));
  }
  sim.addInvariant('raft', () => checker.violation);
  const server = (id: NodeId) => sim.node(id) as RaftKvServer | undefined;
  const leader = (): RaftKvServer | undefined => {
    let best: RaftKvServer | undefined;
    for (const id of servers) {
      const s = server(id);
      if (s?.raft.role === 'leader' && !sim.isPaused(id) && (!best || s.raft.term > best.raft.term)) best = s;
    }
    return best;
  };
  const workload = new KvWorkload(
    sim,
    raftKvDriver((p) => sim.node(clients[p % clients.length] as string) as RaftKvClient | undefined),
    { clients: clientsN, keys: 3, opsMax: o.ops, thinkMeanMs: 10, opTimeoutMs: 600 },
  );
  const custom: CustomAction[] = [
    {
      name: 'transfer-leader',
      weight: 0.5,
      run: (rng: Rng) => {
        const l = leader();
        if (!l) return;
        const cs = l.raft.confState();
        const others = cs.voters.filter((v) => v !== l.raft.id);
        if (others.length > 0) l.act((r) => r.transferLeadership(rng.pick(others)));
      },
    },
    {
      name: 'conf-change',
      weight: 0.5,
      run: (rng: Rng) => {
        const l = leader();
        if (!l) return;
        const cs = l.raft.confState();
        if (cs.votersOutgoing.length > 0) return;
        const members = new Set([...cs.voters, ...cs.learners]);
        const outside = servers.filter((s) => !members.has(s));
        const options: (() => void)[] = [];
        if (outside.length > 0) options.push(() => l.act((r) => r.proposeConfChange({ changes: [{ type: 'add-learner', node: rng.pick(outside) }] })));
        if (cs.learners.length > 0) options.push(() => l.act((r) => r.proposeConfChange({ changes: [{ type: 'add-voter', node: rng.pick(cs.learners) }] })));
        if (cs.voters.length > 3) {
          options.push(() => l.act((r) => r.proposeConfChange({ changes: [{ type: 'remove', node: rng.pick(cs.voters) }] })));
          options.push(() => l.act((r) => r.proposeConfChange({ changes: [{ type: 'add-learner', node: rng.pick(cs.voters) }] })));
        }
        if (options.length > 0) rng.pick(options)();
      },
    },
  ];
  const nemesis = new Nemesis(sim, {
    targets: servers,
    faults: o.faults.filter((f) => !(lease && f === 'pause')),
    custom,
    meanIntervalMs: 60,
    durationMs: { min: 10, max: 150 },
    downMax: Math.floor(o.nodes / 2),
  });
  workload.start();
  const converged = (): boolean => {
    if (!workload.finished) return false;
    const l = leader();
    if (!l) return false;
    const commit = l.raft.log.committed;
    if (l.raft.log.term(commit) !== l.raft.term) return false;
    for (const v of l.raft.confState().voters) {
      const s = server(v);
      if (!s || s.raft.log.applied < commit) return false;
    }
    return true;
  };
  let result: ReturnType<typeof runPhases>;
  try {
    result = runPhases({
      sim,
      nemesis,
      safetyMs: o.durationMs,
      livenessMs: 20_000,
      converged,
      convergedDescription: 'a leader committed an entry of its term, every voter applied it, and every client operation completed',
    });
  } catch (err) {
    if (!(err instanceof SimFailure || err instanceof AssertionError || err instanceof RaftLogLostError)) throw err;
    // An assertion inside a server (a broken Raft invariant the core checks itself) fails the
    // seed, and so does a server whose disk lost entries it had acknowledged (the core's fatal error).
    const first =
      err instanceof SimFailure
        ? (err.message.split('\n')[0] ?? '')
        : err instanceof RaftLogLostError
          ? `durability violated: ${err.message}`
          : `assertion failed in a server: ${err.message}`;
    const lines = servers.map((id) => {
      const s = server(id);
      if (!s) return `${id}: down`;
      const st = s.raft.status();
      return `${id}: ${st.role} term ${st.term} leader ${st.leader || '-'} commit ${st.commit} applied ${st.applied} last ${st.lastIndex} voters ${st.confState.voters.join(',')}${st.confState.votersOutgoing.length > 0 ? ` outgoing ${st.confState.votersOutgoing.join(',')}` : ''} learners ${st.confState.learners.join(',')} ${JSON.stringify(st.progress)}`;
    });
    throw sim.failure(`${first}\n  workload finished: ${workload.finished}\n  ${lines.join('\n  ')}`);
  }
  return { sim, workload, checker, servers, nemesis, convergeMs: result.convergeMs, server };
}

export const raftScenario: Scenario = {
  name: 'raft',
  description: 'A KV register replicated by Raft under the nemesis, membership changes and leadership transfers; invariants + linearizability.',
  defaults: { nodes: 3, durationMs: 2000, ops: 150, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const run = runRaft(options);
    const history = run.workload.history();
    const check = checkLinearizable(history);
    const counts = run.workload.counts();
    const ok = check.outcome === 'linearizable';
    const why = linearizabilityVerdict(check);
    let snapshotsInstalled = 0;
    for (const id of run.servers) snapshotsInstalled += run.server(id)?.stats.snapshotsInstalled ?? 0;
    let maxTerm = 0;
    for (const t of run.checker.leaders.keys()) maxTerm = Math.max(maxTerm, t);
    return {
      ok,
      seed: options.seed,
      headline: `raft: ${run.workload.invokedCount} ops (${counts.ok} ok, ${counts.fail} fail, ${counts.info} info), ${run.sim.stats.crashes} crashes, ${run.checker.leaders.size} leaders, converged ${run.convergeMs.toFixed(1)} ms after heal, history ${check.outcome}${why}${ok ? '' : `\n  replay: ${replayCommand(options)}`}`,
      summary: {
        ops: run.workload.invokedCount,
        ok: counts.ok,
        fail: counts.fail,
        info: counts.info,
        crashes: run.sim.stats.crashes,
        leaders: run.checker.leaders.size,
        maxTerm,
        committedEntries: run.checker.maxAppliedIndex,
        snapshotsInstalled,
        finalVoters: (run.servers.map((id) => run.server(id)).find((s) => s?.raft.role === 'leader')?.raft.confState().voters ?? []).join(','),
        events: run.sim.stats.events,
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
