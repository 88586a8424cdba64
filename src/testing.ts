/**
 * `clusterkit/testing`: the deterministic simulator, workload generators and checkers, for
 * testing clusterkit-based systems (and clusterkit itself) without real time or sockets.
 */
export * from './core/index.ts';
export type { MemClusterOptions, ObservedEvent } from './membership/swim/memcluster.ts';
export { MemCluster } from './membership/swim/memcluster.ts';
