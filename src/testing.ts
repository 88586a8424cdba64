/**
 * `clusterkit/testing`: the deterministic simulator, workload generators and checkers, for
 * testing clusterkit-based systems (and clusterkit itself) without real time or sockets.
 */
export * from './core/index.ts';
export * from './sim/index.ts';
export type { Scenario, ScenarioOptions, ScenarioResult } from './scenarios/index.ts';
export { findScenario, SCENARIOS } from './scenarios/index.ts';
export type {
  KeyReport,
  LinearizabilityOptions,
  LinearizabilityResult,
  NonLinearizableExplanation,
} from './sim/checkers/linearizability.ts';
export { checkLinearizable, checkOperations, LINEARIZABILITY_DEFAULTS } from './sim/checkers/linearizability.ts';
export type { KvOperation, OperationStatus } from './sim/checkers/operations.ts';
export { describeOperation, HistoryFormatError, pairOperations } from './sim/checkers/operations.ts';
export type { RegisterWorkloadOptions } from './sim/checkers/register-workload.ts';
export { corruptRead, generateRegisterHistory } from './sim/checkers/register-workload.ts';
export { historyFromJsonLines, parseEventLine } from './sim/history-parse.ts';
export type { CausalKvMsg, CausalKvRun } from './scenarios/causal-kv-scenario.ts';
export { CausalKvNode, DeliveryRecorder, runCausalKv } from './scenarios/causal-kv-scenario.ts';
export type { CrdtMapMsg, CrdtMapRun } from './scenarios/crdt-map-scenario.ts';
export { CrdtMapNode, runCrdtMap } from './scenarios/crdt-map-scenario.ts';
export { settle, VirtualTime } from './registry/virtual-time.ts';
