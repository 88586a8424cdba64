/**
 * Cluster management under the nemesis, in the seed's three topologies (04.3.1 centralized,
 * 04.3.2 distributed, 04.3.3 hybrid), with one checker for all of them:
 *
 * - safety (after every event): with a master (central, hybrid) no task runs on two workers at
 *   once and no worker runs more than its capacity; the hybrid masters' Raft invariants hold.
 *   The distributed topology allows transient duplicates while membership views disagree: they
 *   are measured (task-milliseconds) and must be gone once views converge.
 * - liveness: after every fault heals, every workload in the control plane's desired state runs
 *   exactly its replica count on live nodes with no duplicates; then a final change is accepted
 *   and carried out.
 * - measurement: fraction of time every workload had its replicas running (service
 *   availability) and fraction of time the control plane could accept a change.
 *
 * `runClusterAvailability` replaces the nemesis by independent fail/repair of every node with
 * exponential up times (mean MTBF) and down times (mean MTTR): the measured side of seed 04.3.4.
 */
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import { lanConfig, fastConfig, type SwimConfig } from '../membership/swim/config.ts';
import { type Capacity, type DesiredChange, resolveSchedulerConfig, type SchedulerConfig, type TaskId, type Workload, workloadOf } from '../scheduler/types.ts';
import type { ClusterState } from '../scheduler/state.ts';
import { CentralMasterNode, type ClusterMsg, HybridMasterNode, PeerNode, type TaskRunner, WorkerNode } from './cluster-hosts.ts';
import { Nemesis } from '../sim/nemesis.ts';
import { runPhases } from '../sim/run.ts';
import { Simulator } from '../sim/simulator.ts';
import { RaftChecker } from './raft-kv.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export type Topology = 'central' | 'hybrid' | 'distributed';
export const TOPOLOGIES: readonly Topology[] = ['central', 'hybrid', 'distributed'];

export function parseTopology(value: string): Topology {
  if ((TOPOLOGIES as readonly string[]).includes(value)) return value as Topology;
  throw new ConfigError(`topology must be one of ${TOPOLOGIES.join(', ')}, got ${JSON.stringify(value)}`);
}

export const WORKER_CAPACITY: Capacity = { cpuMilli: 4000, memoryMb: 8192 };
const RAFT_TICK_MS = 10;
const SAMPLE_MS = 10;

/** The initial desired state for `workers` workers: it fits in about a third of the capacity. */
export function defaultWorkloads(workers: number): Workload[] {
  return [
    { name: 'web', replicas: Math.max(1, workers), cpuMilli: 500, memoryMb: 512 },
    { name: 'api', replicas: Math.max(1, Math.ceil(workers / 2)), cpuMilli: 1000, memoryMb: 1024 },
    { name: 'batch', replicas: 2, cpuMilli: 2000, memoryMb: 2048 },
  ];
}

export interface ClusterSetup {
  topology: Topology;
  seed: number;
  /** Workers (central, hybrid) or peers (distributed). */
  workers: number;
  /** Masters of the hybrid topology (odd, >= 1). */
  masters: number;
  config?: Partial<SchedulerConfig>;
  swim?: SwimConfig;
  replayCommand?: string;
  /**
   * Deliberately broken timing that skips validation (tests use it to show the checker catches
   * what `validateSchedulerConfig` prevents, e.g. a lease longer than the worker timeout).
   */
  unsafeConfig?: SchedulerConfig;
  /** Deliberately broken: the central master never fsyncs its state. */
  unsafeNoFsync?: boolean;
}

/** A built cluster: the simulator, the node ids by role, and the common probes. */
export class ClusterHarness {
  readonly sim: Simulator<ClusterMsg>;
  readonly topology: Topology;
  readonly masterIds: NodeId[];
  readonly workerIds: NodeId[];
  readonly config: SchedulerConfig;
  readonly raftChecker = new RaftChecker();
  /** Workload specs ever submitted (requests never change in these runs), for the capacity check. */
  readonly specs = new Map<string, Workload>();

