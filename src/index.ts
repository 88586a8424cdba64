/**
 * clusterkit public API. Each module is re-exported under a namespace-free name; internals
 * (anything not exported here or from `clusterkit/testing`) are not importable.
 */
export * from './core/index.ts';
export * from './balancing/index.ts';
export type { BackendConfig, HealthCheckConfig, HostPort, ProxyConfig } from './proxy/config.ts';
export { parseProxyConfigText, resolveProxyConfig } from './proxy/config.ts';
export type { Logger, ProxyDeps } from './proxy/server.ts';
export { ProxyServer } from './proxy/server.ts';
export type { Primary } from './proxy/workers.ts';
export { runPrimary, runWorker } from './proxy/workers.ts';
