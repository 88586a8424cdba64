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
export * from './consensus/paxos/index.ts';
export * from './kv/index.ts';
export * from './membership/swim/index.ts';
export * from './overlay/index.ts';
export * from './runtime/swim/index.ts';
export * from './balancing/index.ts';
export type { BackendConfig, HealthCheckConfig, HostPort, ProxyConfig } from './proxy/config.ts';
export { parseProxyConfigText, resolveProxyConfig } from './proxy/config.ts';
export type { Logger, ProxyDeps } from './proxy/server.ts';
export { ProxyServer } from './proxy/server.ts';
export type { Primary } from './proxy/workers.ts';
export { runPrimary, runWorker } from './proxy/workers.ts';
export * from './registry/index.ts';
export * from './dns/index.ts';
export type { KvNodeLogger, KvNodeOptions, KvNodeStatus, MemberInfo } from './kv/node.ts';
export { KvNode } from './kv/node.ts';
export type { KvHttpOptions } from './http/server.ts';
export { KvHttpServer } from './http/server.ts';
export type { GatewayClientOptions } from './http/client.ts';
export { GatewayClient, GatewayError } from './http/client.ts';
export { decodeRaftMessage, encodeRaftMessage, raftMessageCodec } from './runtime/raft-codec.ts';
export * from './scheduler/index.ts';
