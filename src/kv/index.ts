/**
 * The etcd-v3-like KV state machine (see docs/kv.md): public entry of the kv module. Names that
 * are generic outside this module carry a `Kv` prefix in the public API.
 */
export type { Bytes as KvBytes } from './bytes.ts';
export { bytesEqual, compareBytes, fromBase64, prefixEnd, text as utf8Text, toBase64, utf8 as utf8Bytes } from './bytes.ts';
export { decodeEntry, decodeResult, encodeEntry, encodeResult } from './codec.ts';
export { KvError, unwrap as unwrapKvResult } from './errors.ts';
export type { KvConfig, KvStatus } from './state-machine.ts';
export { KV_DEFAULTS, KvStateMachine } from './state-machine.ts';
export type { SnapshotBuilder as KvSnapshotBuilder } from './snapshot.ts';
export type {
  ClientTag as KvClientTag,
  CompactionResponse,
  Compare as KvCompare,
  CompareResult as KvCompareResult,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  KvCommand,
  KvCommandType,
  KvEntry,
  KvErrorCode,
  KvResponse,
  KvResult,
  LeaseExpireResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp as KvRequestOp,
  ResponseHeader as KvResponseHeader,
  ResponseOp as KvResponseOp,
  SortOrder as KvSortOrder,
  SortTarget as KvSortTarget,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchEvent,
  WatchEventType,
  WatchResponse,
} from './types.ts';
export type { KvLimits } from './validate.ts';
export { KV_LIMIT_DEFAULTS, parseEntry as parseKvEntry, validateCommand as validateKvCommand } from './validate.ts';
export type { WatchLimits } from './watch.ts';
export { WatchHub } from './watch.ts';
