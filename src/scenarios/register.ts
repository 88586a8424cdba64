/**
 * A tiny protocol that exercises the simulator before the real protocols arrive: one durable
 * key-value register server and its clients.
 *
 * The server keeps a write-ahead log on its simulated disk (length + FNV-1a checksum + JSON per
 * record) and uses group commit: requests queue while an fsync is in flight; the next batch is
 * evaluated against a speculative state, its records appended, one asynchronous fsync issued,
 * and only then is the state committed and every reply in the batch sent (reads included, so no
 * reply ever exposes unsynced data). Requests carry (client, id) and the server remembers the
 * highest id applied per client durably, so duplicated or delayed requests apply once.
 * Recovery replays the log and truncates a torn or corrupt tail.
 *
 * `unsafeAckBeforeFsync` replies before the fsync completes: a deliberately broken variant the
 * tests use to show that the disk model loses unsynced writes and the checker notices.
 */
import { assert, unreachable } from '../core/assert.ts';
import { fnv1a32 } from '../core/rng.ts';
import type { NodeId } from '../core/ids.ts';
import type { KvValue } from '../sim/history.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { KvClientDriver, KvOp, KvOutcome } from '../sim/workload.ts';

export type RegisterMsg =
  | { type: 'req'; client: NodeId; id: number; op: KvOp }
  | { type: 'res'; id: number; outcome: KvOutcome };

export const WAL_FILE = 'register.wal';

interface WalRecord {
  client: NodeId;
  id: number;
  key: string;
  value: KvValue;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(rec: WalRecord): Uint8Array {
  const body = encoder.encode(JSON.stringify(rec));
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  view.setUint32(4, fnv1a32(decoder.decode(body)));
  out.set(body, 8);
  return out;
}

/** Scans a log: valid records and the byte length of the valid prefix. */
export function scanLog(bytes: Uint8Array): { records: WalRecord[]; validBytes: number } {
  const records: WalRecord[] = [];
  let off = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (off + 8 <= bytes.length) {
    const len = view.getUint32(off);
    const sum = view.getUint32(off + 4);
    if (off + 8 + len > bytes.length) break;
    const text = decoder.decode(bytes.subarray(off + 8, off + 8 + len));
    if (fnv1a32(text) !== sum) break;
    let rec: WalRecord;
    try {
      rec = JSON.parse(text) as WalRecord;
    } catch {
      break;
    }
    records.push(rec);
    off += 8 + len;
  }
  return { records, validBytes: off };
}

export interface RegisterServerOptions {
  unsafeAckBeforeFsync?: boolean;
  /** Most requests evaluated in one group commit. */
  batchMax?: number;
}

export class RegisterServer implements SimNode<RegisterMsg> {
  private ctx!: SimContext<RegisterMsg>;
  private readonly state = new Map<string, KvValue>();
  private readonly lastApplied = new Map<NodeId, number>();
  private queue: { from: NodeId; msg: RegisterMsg & { type: 'req' } }[] = [];
  private syncing = false;
  private readonly opts: Required<RegisterServerOptions>;
  /** Counters for tests. */
  readonly stats = { batches: 0, recovered: 0, truncatedBytes: 0 };

  constructor(opts: RegisterServerOptions = {}) {
    this.opts = { unsafeAckBeforeFsync: opts.unsafeAckBeforeFsync ?? false, batchMax: opts.batchMax ?? 64 };
  }

  start(ctx: SimContext<RegisterMsg>): void {
    this.ctx = ctx;
    const bytes = ctx.disk.read(WAL_FILE) ?? new Uint8Array(0);
    const { records, validBytes } = scanLog(bytes);
    for (const r of records) this.applyRecord(r);
    this.stats.recovered = records.length;
    if (validBytes < bytes.length) {
      // Torn or corrupt tail: keep the valid prefix, durably.
      this.stats.truncatedBytes = bytes.length - validBytes;
      ctx.disk.write(WAL_FILE, bytes.subarray(0, validBytes));
      ctx.disk.fsync(WAL_FILE);
      ctx.trace(`truncated ${bytes.length - validBytes} bytes of torn tail`);
    }
  }

  /** Committed value of a key (for checkers). */
  valueOf(key: string): KvValue {
    return this.state.get(key) ?? null;
  }

