/**
 * Service discovery (seed 04.5): the registry, its stores, its HTTP API, client-side resolver.
 */
export type { RegistryAgentOptions } from './agent.ts';
export { RegistryAgent } from './agent.ts';
export type { HealthEntry, RegistryHttpOptions } from './http-api.ts';
export { RegistryHttpServer, toHealthEntry } from './http-api.ts';
export { MemoryStore } from './memory-store.ts';
export type { OpenStoreOptions } from './open-store.ts';
export { openStore, STORE_KINDS } from './open-store.ts';
export { NetProber } from './probe.ts';
export type {
  HealthQuery,
  HealthResult,
  Prober,
  ProbeResult,
  RegistryConfig,
  RegistryEvent,
  RegistryStats,
  SelfPreservationConfig,
} from './registry.ts';
export { Registry, REGISTRY_DEFAULTS } from './registry.ts';
export type { ResolvedEndpoint, ResolverOptions, ResolverStats } from './resolver.ts';
export { RegistryClient, RegistryRequestError, Resolver } from './resolver.ts';
export type { RegistryStore, StoreSnapshot } from './store.ts';
export type { CheckSpec, HealthStatus, InstanceRecord, InstanceSpec, ValidationLimits } from './types.ts';
export { parseRegistration, RegistrationError, VALIDATION_DEFAULTS } from './types.ts';
export type { EtcdStoreOptions } from './etcd-store.ts';
export { EtcdStore } from './etcd-store.ts';
export type { GatewayStoreOptions } from './gateway-store.ts';
export { GatewayStore } from './gateway-store.ts';
export type { GossipRecordMessage, GossipStoreOptions, GossipTransport } from './gossip-store.ts';
export { GossipHub, GossipStore, HttpGossipTransport } from './gossip-store.ts';
