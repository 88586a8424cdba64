export { assert, AssertionError, unreachable } from './assert.ts';
export type { Clock, Timers, TimerHandle } from './clock.ts';
export { ManualClock, RealClock, RealTimers } from './clock.ts';
export type { ErrorCode } from './errors.ts';
export {
  ClusterkitError,
  ConfigError,
  CorruptionError,
  DefiniteError,
  IndefiniteError,
  InvalidArgumentError,
  TimeoutError,
  isDefinite,
} from './errors.ts';
export type { NodeId } from './ids.ts';
export { compareNodeIds, defaultNodeIds, isNodeId, parseNodeId } from './ids.ts';
export type { Rng } from './rng.ts';
export { createRng, fnv1a32, Xoshiro128 } from './rng.ts';
export { crc32c, crc32cBytewise } from './checksum.ts';