  constructor(setup: ClusterSetup) {
    this.topology = setup.topology;
    if (!Number.isSafeInteger(setup.workers) || setup.workers < 1 || setup.workers > 64) throw new ConfigError(`--nodes (workers) must be an integer in [1, 64], got ${setup.workers}`);
    if (!Number.isSafeInteger(setup.masters) || setup.masters < 1 || setup.masters > 9) throw new ConfigError(`masters must be an integer in [1, 9], got ${setup.masters}`);
    const electionTicks = 10;
    // Deposed leader bound with CheckQuorum: about two (randomised) election timeouts.
    const stepDown = setup.topology === 'hybrid' ? 2 * 2 * electionTicks * RAFT_TICK_MS + 100 : 0;
    this.config = setup.unsafeConfig ?? resolveSchedulerConfig({ leaderStepDownMs: stepDown, ...setup.config });
    this.sim = new Simulator<ClusterMsg>({
      seed: setup.seed,
      network: { latencyMs: { min: 1, max: 5 } },
      ...(setup.replayCommand !== undefined ? { replayCommand: setup.replayCommand } : {}),
    });
    const cfg = this.config;
    if (setup.topology === 'distributed') {
      this.masterIds = [];
      this.workerIds = Array.from({ length: setup.workers }, (_, i) => `p${i + 1}`);
      const swim = setup.swim ?? fastConfig();
      const seeds = this.workerIds.slice(0, 2);
      for (const id of this.workerIds) this.sim.addNode(id, () => new PeerNode(swim, seeds, 200));
      return;
    }
    this.masterIds = setup.topology === 'central' ? ['m1'] : Array.from({ length: setup.masters }, (_, i) => `m${i + 1}`);
    this.workerIds = Array.from({ length: setup.workers }, (_, i) => `w${i + 1}`);
    if (setup.topology === 'central') {
      const noFsync = setup.unsafeNoFsync === true;
      this.sim.addNode('m1', () => new CentralMasterNode(cfg, noFsync));
    } else {
      const bootstrap = { voters: [...this.masterIds], learners: [], votersOutgoing: [], learnersNext: [] };
      for (const id of this.masterIds) {
        this.sim.addNode(id, () => new HybridMasterNode({ bootstrap, raft: { electionTimeoutTicks: electionTicks }, tickMs: RAFT_TICK_MS, config: cfg, checker: this.raftChecker }));
      }
    }
    for (const id of this.workerIds) this.sim.addNode(id, () => new WorkerNode(WORKER_CAPACITY, this.masterIds, cfg));
  }

  /** Nodes that can take part right now (up and not paused). */
  isLive(id: NodeId): boolean {
    return this.sim.isUp(id) && !this.sim.isPaused(id);
  }

  /** task -> the live nodes running it. */
  runningMap(): Map<TaskId, NodeId[]> {
    const now = this.sim.now();
    const out = new Map<TaskId, NodeId[]>();
    for (const id of this.workerIds) {
      if (!this.isLive(id)) continue;
      const n = this.sim.node(id) as (TaskRunner & object) | undefined;
      if (n === undefined) continue;
      for (const t of n.running(now)) {
        const list = out.get(t);
        if (list === undefined) out.set(t, [id]);
        else list.push(id);
      }
    }
    return out;
  }

  /** The control plane node that would accept a change now, if any. */
  controlPlane(): CentralMasterNode | HybridMasterNode | PeerNode | undefined {
    if (this.topology === 'distributed') {
      const up = this.workerIds.filter((id) => this.isLive(id));
      return up.length > 0 ? (this.sim.node(up[0] as NodeId) as PeerNode) : undefined;
    }
    if (this.topology === 'central') return this.isLive('m1') ? (this.sim.node('m1') as CentralMasterNode) : undefined;
    const liveMasters = this.masterIds.filter((id) => this.isLive(id));
    if (2 * liveMasters.length <= this.masterIds.length) return undefined;
    for (const id of liveMasters) {
      const m = this.sim.node(id) as HybridMasterNode;
      if (m.serving && m.master.active) return m;
    }
    return undefined;
  }

  /** Desired workloads as the control plane holds them now (undefined if none can answer). */
  desired(): Workload[] | undefined {
    const cp = this.controlPlane();
    if (cp === undefined) return undefined;
    if (cp instanceof PeerNode) return cp.core.workloads();
    return [...(cp.state as ClusterState).workloads.values()];
  }

