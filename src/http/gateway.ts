/**
 * The JSON shapes of etcd's v3 HTTP gateway (grpc-gateway over etcdserverpb), both ways: request
 * bodies to KV commands, and KV results to response bodies. Keys and values are base64, 64-bit
 * integers are decimal strings (as protobuf's JSON mapping), field names are snake_case as etcd
 * emits them; requests may also use the camelCase spelling protobuf JSON accepts. Unknown fields
 * are refused with a message naming them (etcd ignores them; a misspelt option silently doing
 * nothing is worse).
 *
 * Leaves out: range min/max revision filters, auth, alarms, the `compact` and `defragment`
 * maintenance calls, and watch requests with more than one create per stream.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { fromBase64, toBase64 } from '../kv/bytes.ts';
import type {
  Compare,
  CompareResult,
  DeleteRangeRequest,
  KeyValue,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  WatchCreateRequest,
  WatchEvent,
} from '../kv/types.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, unknown>;

/** etcd's response header. */
export interface GatewayHeader {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Reads an object's fields by their snake_case names (camelCase accepted), refusing unknown ones. */
export class Fields {
  private readonly o: Obj;
  private readonly path: string;
  private readonly seen = new Set<string>();

  constructor(x: unknown, path: string) {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InvalidArgumentError(`${path} must be a JSON object`);
    this.o = x as Obj;
    this.path = path;
  }

  private raw(name: string): unknown {
    if (Object.hasOwn(this.o, name)) {
      this.seen.add(name);
      return this.o[name];
    }
    const c = camel(name);
    if (c !== name && Object.hasOwn(this.o, c)) {
      this.seen.add(c);
      return this.o[c];
    }
    return undefined;
  }

  at(name: string): string {
    return `${this.path}.${name}`;
  }

  bytes(name: string, required = false): Uint8Array | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (required) throw new InvalidArgumentError(`${this.at(name)} is required (base64)`);
      return undefined;
    }
    if (typeof v !== 'string') throw new InvalidArgumentError(`${this.at(name)} must be a base64 string`);
    return fromBase64(v, this.at(name));
  }

  int(name: string, min = 0): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = Number(v);
    else throw new InvalidArgumentError(`${this.at(name)} must be an integer (a number or a decimal string), got ${JSON.stringify(v)}`);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${this.at(name)} ${String(v)} is outside the supported range (up to 2^53-1)`);
    if (n < min) throw new InvalidArgumentError(`${this.at(name)} must be >= ${min}, got ${n}`);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`${this.at(name)} must be true or false`);
    return v;
  }

  str(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InvalidArgumentError(`${this.at(name)} must be a string`);
    return v;
  }

  /** A string or a number, as a string (member ids may be given either way). */
  id(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    throw new InvalidArgumentError(`${this.at(name)} must be a member id or name`);
  }

  strings(name: string): string[] | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new InvalidArgumentError(`${this.at(name)} must be an array of strings`);
    return v as string[];
  }

  array(name: string): unknown[] | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new InvalidArgumentError(`${this.at(name)} must be an array`);
    return v;
  }

  /** An enum given by name (case-insensitive) or by its protobuf number. */
  enumOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < values.length) return values[v] as T;
    if (typeof v === 'string') {
      const hit = values.find((x) => x.toUpperCase() === v.toUpperCase());
      if (hit !== undefined) return hit;
    }
    throw new InvalidArgumentError(`${this.at(name)} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  }

  object(name: string): Fields | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    return new Fields(v, this.at(name));
  }

  /** Throws if the object has fields that were never read. */
  done(): void {
    for (const k of Object.keys(this.o)) {
      if (!this.seen.has(k)) throw new InvalidArgumentError(`unknown field ${JSON.stringify(k)} in ${this.path}`);
    }
  }
}

function opt<T extends object, K extends string, V>(target: T, key: K, v: V | undefined): T & { [k in K]?: V } {
  if (v !== undefined) (target as Record<string, unknown>)[key] = v;
  return target as T & { [k in K]?: V };
}

// ------------------------------------------------------------------------------ requests

export function parsePut(f: Fields): PutRequest {
  const req: PutRequest = { key: f.bytes('key', true) as Uint8Array, value: f.bytes('value') ?? new Uint8Array(0) };
  opt(req, 'lease', f.int('lease'));
  opt(req, 'prevKv', f.bool('prev_kv'));
  opt(req, 'ignoreValue', f.bool('ignore_value'));
  opt(req, 'ignoreLease', f.bool('ignore_lease'));
  f.done();
  return req;
}

const SORT_ORDERS = ['none', 'ascend', 'descend'] as const satisfies readonly SortOrder[];
const SORT_TARGETS = ['key', 'version', 'create', 'mod', 'value'] as const satisfies readonly SortTarget[];

export function parseRange(f: Fields): { request: RangeRequest; serializable: boolean } {
  const req: RangeRequest = { key: f.bytes('key', true) as Uint8Array };
  opt(req, 'rangeEnd', f.bytes('range_end'));
  opt(req, 'limit', f.int('limit'));
  opt(req, 'revision', f.int('revision'));
  opt(req, 'sortOrder', f.enumOf('sort_order', SORT_ORDERS));
  opt(req, 'sortTarget', f.enumOf('sort_target', SORT_TARGETS));
  opt(req, 'keysOnly', f.bool('keys_only'));
  opt(req, 'countOnly', f.bool('count_only'));
  const serializable = f.bool('serializable') ?? false;
  f.done();
  return { request: req, serializable };
}

