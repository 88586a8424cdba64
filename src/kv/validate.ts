/**
 * Validation of KV commands and the limits they are held to, checked before a command is
 * proposed and again when it is applied (a log entry is input like any other). Every violation
 * is an InvalidArgumentError whose message names the field (`command.request.txn.success[2].key`)
 * and the limit. Unknown fields are refused, so a misspelt option never silently does nothing.
 *
 * Limits follow etcd where etcd has one: a request of at most 1.5 MiB (--max-request-bytes,
 * counted here as the bytes of keys, values, range ends, compare values and the client id), at
 * most 128 operations per txn branch (--max-txn-ops), lease TTLs up to 9e9 s. clusterkit adds a
 * key size limit (default 32 KiB), which etcd bounds only by the request size.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { type Bytes, compareBytes } from './bytes.ts';
import { LEASE_ID_MAX } from './lessor.ts';
import type { ClientTag, Compare, CompareResult, DeleteRangeRequest, KvCommand, KvEntry, PutRequest, RangeRequest, RequestOp, SortOrder, SortTarget, TxnRequest } from './types.ts';

export interface KvLimits {
  /** Largest key, bytes. */
  keyBytesMax: number;
  /** Largest value, bytes. */
  valueBytesMax: number;
  /** Largest request (keys + values + range ends + compare values + client id), bytes. */
  requestBytesMax: number;
  /** Most operations in one txn branch, and most compares. */
  txnOpsMax: number;
  /** Shortest lease TTL, seconds: shorter grants are raised to it (as etcd's minimum TTL). */
  leaseTtlSecMin: number;
  /** Longest lease TTL, seconds. */
  leaseTtlSecMax: number;
  /** Most lease ids in one expire command. */
  expireIdsMax: number;
  /** Longest client id, bytes of UTF-16 code units. */
  clientIdLengthMax: number;
}

export const KV_LIMIT_DEFAULTS: KvLimits = {
  keyBytesMax: 32 * 1024,
  valueBytesMax: 1.5 * 1024 * 1024,
  requestBytesMax: 1.5 * 1024 * 1024,
  txnOpsMax: 128,
  leaseTtlSecMin: 1,
  leaseTtlSecMax: 9_000_000_000,
  expireIdsMax: 1024,
  clientIdLengthMax: 256,
};

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new InvalidArgumentError(`${path} ${message}`);
}

function obj(x: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) fail(path, 'must be an object');
  const o = x as Obj;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`${path}.${k}`, `is not a known field (known: ${allowed.join(', ')})`);
  }
  return o;
}

function bytes(x: unknown, path: string): Bytes {
  if (!(x instanceof Uint8Array)) fail(path, 'must be bytes (Uint8Array)');
  return x;
}

function optBytes(x: unknown, path: string): Bytes | undefined {
  return x === undefined ? undefined : bytes(x, path);
}

function int(x: unknown, path: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) fail(path, `must be an integer, got ${JSON.stringify(x)}`);
  if (x < min || x > max) fail(path, `must be in ${min}..${max}, got ${x}`);
  return x;
}

function optInt(x: unknown, path: string, min: number, max: number): number | undefined {
  return x === undefined ? undefined : int(x, path, min, max);
}

function optBool(x: unknown, path: string): boolean | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'boolean') fail(path, 'must be true or false');
  return x;
}

function oneOf<T extends string>(x: unknown, path: string, values: readonly T[]): T {
  if (typeof x !== 'string' || !values.includes(x as T)) fail(path, `must be one of ${values.join(', ')}; got ${JSON.stringify(x)}`);
  return x as T;
}

function array(x: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(x)) fail(path, 'must be an array');
  if (x.length > max) fail(path, `has ${x.length} elements, over the limit of ${max}`);
  return x;
}

/** Builds an object without the undefined fields (exactOptionalPropertyTypes). */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

class Checker {
  requestBytes = 0;
  constructor(readonly limits: KvLimits) {}

  key(x: unknown, path: string): Bytes {
    const b = bytes(x, path);
    if (b.length === 0) fail(path, 'must not be empty (etcd: key is not provided)');
    if (b.length > this.limits.keyBytesMax) fail(path, `is ${b.length} bytes, over the limit of ${this.limits.keyBytesMax} (keyBytesMax)`);
    this.requestBytes += b.length;
    return b;
  }

  rangeEnd(x: unknown, path: string, key: Bytes): Bytes | undefined {
    const b = optBytes(x, path);
    if (b === undefined) return undefined;
    if (b.length > this.limits.keyBytesMax) fail(path, `is ${b.length} bytes, over the limit of ${this.limits.keyBytesMax} (keyBytesMax)`);
    const toEnd = b.length === 1 && b[0] === 0;
    if (b.length > 0 && !toEnd && compareBytes(b, key) <= 0) fail(path, 'must be greater than key (or empty for one key, or [0] for every key from key on)');
    this.requestBytes += b.length;
    return b;
  }

