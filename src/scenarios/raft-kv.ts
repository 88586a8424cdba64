/**
 * A replicated key-value register on the Raft core, hosted in the simulator: `RaftKvServer` is
 * the SimNode adapter (ticks from a timer, Ready drained in the documented order, entries and
 * hard state persisted in a CRC'd WAL with an asynchronous fsync before dependent messages go
 * out, recovery after a crash, periodic snapshots with log compaction) and `RaftKvClient` is a
 * client node that follows leader hints. `RaftChecker` watches every server and records the first
 * violation of a Raft invariant (election safety, log matching, leader completeness, state machine
 * safety, commit monotonic within an incarnation).
 *
 * Writes and cas go through the log with (client, request id) de-duplication; reads use
 * ReadIndex (or the leader lease when configured).
 *
 * Leaves out: client sessions that survive leader changes (a client whose request is in doubt
 * times out, and the history records it as `info`).
 */
import { applyRegisterCommand, type RegisterCommand, type RegisterState } from './kv-register.ts';
import { type KvClientMsg, LeaderKvClient, leaderKvDriver } from './kv-client.ts';
import type { NodeId } from '../core/ids.ts';
import { ClusterkitError } from '../core/errors.ts';
import type { RaftConfig } from '../consensus/raft/config.ts';
import { Raft, type Ready } from '../consensus/raft/raft.ts';
import type { MemoryStorage } from '../consensus/raft/storage.ts';
import type { ConfState, Entry, Message } from '../consensus/raft/types.ts';
import type { KvValue } from '../sim/history.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { KvClientDriver, KvOp } from '../sim/workload.ts';
import { recoverStorage, rewriteWal, SNAP_FILE, snapshotFile, WAL_FILE, walEntriesRecord, walHardStateRecord } from './raft-wal.ts';

export type RaftKvMsg =
  | { type: 'raft'; m: Message }
  | KvClientMsg;

const enc = new TextEncoder();
const dec = new TextDecoder();

type Command = RegisterCommand;
type KvState = RegisterState;

function entryKey(e: Entry): string {
  return e.type === 'normal' ? `${e.term}:n:${dec.decode(e.data)}` : `${e.term}:c:${JSON.stringify(e.change)}`;
}

/** Records the first invariant violation seen across all servers. */
export class RaftChecker {
  violation: string | undefined;
  readonly leaders = new Map<number, NodeId>();
  /** index -> entry key applied there by some server (committed entries). */
  readonly applied = new Map<number, string>();
  /**
   * index -> the smallest current term of a server when it applied the entry: an upper bound
   * on the term in which the entry was committed.
   */
  private readonly appliedTerm = new Map<number, number>();
  /** "index:term" -> [entry key, term of index-1 or -1 if unknown]. */
  private readonly logged = new Map<string, [string, number]>();
  maxAppliedIndex = 0;

  fail(what: string): void {
    if (this.violation === undefined) this.violation = what;
  }

  onLeader(id: NodeId, term: number): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== id) this.fail(`election safety: ${prev} and ${id} are both leaders in term ${term}`);
    this.leaders.set(term, id);
  }

  onPersist(id: NodeId, entries: readonly Entry[], storage: MemoryStorage): void {
    for (const e of entries) {
      const prevTerm = storage.term(e.index - 1) ?? -1;
      const k = `${e.index}:${e.term}`;
      const key = entryKey(e);
      const seen = this.logged.get(k);
      if (!seen) {
        this.logged.set(k, [key, prevTerm]);
        continue;
      }
      if (seen[0] !== key) this.fail(`log matching: ${id} has a different entry at index ${e.index} term ${e.term}`);
      if (seen[1] >= 0 && prevTerm >= 0 && seen[1] !== prevTerm) {
        this.fail(`log matching: ${id} entry ${e.index}/${e.term} follows term ${prevTerm}, elsewhere term ${seen[1]}`);
      }
    }
  }

  onApply(id: NodeId, e: Entry, currentTerm: number): void {
    const key = entryKey(e);
    const prev = this.applied.get(e.index);
    if (prev !== undefined && prev !== key) this.fail(`state machine safety: ${id} applied a different entry at index ${e.index}`);
    this.applied.set(e.index, key);
    this.appliedTerm.set(e.index, Math.min(this.appliedTerm.get(e.index) ?? currentTerm, currentTerm));
    if (e.index > this.maxAppliedIndex) this.maxAppliedIndex = e.index;
  }

  /**
   * Leader completeness (§5.4): an entry committed in term T is in the log of every leader of a
   * term after T. Checked for entries applied while some server was at a term below the leader's
   * (so committed in an earlier term), when the leader first drains a Ready as leader.
   */
  onBecomeLeader(id: NodeId, raft: Raft): void {
    const first = raft.log.firstIndex();
    for (const [index, key] of this.applied) {
      if (index < first || (this.appliedTerm.get(index) ?? raft.term) >= raft.term) continue;
      const t = raft.log.term(index);
      const term = Number(key.slice(0, key.indexOf(':')));
      if (t !== term) {
        this.fail(`leader completeness: leader ${id} (term ${raft.term}) lacks committed entry ${index} (term ${term}, has ${t})`);
        return;
      }
    }
  }
}

