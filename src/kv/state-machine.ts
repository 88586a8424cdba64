/**
 * The KV state machine: etcd v3 semantics (revisions, range, put, delete-range, txn with
 * compares, compaction, leases, watches) as a deterministic, pure object to be driven by Raft.
 * Every replica that applies the same entries in the same order ends in the same state,
 * byte for byte (`snapshot()` is identical), and returns the same results.
 *
 * - `apply(entry, index)` / `applyEncoded(bytes, index)`: the only way state changes. Entries
 *   carry their own time (`nowMs`, chosen by the proposer) where time matters; nothing here
 *   reads a clock, draws a random number or does IO. A client error (bad request, missing
 *   lease, compacted revision) is a `{ ok: false }` result, never an exception, so a bad entry
 *   cannot stop a replica.
 * - A write that changes something gets the next revision; a txn gets one revision for all its
 *   writes; reads, failed requests and no-op deletes do not move it.
 * - Client de-duplication: an entry tagged `{ client: { id, seq } }` is applied once; a retry
 *   with the same seq returns the first result (sessions.ts).
 * - Local reads (`range`, lease time-to-live, status) and watches (`watches`) do not go through
 *   the log; a host serves them after ReadIndex for linearizable reads, or directly for
 *   serializable ones.
 * - `snapshot()` / `beginSnapshot()` / `restore()` ship the whole replicated state as
 *   checksummed bytes (snapshot.ts); `beginSnapshot()` builds them in steps.
 *
 * All replicas must run with the same limits (`KvConfig`), since validation is part of apply.
 * Leaves out: nested txns, auth, alarms/quotas on the backend size, the HTTP gateway (a layer
 * above), and etcd's lease checkpoints.
 */
import { createHash } from 'node:crypto';
import { AssertionError, assert, unreachable } from '../core/assert.ts';
import { CorruptionError, InvalidArgumentError } from '../core/errors.ts';
import { type Bytes, compareBytes, fromBin, toBin } from './bytes.ts';
import { decodeEntry, decodeResult, encodeResult, fromTaggedJson } from './codec.ts';
import { KvError } from './errors.ts';
import { type Lease, Lessor } from './lessor.ts';
import { inRange, type KeyRange, type KeyVersion, MvccStore, toKeyValue } from './mvcc.ts';
import { type Session, SessionTable } from './sessions.ts';
import { decodeBinaryBody, SNAPSHOT_HEADER_BYTES, SNAPSHOT_MAGIC, SnapshotBuilder } from './snapshot.ts';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KvCommand,
  KvEntry,
  KvResponse,
  KvResult,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './types.ts';
import { KV_LIMIT_DEFAULTS, type KvLimits, parseEntry, validateLimits } from './validate.ts';
import { rangeOf, WATCH_LIMIT_DEFAULTS, WatchHub, type WatchLimits } from './watch.ts';

export interface KvConfig extends KvLimits, WatchLimits {
  /** Most leases at once; a grant beyond it fails with quota-exceeded. */
  leasesMax: number;
  /** Clients remembered for de-duplication; the least recently used is evicted beyond it. */
  clientSessionsMax: number;
}

export const KV_DEFAULTS: KvConfig = {
  ...KV_LIMIT_DEFAULTS,
  ...WATCH_LIMIT_DEFAULTS,
  leasesMax: 1_000_000,
  clientSessionsMax: 10_000,
};

export interface KvStatus {
  revision: number;
  compactRevision: number;
  /** Log index of the last applied entry (0 when entries were applied without an index). */
  appliedIndex: number;
  /** Keys held, including deleted ones whose history is not yet compacted. */
  keysHeld: number;
  leases: number;
  clientSessions: number;
  watchers: number;
}

/** The tagged-JSON format written before the binary one; still read. */
const SNAPSHOT_FORMAT_JSON = 1;

function zeroKv(): { value: Bytes; version: number; create: number; main: number; lease: number } {
  return { value: new Uint8Array(0), version: 0, create: 0, main: 0, lease: 0 };
}

