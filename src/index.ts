/**
 * clusterkit public API. Each module is re-exported under a namespace-free name; internals
 * (anything not exported here or from `clusterkit/testing`) are not importable.
 */
export * from './core/index.ts';
export * from './balancing/index.ts';