  value(x: unknown, path: string): Bytes {
    const b = bytes(x, path);
    if (b.length > this.limits.valueBytesMax) fail(path, `is ${b.length} bytes, over the limit of ${this.limits.valueBytesMax} (valueBytesMax)`);
    this.requestBytes += b.length;
    return b;
  }

  put(x: unknown, path: string): PutRequest {
    const o = obj(x, path, ['key', 'value', 'lease', 'prevKv', 'ignoreValue', 'ignoreLease']);
    const req: PutRequest = defined({
      key: this.key(o.key, `${path}.key`),
      value: this.value(o.value, `${path}.value`),
      lease: optInt(o.lease, `${path}.lease`, 0, LEASE_ID_MAX),
      prevKv: optBool(o.prevKv, `${path}.prevKv`),
      ignoreValue: optBool(o.ignoreValue, `${path}.ignoreValue`),
      ignoreLease: optBool(o.ignoreLease, `${path}.ignoreLease`),
    }) as PutRequest;
    if (req.ignoreValue && req.value.length > 0) fail(`${path}.value`, 'must be empty with ignoreValue');
    if (req.ignoreLease && (req.lease ?? 0) !== 0) fail(`${path}.lease`, 'must be 0 with ignoreLease');
    return req;
  }

  range(x: unknown, path: string): RangeRequest {
    const o = obj(x, path, ['key', 'rangeEnd', 'limit', 'revision', 'sortOrder', 'sortTarget', 'keysOnly', 'countOnly']);
    const key = this.key(o.key, `${path}.key`);
    return defined({
      key,
      rangeEnd: this.rangeEnd(o.rangeEnd, `${path}.rangeEnd`, key),
      limit: optInt(o.limit, `${path}.limit`, 0, Number.MAX_SAFE_INTEGER),
      revision: optInt(o.revision, `${path}.revision`, 0, Number.MAX_SAFE_INTEGER),
      sortOrder: o.sortOrder === undefined ? undefined : oneOf<SortOrder>(o.sortOrder, `${path}.sortOrder`, ['none', 'ascend', 'descend']),
      sortTarget: o.sortTarget === undefined ? undefined : oneOf<SortTarget>(o.sortTarget, `${path}.sortTarget`, ['key', 'version', 'create', 'mod', 'value']),
      keysOnly: optBool(o.keysOnly, `${path}.keysOnly`),
      countOnly: optBool(o.countOnly, `${path}.countOnly`),
    }) as RangeRequest;
  }

  deleteRange(x: unknown, path: string): DeleteRangeRequest {
    const o = obj(x, path, ['key', 'rangeEnd', 'prevKv']);
    const key = this.key(o.key, `${path}.key`);
    return defined({ key, rangeEnd: this.rangeEnd(o.rangeEnd, `${path}.rangeEnd`, key), prevKv: optBool(o.prevKv, `${path}.prevKv`) }) as DeleteRangeRequest;
  }

  compare(x: unknown, path: string): Compare {
    const o = obj(x, path, ['key', 'rangeEnd', 'result', 'target', 'value', 'number']);
    const key = this.key(o.key, `${path}.key`);
    const rangeEnd = this.rangeEnd(o.rangeEnd, `${path}.rangeEnd`, key);
    const result = oneOf<CompareResult>(o.result, `${path}.result`, ['equal', 'not-equal', 'less', 'greater']);
    const target = oneOf(o.target, `${path}.target`, ['value', 'version', 'create', 'mod', 'lease'] as const);
    if (target === 'value') {
      if (o.number !== undefined) fail(`${path}.number`, 'is for version/create/mod/lease targets; a value target takes value');
      return defined({ key, rangeEnd, result, target, value: this.value(o.value, `${path}.value`) }) as Compare;
    }
    if (o.value !== undefined) fail(`${path}.value`, `is for the value target; a ${target} target takes number`);
    return defined({ key, rangeEnd, result, target, number: int(o.number, `${path}.number`, 0, Number.MAX_SAFE_INTEGER) }) as Compare;
  }

  requestOp(x: unknown, path: string): RequestOp {
    const o = obj(x, path, ['type', 'request']);
    const type = oneOf(o.type, `${path}.type`, ['range', 'put', 'delete-range'] as const);
    switch (type) {
      case 'range':
        return { type, request: this.range(o.request, `${path}.request`) };
      case 'put':
        return { type, request: this.put(o.request, `${path}.request`) };
      case 'delete-range':
        return { type, request: this.deleteRange(o.request, `${path}.request`) };
    }
  }

  txn(x: unknown, path: string): TxnRequest {
    const o = obj(x, path, ['compare', 'success', 'failure']);
    const max = this.limits.txnOpsMax;
    const req: TxnRequest = {
      compare: array(o.compare ?? [], `${path}.compare`, max).map((c, i) => this.compare(c, `${path}.compare[${i}]`)),
      success: array(o.success ?? [], `${path}.success`, max).map((c, i) => this.requestOp(c, `${path}.success[${i}]`)),
      failure: array(o.failure ?? [], `${path}.failure`, max).map((c, i) => this.requestOp(c, `${path}.failure[${i}]`)),
    };
    return req;
  }

