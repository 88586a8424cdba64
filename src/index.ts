/**
 * clusterkit public API. Each module is re-exported under a namespace-free name; internals
 * (anything not exported here or from `clusterkit/testing`) are not importable.
 */
export * from './core/index.ts';
export * from './consistency/index.ts';
export * from './gossip/index.ts';
export * from './models/index.ts';
export * from './runtime/storage/index.ts';
export * from './runtime/transport/index.ts';
export * from './placement/index.ts';
export * from './consensus/raft/index.ts';
export * from './kv/index.ts';
export * from './membership/swim/index.ts';
export * from './runtime/swim/index.ts';
export * from './scheduler/index.ts';
