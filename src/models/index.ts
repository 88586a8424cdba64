/**
 * models/: the seed's closed-form models (availability, connectivity, discovery latency, gossip
 * rounds, quorum arithmetic, consistency conditions, load-balancing formulas), the quorum-aware
 * models that replace the naive ones, Monte Carlo checks, and the advisor. Depends on core only.
 * Validation helpers stay internal.
 */
export type { AvailabilityRow, ClusterSpec, HybridQuorumSpec, ReplicaRule, StackedQuorumSpec } from './availability.ts';
export { atLeastKOfN, availabilityFromMtbf, centralAvailability, compareAvailability, downtimeMinutesPerYear, fewerThanKOfN, generalClusterAvailability, hybridAvailability, hybridQuorumAvailability, majorityOf, majorityQuorumAvailability, nines, parallelAvailability, parallelUnavailability, replicasForTarget, replicationAvailability, sameAvailability, seriesAvailability, stackedQuorumAvailability, upCountDistribution } from './availability.ts';
export type { GraphTopologyName, GraphTopologyParams, PathStats, UndirectedGraph } from './connectivity.ts';
export { GRAPH_NODES_MAX, GRAPH_TOPOLOGIES, bfsDistances, chainGraph, componentCount, connectivityDensity, defaultDegree, defaultEdgeProbability, defaultNeighbours, edgeCount, erdosRenyiGraph, expectedDensity, fullGraph, generateTopology, graphFromEdges, isConnected, isGraphTopologyName, pathStats, randomRegularGraph, ringGraph, smallWorldGraph, starGraph } from './connectivity.ts';
export type { DiscoveryComparisonRow, DiscoveryInputs, DiscoveryLatency, DiscoveryModel, LatencyRating } from './discovery.ts';
export { DEFAULT_DISCOVERY_INPUTS, DISCOVERY_MODELS, DISCOVERY_TECHNOLOGIES, SEED_DISCOVERY_TABLE, compareDiscovery, discoveryLatency, rateLatency } from './discovery.ts';
export type { GossipEstimate, GossipRoundsMode } from './gossip.ts';
export { GOSSIP_NODES_MAX, GOSSIP_ROUNDS_MAX, GOSSIP_ROUNDS_MODES, estimateGossipRounds, gossipRoundsAsymptotic, gossipRoundsMeanField, rumorResidue, rumorTraffic, simulateGossipRounds } from './gossip.ts';
export type { FlexibleQuorum, LastLogPosition, QuorumSummary } from './quorum.ts';
export { QUORUM_NODES_MAX, flexibleQuorum, flexibleQuorumChoices, isAtLeastAsUpToDate, isCommitted, mostUpToDate, possibleLeaders, quorumsIntersect, summarizeQuorum, toleratedFailures } from './quorum.ts';
export { WEIGHT_SUM_MAX, consistentHashIndex, leastConnectionsIndex, roundRobinIndex, roundRobinSeed, seedWeightedArgmax, weightedRoundRobinIndex, weightedShare } from './loadBalancing.ts';
export type { AvailabilityStructure, MonteCarloOptions, MonteCarloResult, NodeReliability } from './monteCarlo.ts';
export { MONTE_CARLO_EVENTS_MAX, monteCarloAvailability, normalQuantile, structureAvailability, studentTQuantile } from './monteCarlo.ts';
export { causalConditionHolds, eventualConvergenceIndex, replicaStatesAgree, strongConditionHolds } from './consistency.ts';
export type { Advice, AdvisorChoice, AdvisorRequirements, ClusterScale, ConsistencyNeed, TopologyCandidate, TopologyCandidateKind, WorkloadKind } from './advisor.ts';
export { ADVISOR_NODES_MAX, CONSISTENCY_NEEDS, LARGE_CLUSTER_NODES_MIN, RAFT_VOTERS_MAX, ADVISOR_SCALES, ADVISOR_WORKLOADS, advise, candidateStructure } from './advisor.ts';