export function parseDeleteRange(f: Fields): DeleteRangeRequest {
  const req: DeleteRangeRequest = { key: f.bytes('key', true) as Uint8Array };
  opt(req, 'rangeEnd', f.bytes('range_end'));
  opt(req, 'prevKv', f.bool('prev_kv'));
  f.done();
  return req;
}

const COMPARE_RESULTS = ['equal', 'greater', 'less', 'not-equal'] as const satisfies readonly CompareResult[];
const COMPARE_TARGETS = ['version', 'create', 'mod', 'value', 'lease'] as const;

function parseCompare(f: Fields): Compare {
  const resultName = f.str('result') ?? 'EQUAL';
  const result = COMPARE_RESULTS.find((r) => r.replace('-', '_').toUpperCase() === resultName.toUpperCase());
  if (result === undefined) throw new InvalidArgumentError(`${f.at('result')} must be EQUAL, GREATER, LESS or NOT_EQUAL, got ${JSON.stringify(resultName)}`);
  const target = f.enumOf('target', COMPARE_TARGETS) ?? 'version';
  const key = f.bytes('key', true) as Uint8Array;
  const rangeEnd = f.bytes('range_end');
  let c: Compare;
  if (target === 'value') c = { key, result, target, value: f.bytes('value') ?? new Uint8Array(0) };
  else {
    const field = target === 'create' ? 'create_revision' : target === 'mod' ? 'mod_revision' : target;
    c = { key, result, target, number: f.int(field) ?? 0 };
  }
  if (rangeEnd !== undefined) c.rangeEnd = rangeEnd;
  f.done();
  return c;
}

function parseRequestOp(f: Fields): RequestOp {
  const put = f.object('request_put');
  const range = f.object('request_range');
  const del = f.object('request_delete_range');
  const txn = f.object('request_txn');
  f.done();
  if (txn !== undefined) throw new InvalidArgumentError(`${f.at('request_txn')}: nested transactions are not supported`);
  const n = [put, range, del].filter((x) => x !== undefined).length;
  if (n !== 1) throw new InvalidArgumentError(`${f.at('')} must hold exactly one of request_put, request_range, request_delete_range`);
  if (put) return { type: 'put', request: parsePut(put) };
  if (range) {
    const r = parseRange(range);
    return { type: 'range', request: r.request };
  }
  return { type: 'delete-range', request: parseDeleteRange(del as Fields) };
}

export function parseTxn(f: Fields): TxnRequest {
  const list = (name: string) => (f.array(name) ?? []).map((x, i) => new Fields(x, `${f.at(name)}[${i}]`));
  const req: TxnRequest = {
    compare: list('compare').map(parseCompare),
    success: list('success').map(parseRequestOp),
    failure: list('failure').map(parseRequestOp),
  };
  f.done();
  return req;
}

export function parseWatchCreate(f: Fields): WatchCreateRequest {
  const create = f.object('create_request');
  if (f.object('cancel_request') !== undefined || f.object('progress_request') !== undefined) {
    throw new InvalidArgumentError('request.cancel_request / progress_request are not supported on the HTTP gateway: close the stream to cancel');
  }
  f.done();
  if (create === undefined) throw new InvalidArgumentError('request.create_request is required');
  const req: WatchCreateRequest = { key: create.bytes('key', true) as Uint8Array };
  opt(req, 'rangeEnd', create.bytes('range_end'));
  opt(req, 'startRevision', create.int('start_revision'));
  opt(req, 'prevKv', create.bool('prev_kv'));
  const filters = create.array('filters');
  if (filters !== undefined) {
    req.filters = filters.map((x, i) => {
      if (x === 'NOPUT' || x === 0) return 'noput';
      if (x === 'NODELETE' || x === 1) return 'nodelete';
      throw new InvalidArgumentError(`${create.at('filters')}[${i}] must be NOPUT or NODELETE`);
    });
  }
  create.bool('progress_notify');
  create.int('watch_id');
  create.bool('fragment');
  create.done();
  return req;
}

// ------------------------------------------------------------------------------ responses

export function kvJson(kv: KeyValue): Json {
  return {
    key: toBase64(kv.key),
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    value: toBase64(kv.value),
    lease: String(kv.lease),
  };
}

export function responseOpJson(op: ResponseOp, header: GatewayHeader): Json {
  switch (op.type) {
    case 'put':
      return { response_put: putJson(op.response.prevKv, header) };
    case 'range':
      return { response_range: rangeJson(op.response, header) };
    case 'delete-range':
      return { response_delete_range: deleteJson(op.response, header) };
  }
}

export function putJson(prevKv: KeyValue | undefined, header: GatewayHeader): Json {
  const out: { [k: string]: Json } = { header: { ...header } };
  if (prevKv !== undefined) out.prev_kv = kvJson(prevKv);
  return out;
}

export function rangeJson(r: { kvs: KeyValue[]; more: boolean; count: number }, header: GatewayHeader): Json {
  return { header: { ...header }, kvs: r.kvs.map(kvJson), more: r.more, count: String(r.count) };
}

export function deleteJson(r: { deleted: number; prevKvs: KeyValue[] }, header: GatewayHeader): Json {
  return { header: { ...header }, deleted: String(r.deleted), prev_kvs: r.prevKvs.map(kvJson) };
}

export function eventJson(e: WatchEvent): Json {
  const out: { [k: string]: Json } = { type: e.type, kv: kvJson(e.kv) };
  if (e.prevKv !== undefined) out.prev_kv = kvJson(e.prevKv);
  return out;
}