export class KvStateMachine {
  readonly config: KvConfig;
  private readonly store = new MvccStore();
  private readonly lessor: Lessor;
  private readonly sessions: SessionTable;
  /** Local watches over this replica's store. */
  readonly watches: WatchHub;
  private appliedIndexValue = 0;

  constructor(config: Partial<KvConfig> = {}) {
    this.config = { ...KV_DEFAULTS, ...config };
    validateLimits(this.config);
    for (const k of ['watchersMax', 'watchEventsMax', 'leasesMax', 'clientSessionsMax'] as const) {
      const v = this.config[k];
      if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${k} must be a positive integer, got ${v}`);
    }
    this.lessor = new Lessor(this.config.leasesMax);
    this.sessions = new SessionTable(this.config.clientSessionsMax);
    this.watches = new WatchHub(this.store, this.config);
  }

  /** Restores a state machine from `snapshot()` bytes. */
  static fromSnapshot(bytes: Uint8Array, config: Partial<KvConfig> = {}): KvStateMachine {
    const sm = new KvStateMachine(config);
    sm.restore(bytes);
    return sm;
  }

  get revision(): number {
    return this.store.revision;
  }

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  // -------------------------------------------------------------------------------------------
  // Applying entries

  /** Applies one entry (validated here). `index`, when given, must increase from call to call. */
  apply(entry: KvEntry, index?: number): KvResult {
    this.advanceIndex(index);
    let parsed: KvEntry;
    try {
      parsed = parseEntry(entry, this.config);
    } catch (err) {
      return errorResult(err);
    }
    return this.applyParsed(parsed);
  }

  /** Decodes (see codec.ts) and applies one entry; a malformed entry is an invalid-argument result. */
  applyEncoded(data: Uint8Array, index?: number): KvResult {
    this.advanceIndex(index);
    let parsed: KvEntry;
    try {
      parsed = decodeEntry(data, this.config);
    } catch (err) {
      return errorResult(err);
    }
    return this.applyParsed(parsed);
  }

  private advanceIndex(index: number | undefined): void {
    if (index === undefined) return;
    assert(Number.isSafeInteger(index) && index > this.appliedIndexValue, `kv: applied index must increase: ${index} after ${this.appliedIndexValue}`);
    this.appliedIndexValue = index;
  }

  private applyParsed(entry: KvEntry): KvResult {
    const client = entry.client;
    if (client !== undefined) {
      const s = this.sessions.get(client.id);
      if (s !== undefined && client.seq === s.seq) return decodeResult(s.result);
      if (s !== undefined && client.seq < s.seq) {
        return { ok: false, error: { code: 'stale-request', message: `client ${JSON.stringify(client.id)} sent seq ${client.seq}, older than its last applied seq ${s.seq}; that result is no longer kept` } };
      }
    }
    let result: KvResult;
    try {
      result = { ok: true, response: this.execute(entry.command) };
    } catch (err) {
      result = errorResult(err);
    }
    if (client !== undefined) this.sessions.record(client.id, client.seq, encodeResult(result));
    return result;
  }

  private execute(cmd: KvCommand): KvResponse {
    switch (cmd.type) {
      case 'put': {
        this.checkPut(cmd.request);
        const header = this.header();
        const response = this.write(header, () => this.doPut(cmd.request, header));
        return { type: 'put', response };
      }
      case 'range':
        return { type: 'range', response: this.doRange(cmd.request, this.header()) };
      case 'delete-range': {
        const header = this.header();
        return { type: 'delete-range', response: this.write(header, () => this.doDeleteRange(cmd.request, header)) };
      }
      case 'txn':
        return { type: 'txn', response: this.doTxn(cmd.request) };
      case 'compact':
        this.store.compact(cmd.revision);
        return { type: 'compact', response: { header: this.header() } };
      case 'lease-grant': {
        const lease = this.lessor.grant(cmd.id, Math.max(cmd.ttlSec, this.config.leaseTtlSecMin), cmd.nowMs);
        return { type: 'lease-grant', response: { header: this.header(), id: lease.id, ttlSec: lease.ttlSec } };
      }
      case 'lease-revoke':
        this.revokeLease(cmd.id);
        return { type: 'lease-revoke', response: { header: this.header() } };
      case 'lease-keepalive': {
        const lease = this.lessor.keepAlive(cmd.id, cmd.nowMs);
        return { type: 'lease-keepalive', response: { header: this.header(), id: lease.id, ttlSec: lease.ttlSec } };
      }
      case 'lease-expire': {
        const ids = cmd.ids ?? this.lessor.expired(cmd.nowMs, this.config.expireIdsMax);
        const expired: number[] = [];
        for (const id of ids) {
          const lease = this.lessor.get(id);
          // A keep-alive applied after the expire was proposed wins: skip leases no longer expired.
          if (lease === undefined || lease.expiryMs > cmd.nowMs) continue;
          this.revokeLease(id);
          expired.push(id);
        }
        return { type: 'lease-expire', response: { header: this.header(), expired } };
      }
      default:
        return unreachable(cmd, 'kv command');
    }
  }

  private header(): ResponseHeader {
    return { revision: this.store.revision };
  }

  /** Runs `body` in one write transaction; no client error may escape from inside it. */
  private write<T>(header: ResponseHeader, body: () => T): T {
    this.store.beginWrite();
    let out: T;
    try {
      out = body();
    } catch (err) {
      throw new AssertionError(`kv: error inside a write transaction (checks must run before writing): ${err instanceof Error ? err.message : String(err)}`);
    }
    this.store.endWrite();
    header.revision = this.store.revision;
    return out;
  }

  private checkPut(req: PutRequest): void {
    const lease = req.lease ?? 0;
    if (lease !== 0 && !req.ignoreLease) this.lessor.require(lease);
    if ((req.ignoreValue || req.ignoreLease) && this.store.get(toBin(req.key)) === undefined) {
      throw new KvError('key-not-found', `put with ${req.ignoreValue ? 'ignoreValue' : 'ignoreLease'} needs an existing key`);
    }
  }

  private doPut(req: PutRequest, header: ResponseHeader): PutResponse {
    const key = toBin(req.key);
    const current = this.store.get(key);
    const value = req.ignoreValue && current ? current.value : req.value;
    const lease = req.ignoreLease && current ? current.lease : (req.lease ?? 0);
    const prev = this.store.put(key, value, lease);
    if (prev !== undefined && prev.lease !== lease) this.lessor.detach(prev.lease, key);
    this.lessor.attach(lease, key);
    const res: PutResponse = { header };
    if (req.prevKv && prev !== undefined) res.prevKv = toKeyValue(prev);
    return res;
  }

  private doDeleteRange(req: DeleteRangeRequest, header: ResponseHeader): DeleteRangeResponse {
    const live = this.store.liveIn(rangeOf(req.key, req.rangeEnd));
    for (const v of live) {
      this.store.delete(v.key);
      this.lessor.detach(v.lease, v.key);
    }
    return { header, deleted: live.length, prevKvs: req.prevKv ? live.map((v) => toKeyValue(v)) : [] };
  }

  private checkRange(req: RangeRequest): void {
    const rev = req.revision ?? 0;
    if (rev > 0) this.store.checkReadable(rev);
  }

  private doRange(req: RangeRequest, header: ResponseHeader): RangeResponse {
    this.checkRange(req);
    const rev = req.revision ?? 0;
    let list = this.store.liveIn(rangeOf(req.key, req.rangeEnd), rev > 0 ? rev : Number.POSITIVE_INFINITY);
    const count = list.length;
    let order = req.sortOrder ?? 'none';
    const target = req.sortTarget ?? 'key';
    if (order === 'none' && target !== 'key') order = 'ascend';
    if (order === 'descend' || (order === 'ascend' && target !== 'key')) {
      const sign = order === 'descend' ? -1 : 1;
      const cmp = (a: KeyVersion, b: KeyVersion): number => {
        let d = 0;
        switch (target) {
          case 'key':
            d = 0;
            break;
          case 'version':
            d = a.version - b.version;
            break;
          case 'create':
            d = a.create - b.create;
            break;
          case 'mod':
            d = a.main - b.main;
            break;
          case 'value':
            d = compareBytes(a.value, b.value);
            break;
          default:
            unreachable(target, 'sort target');
        }
        if (d === 0) d = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
        return sign * d;
      };
      list = list.slice().sort(cmp);
    }
    const limit = req.limit ?? 0;
    const more = limit > 0 && list.length > limit;
    if (more) list = list.slice(0, limit);
    return { header, kvs: req.countOnly ? [] : list.map((v) => toKeyValue(v, req.keysOnly ?? false)), more, count };
  }

  private compareHolds(c: Compare): boolean {
    const live = this.store.liveIn(rangeOf(c.key, c.rangeEnd));
    // etcd: comparing the value of a missing key always fails; other targets compare with zero.
    if (live.length === 0 && c.target === 'value') return false;
    const subjects = live.length === 0 ? [zeroKv()] : live;
    for (const kv of subjects) {
      let d: number;
      switch (c.target) {
        case 'value':
          d = compareBytes(kv.value, c.value);
          break;
        case 'version':
          d = kv.version - c.number;
          break;
        case 'create':
          d = kv.create - c.number;
          break;
        case 'mod':
          d = kv.main - c.number;
          break;
        case 'lease':
          d = kv.lease - c.number;
          break;
        default:
          return unreachable(c, 'compare target');
      }
      const holds = c.result === 'equal' ? d === 0 : c.result === 'not-equal' ? d !== 0 : c.result === 'less' ? d < 0 : d > 0;
      if (!holds) return false;
    }
    return true;
  }

  private checkTxnBranch(ops: readonly RequestOp[], branch: string): void {
    // etcd: a txn may not write a key twice (two puts, or a put inside a deleted range).
    const puts = new Set<string>();
    const deletes: KeyRange[] = [];
    for (const op of ops) {
      if (op.type === 'put') {
        const k = toBin(op.request.key);
        if (puts.has(k)) throw new KvError('duplicate-key', `txn ${branch} puts key ${JSON.stringify(k)} twice`);
        puts.add(k);
      } else if (op.type === 'delete-range') {
        deletes.push(rangeOf(op.request.key, op.request.rangeEnd));
      }
    }
    for (const k of puts) {
      for (const r of deletes) if (inRange(k, r)) throw new KvError('duplicate-key', `txn ${branch} both puts and deletes key ${JSON.stringify(k)}`);
    }
  }

  private doTxn(req: TxnRequest): TxnResponse {
    this.checkTxnBranch(req.success, 'success');
    this.checkTxnBranch(req.failure, 'failure');
    const succeeded = req.compare.every((c) => this.compareHolds(c));
    const ops = succeeded ? req.success : req.failure;
    for (const op of ops) {
      if (op.type === 'put') this.checkPut(op.request);
      else if (op.type === 'range') this.checkRange(op.request);
    }
    const header = this.header();
    const run = (): ResponseOp[] =>
      ops.map((op): ResponseOp => {
        switch (op.type) {
          case 'range':
            return { type: 'range', response: this.doRange(op.request, header) };
          case 'put':
            return { type: 'put', response: this.doPut(op.request, header) };
          case 'delete-range':
            return { type: 'delete-range', response: this.doDeleteRange(op.request, header) };
          default:
            return unreachable(op, 'txn op');
        }
      });
    const writes = ops.some((op) => op.type !== 'range');
    const responses = writes ? this.write(header, run) : run();
    return { header, succeeded, responses };
  }

  private revokeLease(id: number): void {
    const keys = this.lessor.revoke(id);
    if (keys.length === 0) return;
    this.write(this.header(), () => {
      for (const k of keys) this.store.delete(k);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Local reads (not through the log)

  /** A read of this replica's state. Throws InvalidArgumentError / KvError (compacted, future revision). */
  range(request: RangeRequest): RangeResponse {
    const cmd = parseEntry({ command: { type: 'range', request } }, this.config).command;
    assert(cmd.type === 'range', 'parsed range');
    return this.doRange(cmd.request, this.header());
  }

  /** Remaining TTL of a lease at `nowMs` (etcd's LeaseTimeToLive). */
  leaseTimeToLive(id: number, nowMs: number, withKeys = false): LeaseTimeToLiveResponse {
    const lease = this.lessor.require(id);
    const ttlSec = Math.max(0, Math.ceil((lease.expiryMs - nowMs) / 1000));
    return { header: this.header(), id, ttlSec, grantedTtlSec: lease.ttlSec, keys: withKeys ? [...lease.keys].sort().map(fromBin) : [] };
  }

  /** Lease ids, ascending. */
  leases(): number[] {
    return this.lessor.all().map((l) => l.id);
  }

  /** Leases expired at `nowMs`, earliest first: what a leader puts in a lease-expire command. */
  expiredLeases(nowMs: number, max = this.config.expireIdsMax): number[] {
    return this.lessor.expired(nowMs, max);
  }

  status(): KvStatus {
    return {
      revision: this.store.revision,
      compactRevision: this.store.compactRevision,
      appliedIndex: this.appliedIndexValue,
      keysHeld: this.store.keysHeld,
      leases: this.lessor.size,
      clientSessions: this.sessions.size,
      watchers: this.watches.size,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * The whole replicated state as bytes: "CKKVSNAP", the SHA-256 of the body, then the body
   * (binary, see snapshot.ts). Deterministic: equal states give equal bytes. Built in one call;
   * a host that must keep serving uses `beginSnapshot()` and steps it across event-loop turns.
   */
  snapshot(): Uint8Array {
    const b = this.beginSnapshot();
    while (!b.step(Number.POSITIVE_INFINITY));
    return b.finish();
  }

  /**
   * Starts a snapshot of the current state (copy on write: O(1) for the history, a copy of
   * leases and sessions): the
   * builder's `step(n)` encodes n more versions (then copies the output in pieces), and
   * `finish()` gives the bytes `snapshot()` would have given now, whatever is applied in
   * between. `prefix` goes before them in the same buffer.
   */
  beginSnapshot(prefix?: Uint8Array): SnapshotBuilder {
    return new SnapshotBuilder(
      {
      appliedIndex: this.appliedIndexValue,
      revision: this.store.revision,
      compactRevision: this.store.compactRevision,
      nextLeaseId: this.lessor.nextId,
      history: this.store.openView(),
      leases: this.lessor.all().map((l) => [l.id, l.ttlSec, l.expiryMs] as const),
      sessions: this.sessions.entries().map(([id, s]) => [id, s.seq, s.result] as const),
      },
      prefix,
    );
  }

  /**
   * Like `beginSnapshot()` but over the key-value history only (revision, compact revision,
   * every held version): its digest (`finish()` bytes 8-40) is etcd's HashKV, equal on replicas
   * at the same revision even when their applied index or client sessions differ.
   */
  beginKvHash(): SnapshotBuilder {
    return new SnapshotBuilder({
      appliedIndex: 0,
      revision: this.store.revision,
      compactRevision: this.store.compactRevision,
      nextLeaseId: 0,
      history: this.store.openView(),
      leases: [],
      sessions: [],
    });
  }

  /** SHA-256 (hex) of the snapshot body: equal on replicas in the same state. */
  stateHash(): string {
    return Buffer.from(this.snapshot().subarray(8, SNAPSHOT_HEADER_BYTES)).toString('hex');
  }

  /**
   * Replaces the replicated state with a snapshot's. Throws CorruptionError (naming the offset)
   * when the bytes are damaged; the current state is kept in that case. Watchers stay; those
   * whose next revision was compacted are canceled at their next poll.
   */
  restore(bytes: Uint8Array): void {
    const where = 'kv snapshot';
    if (bytes.length < SNAPSHOT_HEADER_BYTES) throw new CorruptionError(where, 0, `${bytes.length} bytes is shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
    if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== SNAPSHOT_MAGIC) throw new CorruptionError(where, 0, `bad magic (expected ${SNAPSHOT_MAGIC})`);
    const body = bytes.subarray(SNAPSHOT_HEADER_BYTES);
    const digest = createHash('sha256').update(body).digest();
    if (!Buffer.from(bytes.subarray(8, SNAPSHOT_HEADER_BYTES)).equals(digest)) throw new CorruptionError(where, 8, 'checksum mismatch (SHA-256 of the body)');
    let parsed: SnapshotBody;
    try {
      // Format 2 (binary) starts with its format byte; format 1 (tagged JSON) with '{'.
      parsed =
        body[0] === 0x7b
          ? parseSnapshotBody(fromTaggedJson(new TextDecoder('utf-8', { fatal: true }).decode(body)))
          : decodeBinaryBody(body);
    } catch (err) {
      throw new CorruptionError(where, SNAPSHOT_HEADER_BYTES, `body does not parse: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.store.load(parsed.revision, parsed.compactRevision, parsed.versions);
    const leases: Lease[] = parsed.leases.map(([id, ttlSec, expiryMs]) => ({ id, ttlSec, expiryMs, keys: new Set<string>() }));
    this.lessor.load(leases, parsed.nextLeaseId);
    // Lease attachments follow from the current version of each key.
    for (const v of parsed.versions) {
      const current = this.store.get(v.key);
      if (current === v && v.lease !== 0) this.lessor.attach(v.lease, v.key);
    }
    this.sessions.load(parsed.sessions.map(([id, seq, result]): [string, Session] => [id, { seq, result }]));
    this.appliedIndexValue = parsed.appliedIndex;
  }
}

interface SnapshotBody {
  appliedIndex: number;
  revision: number;
  compactRevision: number;
  nextLeaseId: number;
  versions: KeyVersion[];
  leases: [number, number, number][];
  sessions: [string, number, string][];
}

function parseSnapshotBody(x: unknown): SnapshotBody {
  const fail = (what: string): never => {
    throw new Error(what);
  };
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  if (typeof x !== 'object' || x === null) fail('not an object');
  const o = x as Record<string, unknown>;
  if (o.format !== SNAPSHOT_FORMAT_JSON) fail(`unknown format ${JSON.stringify(o.format)}`);
  for (const k of ['appliedIndex', 'revision', 'compactRevision', 'nextLeaseId']) if (!isInt(o[k])) fail(`${k} is not an integer`);
  if (!Array.isArray(o.versions) || !Array.isArray(o.leases) || !Array.isArray(o.sessions)) fail('versions, leases, sessions must be arrays');
  const versions = (o.versions as unknown[]).map((row, i): KeyVersion => {
    if (!Array.isArray(row) || row.length !== 8) return fail(`versions[${i}] malformed`);
    const [key, main, sub, value, create, version, lease, tomb] = row as unknown[];
    if (!(key instanceof Uint8Array) || !(value instanceof Uint8Array)) return fail(`versions[${i}] key/value not bytes`);
    if (![main, sub, create, version, lease].every(isInt) || (tomb !== 0 && tomb !== 1)) return fail(`versions[${i}] fields malformed`);
    return { key: toBin(key), main: main as number, sub: sub as number, value, create: create as number, version: version as number, lease: lease as number, tombstone: tomb === 1 };
  });
  const leases = (o.leases as unknown[]).map((row, i): [number, number, number] => {
    if (!Array.isArray(row) || row.length !== 3 || !row.every(isInt)) return fail(`leases[${i}] malformed`);
    return row as [number, number, number];
  });
  const sessions = (o.sessions as unknown[]).map((row, i): [string, number, string] => {
    if (!Array.isArray(row) || row.length !== 3 || typeof row[0] !== 'string' || !isInt(row[1]) || typeof row[2] !== 'string') return fail(`sessions[${i}] malformed`);
    return row as [string, number, string];
  });
  return {
    appliedIndex: o.appliedIndex as number,
    revision: o.revision as number,
    compactRevision: o.compactRevision as number,
    nextLeaseId: o.nextLeaseId as number,
    versions,
    leases,
    sessions,
  };
}

function errorResult(err: unknown): KvResult {
  if (err instanceof KvError) return { ok: false, error: { code: err.kvCode, message: err.message } };
  if (err instanceof InvalidArgumentError) return { ok: false, error: { code: 'invalid-argument', message: err.message } };
  throw err;
}