  command(x: unknown, path: string): KvCommand {
    const base = obj(x, path, ['type', 'request', 'revision', 'id', 'ttlSec', 'nowMs', 'ids']);
    const type = oneOf(base.type, `${path}.type`, ['put', 'range', 'delete-range', 'txn', 'compact', 'lease-grant', 'lease-revoke', 'lease-keepalive', 'lease-expire'] as const);
    const only = (allowed: readonly string[]): Obj => obj(x, path, ['type', ...allowed]);
    const nowMs = (o: Obj): number => int(o.nowMs, `${path}.nowMs`, 0, Number.MAX_SAFE_INTEGER);
    switch (type) {
      case 'put':
        return { type, request: this.put(only(['request']).request, `${path}.request`) };
      case 'range':
        return { type, request: this.range(only(['request']).request, `${path}.request`) };
      case 'delete-range':
        return { type, request: this.deleteRange(only(['request']).request, `${path}.request`) };
      case 'txn':
        return { type, request: this.txn(only(['request']).request, `${path}.request`) };
      case 'compact':
        return { type, revision: int(only(['revision']).revision, `${path}.revision`, 1, Number.MAX_SAFE_INTEGER) };
      case 'lease-grant': {
        const o = only(['id', 'ttlSec', 'nowMs']);
        return { type, id: int(o.id ?? 0, `${path}.id`, 0, LEASE_ID_MAX), ttlSec: int(o.ttlSec, `${path}.ttlSec`, 0, this.limits.leaseTtlSecMax), nowMs: nowMs(o) };
      }
      case 'lease-revoke':
        return { type, id: int(only(['id']).id, `${path}.id`, 1, LEASE_ID_MAX) };
      case 'lease-keepalive': {
        const o = only(['id', 'nowMs']);
        return { type, id: int(o.id, `${path}.id`, 1, LEASE_ID_MAX), nowMs: nowMs(o) };
      }
      case 'lease-expire': {
        const o = only(['nowMs', 'ids']);
        const cmd: KvCommand = { type, nowMs: nowMs(o) };
        if (o.ids !== undefined) cmd.ids = array(o.ids, `${path}.ids`, this.limits.expireIdsMax).map((id, i) => int(id, `${path}.ids[${i}]`, 1, LEASE_ID_MAX));
        return cmd;
      }
    }
  }

  client(x: unknown, path: string): ClientTag {
    const o = obj(x, path, ['id', 'seq']);
    if (typeof o.id !== 'string' || o.id.length === 0) fail(`${path}.id`, 'must be a non-empty string');
    if (o.id.length > this.limits.clientIdLengthMax) fail(`${path}.id`, `is ${o.id.length} characters, over the limit of ${this.limits.clientIdLengthMax}`);
    this.requestBytes += o.id.length;
    return { id: o.id, seq: int(o.seq, `${path}.seq`, 1, Number.MAX_SAFE_INTEGER) };
  }
}

/**
 * Validates an entry (typically freshly decoded JSON, or a caller's object) and returns a clean
 * copy holding only known fields. Throws InvalidArgumentError naming the field and the limit.
 */
export function parseEntry(x: unknown, limits: KvLimits): KvEntry {
  const c = new Checker(limits);
  const o = obj(x, 'entry', ['command', 'client']);
  const entry: KvEntry = { command: c.command(o.command, 'command') };
  if (o.client !== undefined) entry.client = c.client(o.client, 'client');
  if (c.requestBytes > limits.requestBytesMax) {
    throw new InvalidArgumentError(`request is ${c.requestBytes} bytes, over the limit of ${limits.requestBytesMax} (requestBytesMax)`);
  }
  return entry;
}

/** Validates a command on its own (before proposing it). */
export function validateCommand(command: KvCommand, limits: KvLimits = KV_LIMIT_DEFAULTS): KvCommand {
  return parseEntry({ command }, limits).command;
}

/** Checks that limits are consistent; throws InvalidArgumentError naming the field. */
export function validateLimits(l: KvLimits): void {
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${k} must be a positive integer, got ${v}`);
  }
  if (l.valueBytesMax > l.requestBytesMax) throw new InvalidArgumentError(`valueBytesMax (${l.valueBytesMax}) must be <= requestBytesMax (${l.requestBytesMax})`);
  if (l.keyBytesMax > l.requestBytesMax) throw new InvalidArgumentError(`keyBytesMax (${l.keyBytesMax}) must be <= requestBytesMax (${l.requestBytesMax})`);
  if (l.leaseTtlSecMin > l.leaseTtlSecMax) throw new InvalidArgumentError(`leaseTtlSecMin (${l.leaseTtlSecMin}) must be <= leaseTtlSecMax (${l.leaseTtlSecMax})`);
}
