/**
 * The etcd-v3-like KV state machine (see docs/kv.md): public entry of the kv module.
 */
export type { Bytes } from './bytes.ts';
export { bytesEqual, compareBytes, fromBase64, prefixEnd, text, toBase64, utf8 } from './bytes.ts';
export { decodeEntry, decodeResult, encodeEntry, encodeResult } from './codec.ts';
export { KvError, unwrap } from './errors.ts';
export type { KvConfig, KvStatus } from './state-machine.ts';
export { KV_DEFAULTS, KvStateMachine } from './state-machine.ts';
export type * from './types.ts';
export type { KvLimits } from './validate.ts';
export { KV_LIMIT_DEFAULTS, parseEntry, validateCommand } from './validate.ts';
export type { WatchLimits } from './watch.ts';
export { WatchHub } from './watch.ts';