  /** Submits through whichever control-plane node can take it; false when none can. */
  submit(change: DesiredChange): boolean {
    if (change.op === 'put') this.specs.set(change.workload.name, change.workload);
    if (this.topology === 'distributed') {
      const up = this.workerIds.filter((id) => this.isLive(id));
      if (up.length === 0) return false;
      const id = this.sim.rng.fork(`submit-${this.sim.now()}`).pick(up);
      return (this.sim.node(id) as PeerNode).submit(change);
    }
    const cp = this.controlPlane();
    return cp !== undefined && !(cp instanceof PeerNode) && cp.submit(change);
  }

  /** True when every workload of `workloads` has at least its replicas running. */
  serviceUp(workloads: readonly Workload[], running: Map<TaskId, NodeId[]>): boolean {
    const count = new Map<string, number>();
    for (const t of running.keys()) count.set(workloadOf(t), (count.get(workloadOf(t)) ?? 0) + 1);
    return workloads.every((w) => (count.get(w.name) ?? 0) >= w.replicas);
  }

  /** Distributed peers decide alone, and unfenced workers outlive their master's view: both may duplicate. */
  get duplicatesAllowed(): boolean {
    return this.topology === 'distributed' || this.config.fencing === 'none';
  }

  /** Safety violations visible now (duplicates only where the topology forbids them). */
  violation(): string | undefined {
    if (this.raftChecker.violation !== undefined) return this.raftChecker.violation;
    if (this.topology === 'distributed') return this.distributedViolation();
    const running = this.runningMap();
    if (!this.duplicatesAllowed) for (const [t, nodes] of running) if (nodes.length > 1) return `task ${t} runs on ${nodes.join(' and ')}`;
    const used = new Map<NodeId, { cpu: number; mem: number }>();
    for (const [t, nodes] of running) {
      const w = this.specs.get(workloadOf(t));
      if (w === undefined) continue;
      for (const n of nodes) {
        const u = used.get(n) ?? { cpu: 0, mem: 0 };
        u.cpu += w.cpuMilli;
        u.mem += w.memoryMb;
        used.set(n, u);
      }
    }
    for (const [n, u] of used) {
      if (u.cpu > WORKER_CAPACITY.cpuMilli || u.mem > WORKER_CAPACITY.memoryMb) return `worker ${n} runs ${u.cpu}m CPU / ${u.mem} MiB, over its capacity`;
    }
    return undefined;
  }

  /**
   * The distributed bound: a task has exactly one owner for any one view, so a duplicate is
   * only allowed while the live peers' views disagree.
   */
  private distributedViolation(): string | undefined {
    const running = this.runningMap();
    const dup = [...running].find(([, nodes]) => nodes.length > 1);
    if (dup === undefined) return undefined;
    const live = this.workerIds.filter((id) => this.isLive(id));
    const views = new Set(live.map((id) => [...(this.sim.node(id) as PeerNode).liveView()].sort().join(',')));
    return views.size > 1 ? undefined : `task ${dup[0]} runs on ${dup[1].join(' and ')} although every live peer has the same view`;
  }

  /**
   * Converged: the control plane answers, every node agrees on the desired state (distributed),
   * every desired workload runs exactly its replicas, nothing else runs, nothing runs twice.
   */
  converged(): boolean {
    const desired = this.desired();
    if (desired === undefined) return false;
    if (this.topology === 'distributed') {
      const live = this.workerIds.filter((id) => this.isLive(id));
      const docs = new Set(live.map((id) => JSON.stringify((this.sim.node(id) as PeerNode).core.entries())));
      if (docs.size !== 1) return false;
      const want = [...live].sort().join(',');
      for (const id of live) if ([...(this.sim.node(id) as PeerNode).liveView()].sort().join(',') !== want) return false;
    }
    const running = this.runningMap();
    const byName = new Map(desired.map((w) => [w.name, w]));
    const count = new Map<string, number>();
    for (const [t, nodes] of running) {
      if (nodes.length !== 1 || !byName.has(workloadOf(t))) return false;
      count.set(workloadOf(t), (count.get(workloadOf(t)) ?? 0) + 1);
    }
    return desired.every((w) => (count.get(w.name) ?? 0) === w.replicas);
  }
}

