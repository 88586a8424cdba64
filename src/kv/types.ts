/**
 * Requests, responses and commands of the KV state machine, shaped after etcd's v3 API
 * (etcdserverpb: RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest, Compare, Lease*).
 * Field names are etcd's in camelCase; keys and values are bytes (`Uint8Array`).
 *
 * Range convention (etcd): `rangeEnd` absent or empty selects the single key `key`; `rangeEnd`
 * = [0] ("\0") selects every key >= `key`; otherwise the half-open range [key, rangeEnd).
 *
 * Leaves out: nested txns inside txns, range min/max revision filters, watch progress
 * notifications, auth. Response headers carry only the revision; cluster id, member id and raft
 * term are added by the server that hosts the state machine.
 */
import type { Bytes } from './bytes.ts';

export interface KeyValue {
  key: Bytes;
  /** Revision of the write that created the key (in its current incarnation). */
  createRevision: number;
  /** Revision of the last write to the key. */
  modRevision: number;
  /** Writes to the key since its creation (1 after the first put; a delete resets it). */
  version: number;
  value: Bytes;
  /** Lease id the key is attached to, 0 for none. */
  lease: number;
}

export interface ResponseHeader {
  /** The store's revision when the response was produced. */
  revision: number;
}

export interface PutRequest {
  key: Bytes;
  value: Bytes;
  lease?: number;
  prevKv?: boolean;
  /** Keep the current value (the key must exist); `value` must be empty. */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist); `lease` must be 0 or absent. */
  ignoreLease?: boolean;
}
export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

export interface RangeRequest {
  key: Bytes;
  rangeEnd?: Bytes;
  /** Maximum keys returned; 0 or absent: no limit. */
  limit?: number;
  /** Read at this revision (historical read); 0 or absent: the current revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
}
export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** True when `limit` cut the result short. */
  more: boolean;
  /** Number of keys in the range (before `limit`). */
  count: number;
}

export interface DeleteRangeRequest {
  key: Bytes;
  rangeEnd?: Bytes;
  prevKv?: boolean;
}
export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export type CompareResult = 'equal' | 'not-equal' | 'less' | 'greater';
export type Compare =
  | { key: Bytes; rangeEnd?: Bytes; result: CompareResult; target: 'value'; value: Bytes }
  | { key: Bytes; rangeEnd?: Bytes; result: CompareResult; target: 'version' | 'create' | 'mod' | 'lease'; number: number };

export type RequestOp =
  | { type: 'range'; request: RangeRequest }
  | { type: 'put'; request: PutRequest }
  | { type: 'delete-range'; request: DeleteRangeRequest };
export type ResponseOp =
  | { type: 'range'; response: RangeResponse }
  | { type: 'put'; response: PutResponse }
  | { type: 'delete-range'; response: DeleteRangeResponse };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}
export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionResponse {
  header: ResponseHeader;
}
export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: number;
  ttlSec: number;
}
export interface LeaseRevokeResponse {
  header: ResponseHeader;
}
export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: number;
  ttlSec: number;
}
export interface LeaseExpireResponse {
  header: ResponseHeader;
  /** Leases revoked by this command (those still expired at its `nowMs`). */
  expired: number[];
}
export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: number;
  /** Seconds left, rounded up; 0 when expired but not yet revoked by an expire command. */
  ttlSec: number;
  grantedTtlSec: number;
  keys: Bytes[];
}

/**
 * A command to be replicated through the log and applied on every replica. Time enters only as
 * `nowMs` fields chosen by the proposer (the leader), so replicas agree on lease expiry.
 */
export type KvCommand =
  | { type: 'put'; request: PutRequest }
  | { type: 'range'; request: RangeRequest }
  | { type: 'delete-range'; request: DeleteRangeRequest }
  | { type: 'txn'; request: TxnRequest }
  | { type: 'compact'; revision: number }
  /** `id` 0 lets the state machine choose the next free id. */
  | { type: 'lease-grant'; id: number; ttlSec: number; nowMs: number }
  | { type: 'lease-revoke'; id: number }
  | { type: 'lease-keepalive'; id: number; nowMs: number }
  /** Revokes the listed leases (or, without `ids`, every lease) whose expiry is <= `nowMs`. */
  | { type: 'lease-expire'; nowMs: number; ids?: number[] };

export type KvCommandType = KvCommand['type'];

/** A client's request tag for de-duplication: a retried request reuses its `seq`. */
export interface ClientTag {
  id: string;
  seq: number;
}

/** What goes into one log entry. */
export interface KvEntry {
  command: KvCommand;
  client?: ClientTag;
}

export type KvResponse =
  | { type: 'put'; response: PutResponse }
  | { type: 'range'; response: RangeResponse }
  | { type: 'delete-range'; response: DeleteRangeResponse }
  | { type: 'txn'; response: TxnResponse }
  | { type: 'compact'; response: CompactionResponse }
  | { type: 'lease-grant'; response: LeaseGrantResponse }
  | { type: 'lease-revoke'; response: LeaseRevokeResponse }
  | { type: 'lease-keepalive'; response: LeaseKeepAliveResponse }
  | { type: 'lease-expire'; response: LeaseExpireResponse };

export type KvErrorCode =
  | 'invalid-argument' // malformed request or over a limit
  | 'key-not-found' // ignoreValue / ignoreLease on a key that does not exist
  | 'lease-not-found'
  | 'lease-exists'
  | 'compacted' // the revision asked for has been compacted away
  | 'future-revision' // the revision asked for is newer than the store's
  | 'duplicate-key' // a txn writes the same key twice
  | 'stale-request' // a client sequence number older than the last one applied
  | 'quota-exceeded'; // a table (leases, ...) is full

/** The outcome of applying an entry: deterministic, so identical on every replica. */
export type KvResult = { ok: true; response: KvResponse } | { ok: false; error: { code: KvErrorCode; message: string } };

export type WatchEventType = 'PUT' | 'DELETE';
export interface WatchEvent {
  type: WatchEventType;
  /** For DELETE: the key, modRevision = the delete's revision, other fields zero/empty. */
  kv: KeyValue;
  prevKv?: KeyValue;
}
export interface WatchCreateRequest {
  key: Bytes;
  rangeEnd?: Bytes;
  /** First revision to deliver; 0 or absent: changes after the current revision. */
  startRevision?: number;
  prevKv?: boolean;
  /** Drop PUT or DELETE events. */
  filters?: ('noput' | 'nodelete')[];
}
export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  created?: boolean;
  canceled?: boolean;
  /** Set with `canceled` when the start (or next) revision was compacted. */
  compactRevision?: number;
  cancelReason?: string;
  events: WatchEvent[];
}
