/**
 * `clusterkit/testing`: the deterministic simulator, workload generators and checkers, for
 * testing clusterkit-based systems (and clusterkit itself) without real time or sockets.
 */
export * from './core/index.ts';
export type { MemClusterOptions, ObservedEvent } from './membership/swim/memcluster.ts';
export { MemCluster } from './membership/swim/memcluster.ts';
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
export type { MemoryNode } from './consensus/raft/memory-cluster.ts';
export { encodeText, MemoryCluster } from './consensus/raft/memory-cluster.ts';
export type { RangeSummary, TimeoutRange, TrialResult } from './scenarios/raft-election.ts';
export { electionTrial, FIGURE16_BOTTOM, FIGURE16_TOP, runElectionRange } from './scenarios/raft-election.ts';
export type { RaftKvMsg, RaftKvServerOptions } from './scenarios/raft-kv.ts';
export { RaftChecker, RaftKvClient, RaftKvServer } from './scenarios/raft-kv.ts';
export type { RaftRun } from './scenarios/raft-scenario.ts';
export { runRaft } from './scenarios/raft-scenario.ts';
export type { CausalKvMsg, CausalKvRun } from './scenarios/causal-kv-scenario.ts';
export { CausalKvNode, DeliveryRecorder, runCausalKv } from './scenarios/causal-kv-scenario.ts';
export type { CrdtMapMsg, CrdtMapRun } from './scenarios/crdt-map-scenario.ts';
export { CrdtMapNode, runCrdtMap } from './scenarios/crdt-map-scenario.ts';
export { settle, VirtualTime } from './registry/virtual-time.ts';
export type { PaxosKvMsg, PaxosKvServerOptions } from './scenarios/paxos-kv.ts';
export { PaxosChecker, PaxosKvClient, PaxosKvServer } from './scenarios/paxos-kv.ts';
export type { PaxosRun } from './scenarios/paxos-scenario.ts';
export { runPaxos } from './scenarios/paxos-scenario.ts';
export type { ChordRunResult } from './scenarios/chord-scenario.ts';
export { chordRingProblem, runChord } from './scenarios/chord-scenario.ts';
export type { FloodingRunResult } from './scenarios/flooding-scenario.ts';
export { runFlooding } from './scenarios/flooding-scenario.ts';
export type { KademliaRunResult } from './scenarios/kademlia-scenario.ts';
export { runKademlia } from './scenarios/kademlia-scenario.ts';
export type { SuperPeerRunResult } from './scenarios/superpeer-scenario.ts';
export { runSuperPeer, superPeerProblem } from './scenarios/superpeer-scenario.ts';
export type { ClusterMsg, HybridMasterOptions, TaskRunner } from './scenarios/cluster-hosts.ts';
export { CentralMasterNode, HybridMasterNode, PeerNode, WorkerNode } from './scenarios/cluster-hosts.ts';
export type { AvailabilityRunOptions, AvailabilityRunResult, ClusterRunOptions, ClusterRunResult, ClusterSetup, Topology } from './scenarios/cluster-scenario.ts';
export { bootCluster, ClusterHarness, ClusterSampler, defaultWorkloads, parseTopology, runCluster, runClusterAvailability, TOPOLOGIES } from './scenarios/cluster-scenario.ts';
