import assert from 'node:assert/strict';
import { text, utf8 } from '../../src/kv/bytes.ts';
import { unwrap } from '../../src/kv/errors.ts';
import type { KvStateMachine } from '../../src/kv/state-machine.ts';
import type {
  DeleteRangeResponse,
  KeyValue,
  KvCommand,
  KvErrorCode,
  KvResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../../src/kv/types.ts';

export const b = utf8;

export function run(sm: KvStateMachine, command: KvCommand): KvResponse {
  return unwrap(sm.apply({ command }));
}

export function put(sm: KvStateMachine, key: string, value: string, opts: Omit<PutRequest, 'key' | 'value'> = {}): PutResponse {
  const r = run(sm, { type: 'put', request: { key: b(key), value: b(value), ...opts } });
  assert.equal(r.type, 'put');
  return (r as Extract<KvResponse, { type: 'put' }>).response;
}

export function get(sm: KvStateMachine, key: string, opts: Omit<RangeRequest, 'key'> = {}): RangeResponse {
  return sm.range({ key: b(key), ...opts });
}

export function prefix(sm: KvStateMachine, p: string, opts: Omit<RangeRequest, 'key' | 'rangeEnd'> = {}): RangeResponse {
  const end = b(p);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return sm.range({ key: b(p), rangeEnd: end, ...opts });
}

export function del(sm: KvStateMachine, key: string, rangeEnd?: string, prevKv = false): DeleteRangeResponse {
  const request = rangeEnd === undefined ? { key: b(key), prevKv } : { key: b(key), rangeEnd: b(rangeEnd), prevKv };
  const r = run(sm, { type: 'delete-range', request });
  return (r as Extract<KvResponse, { type: 'delete-range' }>).response;
}

export function txn(sm: KvStateMachine, request: TxnRequest): TxnResponse {
  const r = run(sm, { type: 'txn', request });
  return (r as Extract<KvResponse, { type: 'txn' }>).response;
}

/** Applies and expects an error result with `code`; returns its message. */
export function expectError(sm: KvStateMachine, command: KvCommand, code: KvErrorCode): string {
  const r = sm.apply({ command });
  assert.equal(r.ok, false, `expected ${code}, got ok`);
  if (r.ok) return '';
  assert.equal(r.error.code, code, r.error.message);
  return r.error.message;
}

/** [key, value] pairs of kvs, as text. */
export function pairs(kvs: readonly KeyValue[]): [string, string][] {
  return kvs.map((kv) => [text(kv.key), text(kv.value)]);
}
