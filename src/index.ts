/**
 * clusterkit public API. Each module is re-exported under a namespace-free name; internals
 * (anything not exported here or from `clusterkit/testing`) are not importable.
 */
export * from './core/index.ts';
export * from './models/index.ts';
export * from './consensus/raft/index.ts';
export * from './runtime/storage/index.ts';
export * from './runtime/transport/index.ts';
export * from './kv/index.ts';
export type { KvNodeLogger, KvNodeOptions, KvNodeStatus, MemberInfo } from './kv/node.ts';
export { KvNode } from './kv/node.ts';
export type { KvHttpOptions } from './http/server.ts';
export { KvHttpServer } from './http/server.ts';
export type { GatewayClientOptions } from './http/client.ts';
export { GatewayClient, GatewayError } from './http/client.ts';
export { decodeRaftMessage, encodeRaftMessage, raftMessageCodec } from './runtime/raft-codec.ts';
export * from './placement/index.ts';