export interface RaftKvServerOptions {
  bootstrap: ConfState;
  config: Partial<RaftConfig>;
  tickMs: number;
  checker: RaftChecker;
  /** Take a snapshot after this many applied entries since the last one; 0 = never. */
  snapshotEveryEntries: number;
  /** Entries kept behind a snapshot for slow followers. */
  compactionLagEntries: number;
  /** Deliberately broken: send every message before the fsync (tests show the checkers catch it). */
  unsafeSendBeforeSync?: boolean;
}

export class RaftKvServer implements SimNode<RaftKvMsg> {
  private ctx!: SimContext<RaftKvMsg>;
  raft!: Raft;
  storage!: MemoryStorage;
  private readonly opts: RaftKvServerOptions;
  private kv: KvState = { data: {}, lastId: {}, lastResult: {} };
  private syncing = false;
  private readonly pendingWrites = new Set<string>();
  private readonly pendingReads = new Map<string, { client: NodeId; id: number; key: string }>();
  private readStates: { index: number; context: string }[] = [];
  private lastCommit = 0;
  private lastRole = '';
  readonly stats = { truncatedBytes: 0, snapshots: 0, snapshotsInstalled: 0, recoveredRecords: 0 };

  constructor(opts: RaftKvServerOptions) {
    this.opts = opts;
  }

  start(ctx: SimContext<RaftKvMsg>): void {
    this.ctx = ctx;
    const rec = recoverStorage(ctx.disk, this.opts.bootstrap);
    this.storage = rec.storage;
    this.stats.truncatedBytes = rec.truncatedBytes;
    this.stats.recoveredRecords = rec.records;
    if (rec.truncatedBytes > 0) ctx.trace(`truncated ${rec.truncatedBytes} bytes of torn WAL tail`);
    this.restoreKv(this.storage.snapshot().data);
    this.raft = new Raft({ id: ctx.id, storage: this.storage, rng: ctx.rng.fork('raft'), config: this.opts.config });
    this.lastCommit = this.raft.log.committed;
    this.scheduleTick();
    this.drain();
  }

  /** Committed value of a key on this replica. */
  valueOf(key: string): KvValue {
    return this.kv.data[key] ?? null;
  }

  private restoreKv(data: Uint8Array): void {
    this.kv = data.byteLength === 0 ? { data: {}, lastId: {}, lastResult: {} } : (JSON.parse(dec.decode(data)) as KvState);
  }

  private scheduleTick(): void {
    this.ctx.setTimer(this.opts.tickMs, () => {
      this.raft.tick();
      this.drain();
      this.scheduleTick();
    });
  }

  onMessage(from: NodeId, msg: RaftKvMsg): void {
    switch (msg.type) {
      case 'raft':
        this.raft.step(msg.m);
        break;
      case 'req':
        this.handleRequest(from, msg.client, msg.id, msg.op);
        break;
      case 'res':
      case 'redirect':
        return;
    }
    this.drain();
  }

  /** Runs `f` against the core from outside (nemesis actions); swallows definite errors. */
  act(f: (raft: Raft) => void): boolean {
    try {
      f(this.raft);
      this.drain();
      return true;
    } catch (err) {
      if (err instanceof ClusterkitError) return false;
      throw err;
    }
  }

  private handleRequest(from: NodeId, client: NodeId, id: number, op: KvOp): void {
    const redirect = () => this.ctx.send(from, { type: 'redirect', id, leader: this.raft.leader });
    if (this.raft.role !== 'leader') {
      redirect();
      return;
    }
    const ctxKey = `${client}/${id}`;
    try {
      if (op.f === 'read') {
        this.raft.readIndex(ctxKey);
        this.pendingReads.set(ctxKey, { client, id, key: op.key });
      } else {
        const cmd: Command = { c: client, i: id, op };
        this.raft.propose(enc.encode(JSON.stringify(cmd)));
        this.pendingWrites.add(ctxKey);
      }
    } catch (err) {
      if (err instanceof ClusterkitError && err.definite) redirect();
      else throw err;
    }
  }