/** Time-weighted figures sampled every 10 ms of virtual time. */
export class ClusterSampler {
  samples = 0;
  serviceUpSamples = 0;
  controlUpSamples = 0;
  allUpSamples = 0;
  duplicateTaskMs = 0;
  /** Longest time one task ran on more than one node without a break, ms (sampled). */
  duplicateEpisodeMaxMs = 0;
  private readonly duplicatedSince = new Map<TaskId, number>();
  private running = true;

  constructor(
    private readonly h: ClusterHarness,
    private readonly reference: () => readonly Workload[] | undefined,
  ) {
    h.sim.schedule(SAMPLE_MS, () => this.sample());
  }

  stop(): void {
    this.running = false;
  }

  private sample(): void {
    if (!this.running) return;
    const h = this.h;
    const running = h.runningMap();
    const ref = this.reference();
    this.samples++;
    if (ref !== undefined && h.serviceUp(ref, running)) this.serviceUpSamples++;
    if (h.controlPlane() !== undefined) this.controlUpSamples++;
    if ([...h.masterIds, ...h.workerIds].every((id) => h.isLive(id))) this.allUpSamples++;
    const now = h.sim.now();
    for (const [t, nodes] of running) {
      if (nodes.length < 2) continue;
      this.duplicateTaskMs += (nodes.length - 1) * SAMPLE_MS;
      if (!this.duplicatedSince.has(t)) this.duplicatedSince.set(t, now);
    }
    for (const [t, since] of [...this.duplicatedSince]) {
      if ((running.get(t)?.length ?? 0) > 1) this.duplicateEpisodeMaxMs = Math.max(this.duplicateEpisodeMaxMs, now - since + SAMPLE_MS);
      else this.duplicatedSince.delete(t);
    }
    h.sim.schedule(SAMPLE_MS, () => this.sample());
  }

  get serviceAvailability(): number {
    return this.samples === 0 ? 0 : this.serviceUpSamples / this.samples;
  }

  get controlPlaneAvailability(): number {
    return this.samples === 0 ? 0 : this.controlUpSamples / this.samples;
  }

  get allNodesUpFraction(): number {
    return this.samples === 0 ? 0 : this.allUpSamples / this.samples;
  }
}

/**
 * Boots the cluster and submits the initial workloads (again every 200 ms until the control plane
 * holds them: a hybrid proposal can be lost in an election); throws if it does not settle.
 */
export function bootCluster(h: ClusterHarness, workloads: readonly Workload[]): void {
  let lastTryMs = Number.NEGATIVE_INFINITY;
  const ok = h.sim.runUntil(() => {
    const held = new Map((h.desired() ?? []).map((w) => [w.name, w.replicas]));
    const missing = workloads.filter((w) => held.get(w.name) !== w.replicas);
    if (missing.length > 0 && h.sim.now() - lastTryMs >= 200) {
      lastTryMs = h.sim.now();
      for (const w of missing) h.submit({ op: 'put', workload: w });
    }
    return missing.length === 0 && h.converged();
  }, 30_000);
  if (!ok) throw h.sim.failure(`cluster (${h.topology}) did not reach its initial desired state within 30 s`);
}

export interface ClusterRunOptions extends ScenarioOptions {
  topology: Topology;
  masters: number;
  config?: Partial<SchedulerConfig>;
  unsafeConfig?: SchedulerConfig;
  unsafeNoFsync?: boolean;
  faultIntervalMs?: number;
}

export interface ClusterRunResult {
  harness: ClusterHarness;
  nemesis: Nemesis<ClusterMsg>;
  sampler: ClusterSampler;
  convergeMs: number;
  finalChangeMs: number;
  changesAccepted: number;
  changesRejected: number;
  lostDeclared: number;
  fences: number;
}

