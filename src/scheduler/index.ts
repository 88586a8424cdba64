/**
 * Cluster management (seed 04.2.1, 04.3.1-04.3.4): desired state, the scheduler's state
 * machine, the master, worker and peer cores. Simulator hosts are in `clusterkit/testing`.
 */
export { MasterCore } from './master.ts';
export type { Ack, Heartbeat, WorkerMsg } from './messages.ts';
export type { DocEntry } from './peer.ts';
export { PeerCore } from './peer.ts';
export type { ClusterStateJson, StateCommand } from './state.ts';
export { ClusterState, changeToCommand } from './state.ts';
export type { Capacity, DesiredChange, PlacementStrategy, SchedulerConfig, TaskId, WorkerInfo, Workload } from './types.ts';
export {
  DEFAULT_SCHEDULER_CONFIG,
  WORKLOAD_REPLICAS_MAX,
  resolveSchedulerConfig,
  taskId,
  validateChange,
  validateSchedulerConfig,
  validateWorkload,
  WORKERS_MAX,
  WORKLOADS_MAX,
  workloadOf,
} from './types.ts';
export type { WorkerOptions } from './worker.ts';
export { WorkerCore } from './worker.ts';