  private drain(): void {
    while (!this.syncing && this.raft.hasReady()) {
      const rd = this.raft.ready();
      this.persist(rd);
      const early = this.opts.unsafeSendBeforeSync === true;
      for (const om of rd.messages) if (early || !om.afterSync) this.ctx.send(om.message.to, { type: 'raft', m: om.message });
      if (rd.mustSync) {
        this.syncing = true;
        this.ctx.disk.fsyncAllAsync(() => {
          this.syncing = false;
          this.finish(rd);
          this.drain();
        });
        return;
      }
      this.finish(rd);
    }
  }

  private persist(rd: Ready): void {
    const disk = this.ctx.disk;
    if (rd.snapshot) {
      this.stats.snapshotsInstalled++;
      disk.write(SNAP_FILE, snapshotFile(rd.snapshot));
      disk.fsync(SNAP_FILE);
      this.storage.applySnapshot(rd.snapshot);
      rewriteWal(disk, this.storage);
      this.restoreKv(rd.snapshot.data);
    }
    if (rd.entries.length > 0) {
      disk.append(WAL_FILE, walEntriesRecord(rd.entries));
      this.storage.append(rd.entries);
      this.opts.checker.onPersist(this.ctx.id, rd.entries, this.storage);
    }
    if (rd.hardState) {
      disk.append(WAL_FILE, walHardStateRecord(rd.hardState));
      this.storage.setHardState(rd.hardState);
    }
  }

  private finish(rd: Ready): void {
    if (this.opts.unsafeSendBeforeSync !== true) for (const om of rd.messages) if (om.afterSync) this.ctx.send(om.message.to, { type: 'raft', m: om.message });
    for (const e of rd.committedEntries) this.apply(e);
    for (const r of rd.readStates) this.readStates.push(r);
    this.raft.advance(rd);
    const checker = this.opts.checker;
    if (this.raft.log.committed < this.lastCommit) {
      checker.fail(`commit index of ${this.ctx.id} went back from ${this.lastCommit} to ${this.raft.log.committed}`);
    }
    this.lastCommit = this.raft.log.committed;
    if (this.raft.role === 'leader') {
      checker.onLeader(this.ctx.id, this.raft.term);
      if (this.lastRole !== 'leader') checker.onBecomeLeader(this.ctx.id, this.raft);
    }
    this.lastRole = this.raft.role;
    this.serveReads();
    this.maybeSnapshot();
  }

  private apply(e: Entry): void {
    this.opts.checker.onApply(this.ctx.id, e, this.raft.term);
    if (e.type !== 'normal' || e.data.byteLength === 0) return;
    const cmd = JSON.parse(dec.decode(e.data)) as Command;
    const key = `${cmd.c}/${cmd.i}`;
    const outcome = applyRegisterCommand(this.kv, cmd);
    if (this.pendingWrites.delete(key)) this.ctx.send(cmd.c, { type: 'res', id: cmd.i, outcome });
  }

  private serveReads(): void {
    if (this.readStates.length === 0) return;
    const applied = this.raft.log.applied;
    const rest: { index: number; context: string }[] = [];
    for (const r of this.readStates) {
      if (r.index > applied) {
        rest.push(r);
        continue;
      }
      const p = this.pendingReads.get(r.context);
      if (!p) continue;
      this.pendingReads.delete(r.context);
      this.ctx.send(p.client, { type: 'res', id: p.id, outcome: { type: 'ok', value: this.kv.data[p.key] ?? null } });
    }
    this.readStates = rest;
  }

  private maybeSnapshot(): void {
    const every = this.opts.snapshotEveryEntries;
    if (every <= 0) return;
    const applied = this.raft.log.applied;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (applied - snapIndex < every || applied > this.storage.lastIndex()) return;
    const snap = this.storage.createSnapshot(applied, this.raft.confState(), enc.encode(JSON.stringify(this.kv)));
    this.ctx.disk.write(SNAP_FILE, snapshotFile(snap));
    this.ctx.disk.fsync(SNAP_FILE);
    const compactTo = applied - this.opts.compactionLagEntries;
    if (compactTo > this.storage.firstIndex()) {
      this.storage.compact(compactTo);
      rewriteWal(this.ctx.disk, this.storage);
    }
    this.stats.snapshots++;
  }
}

/** A client node of this register (see kv-client.ts). */
export class RaftKvClient extends LeaderKvClient {}

export const raftKvDriver: (clientOf: (process: number) => RaftKvClient | undefined) => KvClientDriver = leaderKvDriver;