export function runCluster(o: ClusterRunOptions): ClusterRunResult {
  const h = new ClusterHarness({
    topology: o.topology,
    seed: o.seed,
    workers: o.nodes,
    masters: o.masters,
    ...(o.config !== undefined ? { config: o.config } : {}),
    ...(o.unsafeConfig !== undefined ? { unsafeConfig: o.unsafeConfig } : {}),
    ...(o.unsafeNoFsync === true ? { unsafeNoFsync: true } : {}),
    replayCommand: `clusterkit sim cluster --seed ${o.seed} --nodes ${o.nodes} --duration ${o.durationMs}ms --faults ${o.faults.join(',') || 'none'} --set topology=${o.topology}`,
  });
  h.sim.addInvariant('cluster safety', () => h.violation());
  const initial = defaultWorkloads(o.nodes);
  bootCluster(h, initial);
  let reference: readonly Workload[] = initial;
  const sampler = new ClusterSampler(h, () => {
    const d = h.desired();
    if (d !== undefined) reference = d;
    return reference;
  });
  let accepted = 0;
  let rejected = 0;
  /** Replica count of each workload's last accepted change (durable at once with one master). */
  const lastAccepted = new Map<string, number>(initial.map((w) => [w.name, w.replicas]));
  const scaleRng = h.sim.rng.fork('scale');
  const nemesis = new Nemesis(h.sim, {
    faults: o.faults,
    meanIntervalMs: o.faultIntervalMs ?? 1000,
    durationMs: { min: 200, max: 3000 },
    custom: [
      {
        name: 'scale',
        weight: 1,
        run: () => {
          const base = initial[scaleRng.int(initial.length)] as Workload;
          const replicas = 1 + scaleRng.int(base.replicas + 2);
          if (h.submit({ op: 'put', workload: { ...base, replicas } })) {
            accepted++;
            lastAccepted.set(base.name, replicas);
          }
          else rejected++;
        },
      },
    ],
  });
  const phases = runPhases({
    sim: h.sim,
    nemesis,
    safetyMs: o.durationMs,
    livenessMs: 60_000,
    converged: () => h.converged(),
    convergedDescription: 'every desired workload runs exactly its replicas, once each, on live nodes',
  });
  // The control plane must accept and carry out a change after the heal.
  const web = initial[0] as Workload;
  const target = { ...web, replicas: web.replicas + 1 };
  const start = h.sim.now();
  let lastTry = Number.NEGATIVE_INFINITY;
  const done = h.sim.runUntil(() => {
    const d = h.desired();
    const has = d?.some((w) => w.name === 'web' && w.replicas === target.replicas) ?? false;
    if (!has && h.sim.now() - lastTry >= 500) {
      lastTry = h.sim.now();
      if (h.submit({ op: 'put', workload: target })) lastAccepted.set(target.name, target.replicas);
    }
    return has && h.converged();
  }, 30_000);
  if (!done) throw h.sim.failure('liveness: a change submitted after the heal was not carried out within 30 s');
  // Durability: no workload may vanish (the nemesis only scales), and a single master acknowledges
  // a change only once it is on disk, so its final state holds every workload's last accepted change.
  const final = new Map((h.desired() ?? []).map((w) => [w.name, w.replicas]));
  for (const [name, replicas] of lastAccepted) {
    const got = final.get(name);
    if (got === undefined) throw h.sim.failure(`durability: workload ${name} is gone from the desired state`);
    if (o.topology === 'central' && got !== replicas) throw h.sim.failure(`durability: ${name} has ${got} replicas, its last accepted change said ${replicas}`);
  }
  sampler.stop();
  let lost = 0;
  let fences = 0;
  for (const id of h.masterIds) {
    const n = h.sim.node(id) as CentralMasterNode | HybridMasterNode | undefined;
    if (n !== undefined) lost += n.master.lost;
  }
  for (const id of h.workerIds) {
    const n = h.sim.node(id);
    if (n instanceof WorkerNode) fences += n.core.fences;
  }
  return {
    harness: h,
    nemesis,
    sampler,
    convergeMs: phases.convergeMs,
    finalChangeMs: h.sim.now() - start,
    changesAccepted: accepted,
    changesRejected: rejected,
    lostDeclared: lost,
    fences,
  };
}

export interface AvailabilityRunOptions {
  topology: Topology;
  seed: number;
  workers: number;
  masters: number;
  /** Mean time between failures of every node, ms of virtual time. */
  mtbfMs: number;
  /** Mean time to repair, ms of virtual time. */
  mttrMs: number;
  /** Measured span after boot, ms of virtual time. */
  durationMs: number;
  config?: Partial<SchedulerConfig>;
}