  onMessage(from: NodeId, msg: RegisterMsg): void {
    switch (msg.type) {
      case 'req':
        this.queue.push({ from, msg });
        this.pump();
        return;
      case 'res':
        return;
      default:
        unreachable(msg, 'message');
    }
  }

  private applyRecord(r: WalRecord): void {
    this.state.set(r.key, r.value);
    this.lastApplied.set(r.client, Math.max(this.lastApplied.get(r.client) ?? 0, r.id));
  }

  private pump(): void {
    if (this.syncing || this.queue.length === 0) return;
    const batch = this.queue.slice(0, this.opts.batchMax);
    this.queue = this.queue.slice(batch.length);
    const spec = new Map(this.state);
    const specApplied = new Map(this.lastApplied);
    const records: WalRecord[] = [];
    const replies: { to: NodeId; id: number; outcome: KvOutcome }[] = [];
    for (const { from, msg } of batch) {
      const { op, client, id } = msg;
      if ((specApplied.get(client) ?? 0) >= id) continue; // duplicate or stale: applied already
      const current = spec.get(op.key) ?? null;
      let outcome: KvOutcome;
      switch (op.f) {
        case 'read':
          outcome = { type: 'ok', value: current };
          break;
        case 'write': {
          const value = op.value as KvValue;
          spec.set(op.key, value);
          records.push({ client, id, key: op.key, value });
          outcome = { type: 'ok' };
          break;
        }
        case 'cas': {
          const [expect, next] = op.value as [KvValue, KvValue];
          if (current === expect) {
            spec.set(op.key, next);
            records.push({ client, id, key: op.key, value: next });
            outcome = { type: 'ok' };
          } else {
            outcome = { type: 'fail', error: `cas: expected ${JSON.stringify(expect)}, found ${JSON.stringify(current)}` };
          }
          break;
        }
        default:
          unreachable(op.f, 'op');
      }
      specApplied.set(client, id);
      replies.push({ to: from, id, outcome });
    }
    this.stats.batches++;
    for (const r of records) this.ctx.disk.append(WAL_FILE, encodeRecord(r));
    const commit = () => {
      for (const r of records) this.applyRecord(r);
      for (const [c, id] of specApplied) this.lastApplied.set(c, Math.max(this.lastApplied.get(c) ?? 0, id));
    };
    if (records.length === 0 || this.opts.unsafeAckBeforeFsync) {
      // Nothing to persist (reads, failed cas: all earlier batches are synced), or the unsafe variant.
      commit();
      for (const r of replies) this.ctx.send(r.to, { type: 'res', id: r.id, outcome: r.outcome });
      if (records.length > 0) this.ctx.disk.fsyncAllAsync(() => {});
      this.pump();
      return;
    }
    this.syncing = true;
    this.ctx.disk.fsyncAllAsync(() => {
      this.syncing = false;
      commit();
      for (const r of replies) this.ctx.send(r.to, { type: 'res', id: r.id, outcome: r.outcome });
      this.pump();
    });
  }
}

/** A client node: sends requests to the server and hands replies back to the workload. */
export class RegisterClient implements SimNode<RegisterMsg> {
  private ctx!: SimContext<RegisterMsg>;
  private nextId = 1;
  private readonly waiting = new Map<number, (o: KvOutcome) => void>();
  private readonly server: NodeId;

  constructor(server: NodeId) {
    this.server = server;
  }

  start(ctx: SimContext<RegisterMsg>): void {
    this.ctx = ctx;
  }

  request(op: KvOp, done: (o: KvOutcome) => void): void {
    const id = this.nextId++;
    this.waiting.set(id, done);
    this.ctx.send(this.server, { type: 'req', client: this.ctx.id, id, op });
  }

  onMessage(_from: NodeId, msg: RegisterMsg): void {
    if (msg.type !== 'res') return;
    const done = this.waiting.get(msg.id);
    if (done === undefined) return;
    this.waiting.delete(msg.id);
    done(msg.outcome);
  }
}

/** Routes workload process p to client node c((p mod clients) + 1). */
export function registerDriver(clientOf: (process: number) => RegisterClient | undefined): KvClientDriver {
  return {
    invoke(process, op, done) {
      const client = clientOf(process);
      assert(client !== undefined, `no client node for process ${process}`);
      client.request(op, done);
    },
  };
}
