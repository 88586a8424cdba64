/**
 * The scheduler's shared vocabulary (seed 04.2.1 master/worker, 04.3.1-04.3.3 cluster
 * management): workloads with a replica count and a resource request, task ids, worker
 * capacities, the desired-state change API common to all three topologies, and the timing
 * configuration with its units and the cross-field rules that make leases safe.
 *
 * Leaves out: affinity, taints, priorities and preemption (Kubernetes has them; the seed does not).
 */
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';

/** A replicated service: run `replicas` copies, each needing `cpuMilli` and `memoryMb`. */
export interface Workload {
  readonly name: string;
  readonly replicas: number;
  /** CPU request per replica, thousandths of a core. */
  readonly cpuMilli: number;
  /** Memory request per replica, MiB. */
  readonly memoryMb: number;
}

/** Resources a worker offers. */
export interface Capacity {
  readonly cpuMilli: number;
  readonly memoryMb: number;
}

/** `workload/index`: one replica. Indexes are never reused within a workload's lifetime. */
export type TaskId = string;

/** The desired-state API, the same for every topology (the Kubernetes API server's role). */
export type DesiredChange = { readonly op: 'put'; readonly workload: Workload } | { readonly op: 'delete'; readonly name: string };

export type PlacementStrategy = 'binpack' | 'spread';

export const WORKLOADS_MAX = 1000;
export const WORKLOAD_REPLICAS_MAX = 1000;
export const WORKERS_MAX = 10_000;
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function taskId(workload: string, index: number): TaskId {
  return `${workload}/${index}`;
}

export function workloadOf(task: TaskId): string {
  return task.slice(0, task.lastIndexOf('/'));
}

export function validateWorkload(w: Workload): void {
  if (!NAME_RE.test(w.name)) throw new ConfigError(`workload name ${JSON.stringify(w.name)} must be 1-63 characters of [a-z0-9-], starting with a letter or digit`);
  if (!Number.isSafeInteger(w.replicas) || w.replicas < 0 || w.replicas > WORKLOAD_REPLICAS_MAX) {
    throw new ConfigError(`workload ${w.name}: replicas must be an integer in [0, ${WORKLOAD_REPLICAS_MAX}], got ${w.replicas}`);
  }
  if (!Number.isSafeInteger(w.cpuMilli) || w.cpuMilli < 0) throw new ConfigError(`workload ${w.name}: cpuMilli must be a non-negative integer, got ${w.cpuMilli}`);
  if (!Number.isSafeInteger(w.memoryMb) || w.memoryMb < 0) throw new ConfigError(`workload ${w.name}: memoryMb must be a non-negative integer, got ${w.memoryMb}`);
}

export function validateChange(c: DesiredChange): void {
  if (c.op === 'put') validateWorkload(c.workload);
  else if (!NAME_RE.test(c.name)) throw new ConfigError(`workload name ${JSON.stringify(c.name)} is not valid`);
}

/** Timing of the master/worker protocol. All durations are virtual or real milliseconds. */
export interface SchedulerConfig {
  /** A worker sends a heartbeat (with its running tasks) this often. */
  heartbeatIntervalMs: number;
  /**
   * A worker keeps running its tasks only until `leaseMs` after sending the last heartbeat a
   * master acknowledged; then it stops them all (self-fencing, so that a worker cut off from the
   * master never runs a task the master has moved elsewhere).
   */
  leaseMs: number;
  /**
   * A master declares a worker lost after hearing nothing from it for this long (Kubernetes'
   * node-monitor-grace-period), and a new master or leader waits this long after it starts before
   * declaring anyone lost. Must exceed `leaseMs` plus `leaderStepDownMs`.
   */
  workerTimeoutMs: number;
  /**
   * Bound on how long a deposed leader may still believe it leads (hybrid only; 0 for a single
   * master). With Raft's CheckQuorum this is about two election timeouts.
   */
  leaderStepDownMs: number;
  /** The master re-plans this often. */
  scheduleIntervalMs: number;
  strategy: PlacementStrategy;
  /**
   * `'lease'`: workers stop their tasks when their lease runs out (at most one copy of a task
   * runs; the service depends on the control plane being up). `'none'`: workers keep running
   * what they were last told, like a kubelet cut off from its API server (the service survives a
   * control-plane outage; a cut-off worker's tasks can run twice once they are moved).
   */
  fencing: 'lease' | 'none';
}

export const DEFAULT_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  heartbeatIntervalMs: 100,
  leaseMs: 500,
  workerTimeoutMs: 1200,
  leaderStepDownMs: 500,
  scheduleIntervalMs: 100,
  strategy: 'spread',
  fencing: 'lease',
});

export function validateSchedulerConfig(c: SchedulerConfig): void {
  for (const k of ['heartbeatIntervalMs', 'leaseMs', 'workerTimeoutMs', 'scheduleIntervalMs'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] > 0)) throw new ConfigError(`scheduler ${k} must be a positive number of ms, got ${c[k]}`);
  }
  if (!(Number.isFinite(c.leaderStepDownMs) && c.leaderStepDownMs >= 0)) throw new ConfigError(`scheduler leaderStepDownMs must be >= 0 ms, got ${c.leaderStepDownMs}`);
  if (c.leaseMs <= 2 * c.heartbeatIntervalMs) {
    throw new ConfigError(`scheduler leaseMs (${c.leaseMs}) must exceed 2 × heartbeatIntervalMs (${2 * c.heartbeatIntervalMs}) or healthy workers fence themselves`);
  }
  if (c.fencing !== 'lease' && c.fencing !== 'none') throw new ConfigError(`scheduler fencing must be lease or none, got ${String(c.fencing)}`);
  if (c.fencing === 'lease' && c.workerTimeoutMs <= c.leaseMs + c.leaderStepDownMs) {
    throw new ConfigError(
      `scheduler workerTimeoutMs (${c.workerTimeoutMs}) must exceed leaseMs + leaderStepDownMs (${c.leaseMs + c.leaderStepDownMs}): otherwise a task can run twice`,
    );
  }
  if (c.strategy !== 'binpack' && c.strategy !== 'spread') throw new ConfigError(`scheduler strategy must be binpack or spread, got ${String(c.strategy)}`);
}

export function resolveSchedulerConfig(partial: Partial<SchedulerConfig> = {}): SchedulerConfig {
  const c = { ...DEFAULT_SCHEDULER_CONFIG, ...partial };
  validateSchedulerConfig(c);
  return c;
}

/** A worker as the master sees it. */
export interface WorkerInfo {
  readonly id: NodeId;
  readonly capacity: Capacity;
}