export interface AvailabilityRunResult {
  serviceAvailability: number;
  controlPlaneAvailability: number;
  allNodesUpFraction: number;
  duplicateTaskMs: number;
  failures: number;
}

/** Independent fail/repair of every node (exponential up and down times); measures the fractions. */
export function runClusterAvailability(o: AvailabilityRunOptions): AvailabilityRunResult {
  if (!(o.mtbfMs > 0 && o.mttrMs > 0 && o.durationMs > 0)) throw new ConfigError('mtbfMs, mttrMs and durationMs must be > 0');
  const h = new ClusterHarness({ topology: o.topology, seed: o.seed, workers: o.workers, masters: o.masters, ...(o.config !== undefined ? { config: o.config } : {}), swim: o.topology === 'distributed' ? fastConfig() : lanConfig() });
  h.sim.addInvariant('cluster safety', () => h.violation());
  const workloads = defaultWorkloads(o.workers);
  bootCluster(h, workloads);
  const rng = h.sim.rng.fork('fail-repair');
  let failures = 0;
  const cycle = (id: NodeId): void => {
    h.sim.schedule(rng.exponential(o.mtbfMs), () => {
      h.sim.crash(id);
      failures++;
      h.sim.schedule(rng.exponential(o.mttrMs), () => {
        h.sim.restart(id);
        cycle(id);
      });
    });
  };
  for (const id of [...h.masterIds, ...h.workerIds]) cycle(id);
  const sampler = new ClusterSampler(h, () => workloads);
  h.sim.runFor(o.durationMs);
  sampler.stop();
  return {
    serviceAvailability: sampler.serviceAvailability,
    controlPlaneAvailability: sampler.controlPlaneAvailability,
    allNodesUpFraction: sampler.allNodesUpFraction,
    duplicateTaskMs: sampler.duplicateTaskMs,
    failures,
  };
}

export const clusterScenario: Scenario = {
  name: 'cluster',
  description:
    'Master/worker cluster management (--set topology=central|hybrid|distributed, masters=3, fencing=lease|none): workloads keep their replicas through faults, no task runs twice where a master decides, convergence after heal.',
  defaults: { nodes: 5, durationMs: 20_000, ops: 0, faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'] },
  run(options: ScenarioOptions): ScenarioResult {
    const topology = parseTopology(options.params.topology ?? 'central');
    const masters = Number(options.params.masters ?? '3');
    const fencing = options.params.fencing ?? 'lease';
    if (fencing !== 'lease' && fencing !== 'none') throw new ConfigError(`--set fencing must be lease or none, got ${JSON.stringify(fencing)}`);
    const r = runCluster({ ...options, topology, masters, config: { fencing } });
    const s = r.sampler;
    return {
      ok: true,
      seed: options.seed,
      headline: `cluster ${topology}: ${options.nodes} ${topology === 'distributed' ? 'peers' : 'workers'}, ${r.nemesis.log.length} faults, service up ${(100 * s.serviceAvailability).toFixed(1)}% of the time, control plane ${(100 * s.controlPlaneAvailability).toFixed(1)}%, duplicates ${s.duplicateTaskMs} task-ms, converged ${r.convergeMs.toFixed(0)} ms after heal`,
      summary: {
        topology,
        nodes: options.nodes,
        faults: r.nemesis.log.length,
        serviceAvailability: Number(s.serviceAvailability.toFixed(4)),
        controlPlaneAvailability: Number(s.controlPlaneAvailability.toFixed(4)),
        duplicateTaskMs: s.duplicateTaskMs,
        duplicateEpisodeMaxMs: Math.round(s.duplicateEpisodeMaxMs),
        changesAccepted: r.changesAccepted,
        changesRejected: r.changesRejected,
        workersDeclaredLost: r.lostDeclared,
        leaseFences: r.fences,
        convergeMs: Math.round(r.convergeMs),
        finalChangeMs: Math.round(r.finalChangeMs),
        events: r.harness.sim.stats.events,
        traceHash: r.harness.sim.traceHash().slice(0, 16),
      },
      details: r.nemesis.log.map(([t, what]) => `${t.toFixed(1)} ms  ${what}`),
    };
  },
};
