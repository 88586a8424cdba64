/**
 * `clusterkit sim register`: the durable register server under the nemesis, with a client
 * workload. `--nodes` is the number of client nodes. Checks: the run converges after the faults
 * heal (every client operation completes) and the client history is linearizable, which fails if
 * an acknowledged write is lost in a crash or a reply exposes unsynced data.
 */
import type { Rng } from '../core/rng.ts';
import { checkLinearizable, linearizabilityVerdict } from '../sim/checkers/linearizability.ts';
import { historyToJsonLines } from '../sim/history.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import { KvWorkload } from '../sim/workload.ts';
import { RegisterClient, type RegisterMsg, RegisterServer, registerDriver } from './register.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export interface RegisterRun {
  sim: Simulator<RegisterMsg>;
  workload: KvWorkload<RegisterMsg>;
  server: () => RegisterServer | undefined;
  nemesis: Nemesis<RegisterMsg>;
  convergeMs: number;
}

export function runRegister(options: ScenarioOptions): RegisterRun {
  const unsafe = options.params.unsafe === 'true';
  const sim = new Simulator<RegisterMsg>({
    seed: options.seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    disk: { fsyncLatencyMs: { min: 1, max: 8 }, tornWrites: true, corruptTailRate: 0.2 },
    replayCommand: `clusterkit sim register --seed ${options.seed} --nodes ${options.nodes} --duration ${options.durationMs}ms --ops ${options.ops} --faults ${options.faults.join(',') || 'none'}${unsafe ? ' --set unsafe=true' : ''}`,
  });
  sim.addNode('s1', () => new RegisterServer({ unsafeAckBeforeFsync: unsafe }));
  const clients: string[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const id = `c${i}`;
    clients.push(id);
    sim.addNode(id, () => new RegisterClient('s1'));
  }
  const workload = new KvWorkload(
    sim,
    registerDriver((p) => sim.node(clients[p % clients.length] as string) as RegisterClient | undefined),
    { clients: options.nodes, keys: 3, opsMax: options.ops, thinkMeanMs: 10, opTimeoutMs: 200 },
  );
  const nemesis = new Nemesis(sim, {
    targets: ['s1', ...clients],
    faults: options.faults.filter((f) => f !== 'crash' && f !== 'pause'),
    custom: [
      ...(options.faults.includes('crash')
        ? [
            {
              name: 'crash-server',
              weight: 1,
              run: (rng: Rng) => {
                sim.crash('s1');
                sim.schedule(20 + rng.float() * 50, () => sim.restart('s1'));
              },
            },
          ]
        : []),
      ...(options.faults.includes('pause')
        ? [
            {
              name: 'pause-server',
              weight: 1,
              run: () => {
                sim.pause('s1');
                sim.schedule(30, () => sim.resume('s1'));
              },
            },
          ]
        : []),
    ],
    meanIntervalMs: 40,
    durationMs: { min: 10, max: 80 },
  });
  workload.start();
  const result = runPhases({
    sim,
    nemesis,
    safetyMs: options.durationMs,
    livenessMs: 10_000,
    converged: () => workload.finished,
    convergedDescription: 'every client operation completed',
  });
  return { sim, workload, server: () => sim.node('s1') as RegisterServer | undefined, nemesis, convergeMs: result.convergeMs };
}

export const registerScenario: Scenario = {
  name: 'register',
  description: 'A durable single-server register with group commit under the nemesis (exercises network, disk and crash faults).',
  defaults: { nodes: 3, durationMs: 2000, ops: 200, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const run = runRegister(options);
    const counts = run.workload.counts();
    const history = run.workload.history();
    const check = checkLinearizable(history);
    const ok = check.outcome === 'linearizable';
    const why = linearizabilityVerdict(check);
    return {
      ok,
      seed: options.seed,
      headline: `register: ${run.workload.invokedCount} ops (${counts.ok} ok, ${counts.fail} fail, ${counts.info} info), ${run.sim.stats.crashes} crashes, converged ${run.convergeMs.toFixed(1)} ms after heal, history ${check.outcome}${why}${ok ? '' : `\n  replay: ${run.sim.failure('').message.split('replay: ')[1] ?? ''}`}`,
      summary: {
        ops: run.workload.invokedCount,
        ok: counts.ok,
        fail: counts.fail,
        info: counts.info,
        crashes: run.sim.stats.crashes,
        events: run.sim.stats.events,
        virtualMs: Math.round(run.sim.now()),
        messagesDelivered: run.sim.stats.messagesDelivered,
        dropped: run.sim.stats.droppedLoss + run.sim.stats.droppedPartition + run.sim.stats.droppedDown,
        convergeMs: Number(run.convergeMs.toFixed(3)),
        linearizable: check.outcome,
        traceHash: run.sim.traceHash().slice(0, 16),
      },
      details: run.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
      historyJsonLines: historyToJsonLines(history),
    };
  },
};
