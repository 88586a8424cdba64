export type {
  CausalBroadcastConfig,
  CausalBroadcastMessage,
  CausalBroadcastStats,
  CausalMessage,
  Delivery as CausalDelivery,
} from './causal-broadcast.ts';
export { CAUSAL_BROADCAST_DEFAULTS, CausalBroadcast } from './causal-broadcast.ts';
export type { KvPut } from './causal-kv.ts';
export { CausalKv } from './causal-kv.ts';
export type { CausalCheckResult, CausalLogEvent, ConvergenceResult, LwwWrite } from './checkers.ts';
export { checkCausalDelivery, checkConvergence, lwwMapLostUpdates } from './checkers.ts';
export type { GCounter } from './crdt/gcounter.ts';
export { GCounterType, gcounterIncrement, gcounterMerge, gcounterValue } from './crdt/gcounter.ts';
export type { LwwMap, LwwMapSlot } from './crdt/lww-map.ts';
export {
  lwwMapDelete,
  lwwMapEmpty,
  lwwMapEntries,
  lwwMapGet,
  lwwMapMerge,
  lwwMapMergeKey,
  lwwMapSet,
  lwwMapType,
} from './crdt/lww-map.ts';
export type { LwwRegister } from './crdt/lww-register.ts';
export { lwwEmpty, lwwMerge, lwwRegisterType, lwwSet, lwwValue } from './crdt/lww-register.ts';
export type { Dot, ORSet } from './crdt/orset.ts';
export { ORSetType, orsetAdd, orsetEmpty, orsetHas, orsetMerge, orsetRemove, orsetValues } from './crdt/orset.ts';
export type { PNCounter } from './crdt/pncounter.ts';
export { PNCounterType, pncounterAdd, pncounterMerge, pncounterValue } from './crdt/pncounter.ts';
export type { CrdtType } from './crdt/types.ts';
export { canonicalJson } from './crdt/types.ts';
export type { HlcConfig, HlcStamp, HlcTimestamp } from './hlc.ts';
export { ClockDriftError, compareHlc, compareHlcStamp, HLC_DEFAULTS, HybridLogicalClock } from './hlc.ts';
export type { LamportStamp } from './lamport.ts';
export { compareLamport, LamportClock } from './lamport.ts';
export type { MapDelta, MapDigest, ReplicatedMapConfig, ReplicatedMapMessage, ReplicatedMapStats } from './replicated-map.ts';
export { REPLICATED_MAP_DEFAULTS, ReplicatedMap } from './replicated-map.ts';
export type { Causality, VectorClock } from './vector-clock.ts';
export { vcCompare, vcEmpty, vcGet, vcIncrement, vcLeq, vcMerge, vcNormalize } from './vector-clock.ts';
