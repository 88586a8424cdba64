/**
 * `KvNode`: one member of a real clusterkit KV cluster. It hosts the sans-IO Raft core
 * (consensus/raft) on real timers, disks and sockets, and applies the committed log to the
 * etcd-like `KvStateMachine`. Raft paper §5-§7 and Ongaro's thesis §6.3-§6.4 (client
 * interaction, ReadIndex), §4 (membership); etcd's raft host (`raftNode`) is the model.
 *
 * The Ready loop (one Ready at a time, in the core's documented order):
 *  1. a snapshot from the leader is written to its own file (fsynced), the state machine restored;
 *  2. messages that need not wait for the disk go out (the leader's appends: thesis §10.2.1; a
 *     candidate's vote requests: §3.8, its own vote counts only at `advance()`);
 *  3. entries, the hard state and (after 1) a snapshot marker are appended to the WAL as ONE
 *     batch: one write and one fdatasync, shared with nothing else (group commit: every
 *     proposal that arrived while the previous fsync ran is in this batch);
 *  4. committed entries are applied (while the fsync of step 3 runs: they are durable on a
 *     quorum already) and ReadIndex results served once applied; after the fsync, the messages
 *     that depend on it go out; `advance()`.
 * Every `snapshotEveryEntries` applied entries the node writes a snapshot, compacts its in-memory
 * log (keeping `compactionLagEntries` for slow followers) and deletes WAL segments it covers.
 *
 * Clients: `propose` resolves when the entry is applied on THIS node (a follower forwards the
 * proposal to the leader through Raft itself, so every node accepts writes). Errors say whether
 * the write may have happened: no leader known within `leaderWaitMs` → definite; timed out or
 * leader changed after proposing → indefinite. Linearizable reads batch concurrent callers into
 * one ReadIndex round; serializable reads read the local replica. Leases expire by the leader
 * proposing `lease-expire` commands (its clock, replicated as data). Client de-duplication is the
 * state machine's (`client: {id, seq}` on an entry).
 *
 * Membership: a member's addresses are replicated as log entries (so every node can dial a new
 * member) before the Raft configuration change that adds it; `addMember` / `promoteMember` /
 * `removeMember` wait until the change is applied here.
 *
 * A log found to have lost entries it had acknowledged (`RaftLogLostError`: a heartbeat's commit
 * index beyond the log's end, or a stored commit index beyond the stored log at start) stops
 * the node with a message naming its data directory; it never serves from such a log.
 *
 * Deliberately left out: leadership-transfer on shutdown, learner catch-up checks before
 * promotion, and streaming snapshots larger than memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRng } from '../core/rng.ts';
import { ClusterkitError, ConfigError, CorruptionError, DefiniteError, IndefiniteError, InvalidArgumentError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import { parseNodeId } from '../core/ids.ts';
import type { RaftConfig } from '../consensus/raft/config.ts';
import { Raft, RaftLogLostError, type Ready } from '../consensus/raft/raft.ts';
import { MemoryStorage } from '../consensus/raft/storage.ts';
import { type ConfChange, type ConfState, type Entry, type HardState, NONE, type Message, type Snapshot } from '../consensus/raft/types.ts';
import {
  decodeConfState,
  decodeEntryRecord,
  decodeHardState,
  encodeConfState,
  encodeHardState,
  entryRecord,
  hardStateRecord,
  laterHardState,
  raftMessageCodec,
  snapshotMarkerRecord,
  WAL_ENTRY,
  WAL_HARD_STATE,
  WAL_SNAPSHOT,
} from '../runtime/raft-codec.ts';
import { NodeStorage } from '../runtime/storage/node-storage.ts';
import type { WalRecord } from '../runtime/storage/record.ts';
import { type PeerAddress, TcpTransport, type TransportLogger } from '../runtime/transport/tcp.ts';
import { encodeEntry } from './codec.ts';
import { type KvConfig, KvStateMachine } from './state-machine.ts';
import type { ClientTag, KvCommand, KvResult, PutRequest, RangeRequest, RangeResponse, WatchCreateRequest, WatchResponse } from './types.ts';
import { validateCommand } from './validate.ts';

export interface MemberInfo {
  name: NodeId;
  peerURLs: string[];
  clientURLs: string[];
}

export interface KvNodeLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface KvNodeOptions {
  name: NodeId;
  /** Names the cluster; a data dir written for another cluster id is refused. */
  clusterId: string;
  dataDir: string;
  /** Where this node listens for peers. Port 0 picks a free port. */
  peerListen: PeerAddress;
  /** Advertised client URL (for member lists), e.g. http://127.0.0.1:2379. */
  clientURL?: string;
  /** Initial members with their peer addresses (this node may be included). */
  peers: Record<NodeId, PeerAddress>;
  /** Start outside the configuration, to be added with addMember (etcd's initial-cluster-state=existing). */
  join?: boolean;
  /** Shared cluster key (>= 16 bytes) for peer authentication. */
  clusterKey?: Uint8Array;
  /** Milliseconds per Raft tick. Default 100 (election timeout 10-20 ticks, heartbeat 1 tick). */
  tickMs?: number;
  raft?: Partial<RaftConfig>;
  kv?: Partial<KvConfig>;
  /** Snapshot after this many applied entries. Default 100000 (etcd's --snapshot-count). */
  snapshotEveryEntries?: number;
  /** Entries kept in memory behind a snapshot for slow followers. Default 5000. */
  compactionLagEntries?: number;
  /**
   * Automatic MVCC compaction (etcd's --auto-compaction-mode revision): the leader proposes a
   * compaction at `revision - autoCompactionRetention` whenever the history has grown by a
   * tenth of the retention past the last compaction. 0 turns it off. Default 10000 revisions.
   */
  autoCompactionRetention?: number;
  /** Versions encoded per event-loop turn while a snapshot is built. Default 2000. */
  snapshotStepVersions?: number;
  /** WAL segment size. Default 64 MiB. */
  walSegmentBytes?: number;
  /** A proposal not applied within this fails with an indefinite timeout. Default 5000 ms. */
  proposalTimeoutMs?: number;
  /** How long a request waits for a leader to be known before failing definitely. Default 2000 ms. */
  leaderWaitMs?: number;
  /** Linearizable reads not confirmed within this fail (reads are safe to retry). Default 5000 ms. */
  readTimeoutMs?: number;
  /** How often the leader looks for expired leases. Default 500 ms. */
  leaseCheckMs?: number;
  /** Most proposals waiting to be applied on this node; beyond it requests fail 'overloaded'. Default 100000. */
  pendingProposalsMax?: number;
  /** Most linearizable reads waiting (for a ReadIndex round or for the apply); beyond it reads fail 'overloaded'. Default 100000. */
  pendingReadsMax?: number;
  logger?: KvNodeLogger;
  /** Called once if the node stops on an unrecoverable error (disk failure). */
  onFatal?: (err: unknown) => void;
}

export interface KvNodeStatus {
  name: NodeId;
  clusterId: string;
  memberId: string;
  clusterIdNumeric: string;
  leader: NodeId;
  role: string;
  term: number;
  commit: number;
  applied: number;
  lastIndex: number;
  snapshotIndex: number;
  revision: number;
  compactRevision: number;
  keysHeld: number;
  confState: ConfState;
  isLearner: boolean;
  removed: boolean;
  walSyncs: number;
  walSegments: number;
  pendingProposals: number;
}

interface PendingProposal {
  resolve: (r: KvResult) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface ReadWaiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

const ENVELOPE_KV = 1;
const ENVELOPE_MEMBER = 2;
/** A plain put in binary (no JSON, no base64): the common write, kept cheap on every replica. */
const ENVELOPE_PUT = 3;

function encodePut(req: PutRequest): Uint8Array {
  const out = new Uint8Array(4 + req.key.length + 4 + req.value.length + 9);
  const view = new DataView(out.buffer);
  view.setUint32(0, req.key.length);
  out.set(req.key, 4);
  let at = 4 + req.key.length;
  view.setUint32(at, req.value.length);
  out.set(req.value, at + 4);
  at += 4 + req.value.length;
  view.setFloat64(at, req.lease ?? 0);
  view.setUint8(at + 8, req.prevKv === true ? 1 : 0);
  return out;
}

function decodePut(b: Uint8Array): PutRequest | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 17) return undefined;
  const keyLength = view.getUint32(0);
  if (4 + keyLength + 4 > b.length) return undefined;
  const key = b.slice(4, 4 + keyLength);
  let at = 4 + keyLength;
  const valueLength = view.getUint32(at);
  if (at + 4 + valueLength + 9 !== b.length) return undefined;
  const value = b.slice(at + 4, at + 4 + valueLength);
  at += 4 + valueLength;
  const lease = view.getFloat64(at);
  const req: PutRequest = { key, value };
  if (lease !== 0) req.lease = lease;
  if (view.getUint8(at + 8) === 1) req.prevKv = true;
  return req;
}
const enc = new TextEncoder();
const dec = new TextDecoder();

/** etcd-style uint64 id (decimal string) for a name: first 8 bytes of its SHA-256, top bit cleared. */
export function numericId(name: string): string {
  const h = createHash('sha256').update(name).digest();
  return (h.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn).toString();
}

function envelope(kind: number, id: string, body: Uint8Array): Uint8Array {
  const idBytes = enc.encode(id);
  const out = new Uint8Array(3 + idBytes.length + body.length);
  out[0] = kind;
  out[1] = idBytes.length >> 8;
  out[2] = idBytes.length & 0xff;
  out.set(idBytes, 3);
  out.set(body, 3 + idBytes.length);
  return out;
}

function openEnvelope(data: Uint8Array): { kind: number; id: string; body: Uint8Array } | undefined {
  if (data.length < 3) return undefined;
  const n = ((data[1] as number) << 8) | (data[2] as number);
  if (3 + n > data.length) return undefined;
  return { kind: data[0] as number, id: dec.decode(data.subarray(3, 3 + n)), body: data.subarray(3 + n) };
}

/** Node snapshot data: u32 length | members JSON | KV state machine snapshot. This is the part before the KV snapshot. */
function nodeSnapshotPrefix(members: Map<NodeId, MemberInfo>): Uint8Array {
  const meta = enc.encode(JSON.stringify({ members: [...members.values()] }));
  const out = new Uint8Array(4 + meta.length);
  new DataView(out.buffer).setUint32(0, meta.length);
  out.set(meta, 4);
  return out;
}

function decodeNodeSnapshot(data: Uint8Array, where: string): { members: MemberInfo[]; kv: Uint8Array } {
  if (data.length < 4) throw new CorruptionError(where, 0, 'snapshot data shorter than its header');
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  if (4 + n > data.length) throw new CorruptionError(where, 0, 'snapshot member table runs past the end');
  let members: MemberInfo[];
  try {
    members = (JSON.parse(dec.decode(data.subarray(4, 4 + n))) as { members: MemberInfo[] }).members;
  } catch {
    throw new CorruptionError(where, 4, 'snapshot member table does not parse');
  }
  return { members, kv: data.subarray(4 + n) };
}

export function parsePeerURL(url: string, what = 'peer URL'): PeerAddress {
  const m = /^(?:https?:\/\/)?([^:/\s]+):(\d{1,5})\/?$/.exec(url.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new InvalidArgumentError(`${what} ${JSON.stringify(url)} must look like http://127.0.0.1:2380`);
  return { host: m[1] as string, port };
}

const silentLogger: KvNodeLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class KvNode {
  readonly name: NodeId;
  readonly clusterId: string;
  readonly memberId: string;
  readonly clusterIdNumeric: string;
  readonly kv: KvStateMachine;
  readonly members = new Map<NodeId, MemberInfo>();
  raft!: Raft;
  private storage!: NodeStorage;
  private mem!: MemoryStorage;
  private transport!: TcpTransport<Message>;
  private readonly opts: Required<Omit<KvNodeOptions, 'clusterKey' | 'onFatal' | 'clientURL' | 'raft' | 'kv'>> & KvNodeOptions;
  private readonly log: KvNodeLogger;
  private readonly incarnation = randomBytes(6).toString('hex');
  private seq = 0;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private leaseTimer: ReturnType<typeof setInterval> | undefined;
  private draining = false;
  private drainScheduled = false;
  private stopped = false;
  private readonly proposals = new Map<string, PendingProposal>();
  private leaderWaiters: { resolve: () => void; timer: ReturnType<typeof setTimeout> }[] = [];
  private nextReaders: ReadWaiter[] = [];
  private readRound: { ctx: string; waiters: ReadWaiter[]; timer: ReturnType<typeof setTimeout> } | undefined;
  private readsAwaitingApply: { index: number; waiters: ReadWaiter[] }[] = [];
  private readRounds = 0;
  private readonly watchers = new Map<number, (r: WatchResponse) => void>();
  private confWaiters: { test: (cs: ConfState) => boolean; resolve: () => void }[] = [];
  private appliedIndex = 0;
  private snapshotIndex = 0;
  private snapshotting = false;
  private lastConfKey = '';
  private leaseExpireInFlight = false;
  private announced = false;
  private wasMember = false;
  /** Observability counters. */
  readonly counters = { proposals: 0, applied: 0, readRounds: 0, snapshots: 0, snapshotsInstalled: 0, autoCompactions: 0, leaderChanges: 0, walBatches: 0, walRecords: 0 };

  private constructor(opts: KvNodeOptions) {
    this.name = parseNodeId(opts.name, '--name');
    this.clusterId = opts.clusterId;
    this.memberId = numericId(`${opts.clusterId}/${opts.name}`);
    this.clusterIdNumeric = numericId(opts.clusterId);
    this.opts = {
      join: false,
      tickMs: 100,
      snapshotEveryEntries: 100_000,
      compactionLagEntries: 5000,
      autoCompactionRetention: 10_000,
      snapshotStepVersions: 2000,
      walSegmentBytes: 64 * 1024 * 1024,
      proposalTimeoutMs: 5000,
      leaderWaitMs: 2000,
      readTimeoutMs: 5000,
      leaseCheckMs: 500,
      pendingProposalsMax: 100_000,
      pendingReadsMax: 100_000,
      logger: silentLogger,
      ...opts,
    };
    for (const k of ['tickMs', 'snapshotEveryEntries', 'snapshotStepVersions', 'proposalTimeoutMs', 'leaderWaitMs', 'readTimeoutMs', 'leaseCheckMs', 'pendingProposalsMax', 'pendingReadsMax'] as const) {
      const v = this.opts[k];
      if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${k} must be a positive integer, got ${v}`);
    }
    for (const k of ['compactionLagEntries', 'autoCompactionRetention'] as const) {
      const v = this.opts[k];
      if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`${k} must be a non-negative integer, got ${v}`);
    }
    this.log = this.opts.logger;
    this.kv = new KvStateMachine(opts.kv);
  }

  /** Opens the data dir (recovering WAL and snapshot), starts the peer transport and the tick loop. */
  static async start(opts: KvNodeOptions): Promise<KvNode> {
    const node = new KvNode(opts);
    await node.open();
    return node;
  }

  private async open(): Promise<void> {
    const peers = this.opts.peers;
    for (const id of Object.keys(peers)) parseNodeId(id, 'peer name');
    const { storage, recovery } = await NodeStorage.open(
      this.opts.dataDir,
      { clusterId: this.clusterId, nodeId: this.name },
      { wal: { segmentBytes: this.opts.walSegmentBytes } },
    );
    this.storage = storage;
    try {
      if (recovery.truncated) {
        this.log.warn({ ...recovery.truncated }, 'truncated a torn WAL tail');
      }
      // Initial members: from the flags; replaced by the snapshot's table, then by log entries.
      for (const [id, addr] of Object.entries(peers)) {
        this.members.set(id, { name: id, peerURLs: [`http://${addr.host}:${addr.port}`], clientURLs: [] });
      }
      if (!this.members.has(this.name)) {
        this.members.set(this.name, { name: this.name, peerURLs: [`http://${this.opts.peerListen.host}:${this.opts.peerListen.port}`], clientURLs: [] });
      }
      const bootstrap: ConfState = {
        voters: this.opts.join ? [] : [...new Set([...Object.keys(peers), this.name])].sort(),
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
      };
      let mem = MemoryStorage.bootstrap(bootstrap);
      const snap = recovery.snapshot;
      if (snap !== undefined && snap.index > 0) {
        const cs = decodeConfState(snap.meta, snap.file);
        mem = MemoryStorage.bootstrap(cs);
        mem.applySnapshot({ metadata: { index: snap.index, term: snap.term, confState: cs }, data: snap.data });
        this.restoreFromSnapshot(snap.data, snap.file);
        this.snapshotIndex = snap.index;
        this.appliedIndex = snap.index;
      }
      // Replay the WAL: later entries replace earlier ones at the same index (a follower's log
      // overwritten by a new leader); a snapshot marker voids everything before it.
      let entries: Entry[] = [];
      let hs: HardState | undefined;
      for (const r of recovery.records) {
        if (r.type === WAL_ENTRY) {
          const e = decodeEntryRecord(r);
          const last = entries[entries.length - 1];
          if (last !== undefined && e.index <= last.index) {
            const keep = entries.findIndex((x) => x.index >= e.index);
            entries.length = keep < 0 ? entries.length : keep;
          }
          entries.push(e);
        } else if (r.type === WAL_HARD_STATE) {
          hs = laterHardState(hs, decodeHardState(r.payload, r.file, r.offset));
        } else if (r.type === WAL_SNAPSHOT) {
          entries = [];
        } else {
          throw new CorruptionError(r.file, r.offset, `unknown WAL record type ${r.type}`);
        }
      }
      if (recovery.hardState !== undefined) hs = laterHardState(hs, decodeHardState(recovery.hardState, this.storage.hardState.path, 0));
      const base = mem.lastIndex();
      const tail = entries.filter((e) => e.index > base);
      const first = tail[0];
      if (first !== undefined && first.index !== base + 1) {
        throw new CorruptionError(this.storage.wal.dir, 0, `WAL entries start at index ${first.index} but the snapshot ends at ${base}: entries are missing`);
      }
      mem.append(tail);
      if (hs !== undefined) mem.setHardState(hs);
      this.mem = mem;
      try {
        this.raft = new Raft({
          id: this.name,
          storage: mem,
          rng: createRng(Number.parseInt(randomBytes(4).toString('hex'), 16)),
          config: { electionTimeoutTicks: 10, heartbeatTicks: 1, ...this.opts.raft },
        });
      } catch (err) {
        // A stored commit index beyond the stored log: committed entries are gone.
        throw err instanceof RaftLogLostError ? this.lostLogError(err) : err;
      }
      this.log.info(
        { name: this.name, cluster: this.clusterId, created: recovery.created, snapshot: this.snapshotIndex, entries: tail.length, term: hs?.term ?? 0, commit: hs?.commit ?? 0 },
        'recovered',
      );
      const peerAddrs: Record<NodeId, PeerAddress> = {};
      for (const [id, addr] of Object.entries(peers)) if (id !== this.name) peerAddrs[id] = addr;
      for (const m of this.members.values()) {
        if (m.name !== this.name && peerAddrs[m.name] === undefined && m.peerURLs[0] !== undefined) peerAddrs[m.name] = parsePeerURL(m.peerURLs[0]);
      }
      this.transport = new TcpTransport<Message>({
        nodeId: this.name,
        clusterId: this.clusterId,
        codec: raftMessageCodec,
        peers: peerAddrs,
        listenHost: this.opts.peerListen.host,
        listenPort: this.opts.peerListen.port,
        ...(this.opts.clusterKey === undefined ? {} : { clusterKey: this.opts.clusterKey }),
        onMessage: (_from, m) => this.onPeerMessage(m),
        logger: { info: (f, m) => this.log.info(f, m), warn: (f, m) => this.log.warn(f, m) } satisfies TransportLogger,
      });
      await this.transport.start();
    } catch (err) {
      await this.storage.close().catch(() => undefined);
      throw err;
    }
    this.tickTimer = setInterval(() => this.onTick(), this.opts.tickMs);
    this.leaseTimer = setInterval(() => {
      this.checkLeases();
      this.checkAutoCompaction();
    }, this.opts.leaseCheckMs);
    this.syncConf();
    this.scheduleDrain();
  }

  /** The bound peer address (the real port when 0 was asked). */
  get peerAddress(): PeerAddress {
    return this.transport.address ?? this.opts.peerListen;
  }

  // ------------------------------------------------------------------------------ inputs

  private onPeerMessage(m: Message): void {
    if (this.stopped) return;
    try {
      this.raft.step(m);
    } catch (err) {
      if (err instanceof RaftLogLostError) {
        this.fatal(this.lostLogError(err));
        return;
      }
      this.log.warn({ err: String(err), type: m.type, from: m.from }, 'raft rejected a peer message');
    }
    this.scheduleDrain();
  }

  private onTick(): void {
    if (this.stopped) return;
    this.raft.tick();
    this.scheduleDrain();
    this.maybeAnnounce();
  }

  /** Once a leader is known, replicate this node's own addresses if the member table lacks them. */
  private maybeAnnounce(): void {
    if (this.announced || this.raft.leader === NONE || this.opts.clientURL === undefined) return;
    const cs = this.raft.confState();
    if (![...cs.voters, ...cs.learners].includes(this.name)) return;
    const me = this.members.get(this.name);
    const peerURL = `http://${this.peerAddress.host}:${this.peerAddress.port}`;
    if (me !== undefined && me.clientURLs[0] === this.opts.clientURL && me.peerURLs[0] === peerURL) {
      this.announced = true;
      return;
    }
    this.announced = true;
    this.proposeMember({ name: this.name, peerURLs: [peerURL], clientURLs: [this.opts.clientURL] }).catch(() => {
      this.announced = false;
    });
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      while (!this.stopped && this.raft.hasReady()) {
        await this.handleReady(this.raft.ready());
      }
    } catch (err) {
      this.fatal(err);
    } finally {
      this.draining = false;
    }
  }

  private send(m: Message): void {
    this.transport.send(m.to, m);
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState.leader);
    const records: WalRecord[] = [];
    if (rd.snapshot !== undefined) {
      await this.installSnapshot(rd.snapshot);
      records.push(snapshotMarkerRecord(rd.snapshot.metadata.index, rd.snapshot.metadata.term));
    }
    for (const om of rd.messages) if (!om.afterSync) this.send(om.message);
    for (const e of rd.entries) records.push(entryRecord(e));
    if (rd.hardState !== undefined && (rd.mustSync || records.length > 0)) records.push(hardStateRecord(rd.hardState));
    if (rd.entries.length > 0) this.mem.append(rd.entries);
    if (rd.hardState !== undefined) this.mem.setHardState(rd.hardState);
    const persisted = records.length > 0 ? this.storage.wal.append(records) : undefined;
    // Committed entries are durable on a quorum already, so they are applied while this
    // Ready's own entries are being fsynced (as etcd's server does): a client's answer does not
    // wait for the next batch's fsync. The core learns about it only at advance().
    for (const e of rd.committedEntries) this.apply(e);
    for (const rs of rd.readStates) this.onReadState(rs.index, rs.context);
    this.serveReads();
    this.pumpWatchers();
    if (persisted !== undefined) {
      await persisted;
      this.counters.walBatches++;
      this.counters.walRecords += records.length;
    }
    if (this.stopped) return;
    for (const om of rd.messages) if (om.afterSync) this.send(om.message);
    this.raft.advance(rd);
    this.syncConf();
    this.serveReads();
    this.pumpWatchers();
    this.maybeSnapshot();
  }

  private onSoftState(leader: NodeId): void {
    if (leader === this.lastLeader) return;
    const had = this.lastLeader;
    this.lastLeader = leader;
    this.counters.leaderChanges++;
    this.log.info({ leader, term: this.raft.term, role: this.raft.role }, 'leader changed');
    if (had !== NONE && this.proposals.size > 0) {
      // A proposal forwarded to (or appended by) the old leader may or may not survive.
      const err = new IndefiniteError('crash', `leader changed from ${had} to ${leader || 'none'} while the request was in flight; it may or may not have been applied`);
      for (const [, p] of this.proposals) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.proposals.clear();
    }
    if (leader !== NONE) {
      const waiters = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve();
      }
      // A read round sent to a leader that is gone will not be answered: start over.
      if (this.readRound !== undefined) this.restartReadRound();
    }
  }
  private lastLeader: NodeId = NONE;

  private async installSnapshot(s: Snapshot): Promise<void> {
    const meta = { index: s.metadata.index, term: s.metadata.term, meta: encodeConfState(s.metadata.confState) };
    await this.storage.snapshots.install(meta, s.data);
    this.mem.applySnapshot(s);
    this.restoreFromSnapshot(s.data, `snapshot ${s.metadata.index} from the leader`);
    this.appliedIndex = Math.max(this.appliedIndex, s.metadata.index);
    this.snapshotIndex = s.metadata.index;
    this.counters.snapshotsInstalled++;
    this.log.info({ index: s.metadata.index, term: s.metadata.term, bytes: s.data.length }, 'installed a snapshot from the leader');
  }

  private restoreFromSnapshot(data: Uint8Array, where: string): void {
    const { members, kv } = decodeNodeSnapshot(data, where);
    this.kv.restore(kv);
    this.members.clear();
    for (const m of members) this.members.set(m.name, m);
    this.syncPeers();
  }

  private apply(e: Entry): void {
    if (e.index <= this.appliedIndex) return;
    this.appliedIndex = e.index;
    this.counters.applied++;
    if (e.type !== 'normal' || e.data.length === 0) return;
    const env = openEnvelope(e.data);
    if (env === undefined) {
      this.log.warn({ index: e.index }, 'skipped a log entry without an envelope');
      return;
    }
    if (env.kind === ENVELOPE_KV) {
      const result = this.kv.applyEncoded(env.body, e.index);
      this.settle(env.id, result);
    } else if (env.kind === ENVELOPE_PUT) {
      const request = decodePut(env.body);
      const result: KvResult =
        request === undefined
          ? { ok: false, error: { code: 'invalid-argument', message: 'malformed binary put entry' } }
          : this.kv.apply({ command: { type: 'put', request } }, e.index);
      this.settle(env.id, result);
    } else if (env.kind === ENVELOPE_MEMBER) {
      try {
        const m = JSON.parse(dec.decode(env.body)) as MemberInfo;
        this.members.set(m.name, m);
        this.syncPeers();
      } catch {
        this.log.warn({ index: e.index }, 'skipped a malformed member entry');
      }
      this.settle(env.id, { ok: true, response: { type: 'compact', response: { header: { revision: this.kv.revision } } } });
    }
  }

  private settle(id: string, result: KvResult): void {
    const p = this.proposals.get(id);
    if (p === undefined) return;
    this.proposals.delete(id);
    clearTimeout(p.timer);
    p.resolve(result);
  }

  /** Transport peers follow the member table and the configuration. */
  private syncPeers(): void {
    if (this.transport === undefined) return;
    for (const m of this.members.values()) {
      if (m.name === this.name || m.peerURLs[0] === undefined) continue;
      try {
        this.transport.setPeer(m.name, parsePeerURL(m.peerURLs[0]));
      } catch (err) {
        this.log.warn({ member: m.name, err: String(err) }, 'bad peer address in the member table');
      }
    }
  }

  private syncConf(): void {
    const cs = this.raft.confState();
    const key = JSON.stringify(cs);
    if (key === this.lastConfKey) return;
    this.lastConfKey = key;
    this.log.info({ ...cs }, 'configuration');
    if ([...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.name)) this.wasMember = true;
    this.syncPeers();
    const waiters = this.confWaiters;
    this.confWaiters = [];
    for (const w of waiters) {
      if (w.test(cs)) w.resolve();
      else this.confWaiters.push(w);
    }
  }

  /**
   * Entries before this node's first snapshot: `snapshotEveryEntries` plus an offset of up to
   * half of it derived from the node name, so members that apply the same log do not all build
   * a snapshot (CPU and memory) at the same moment.
   */
  private snapshotThreshold(): number {
    if (this.snapshotIndex > 0) return this.opts.snapshotEveryEntries;
    const spread = Math.floor(this.opts.snapshotEveryEntries / 2);
    return this.opts.snapshotEveryEntries + (spread === 0 ? 0 : Number(BigInt(numericId(this.name)) % BigInt(spread)));
  }

  /**
   * Takes a snapshot at the applied index without stopping the node: the state machine's view
   * is captured now (copy on write, O(1) for the history), then encoded `snapshotStepVersions` versions per
   * event-loop turn while entries keep being applied and requests served.
   */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.appliedIndex - this.snapshotIndex < this.snapshotThreshold()) return;
    const index = this.appliedIndex;
    const term = this.mem.term(index);
    if (term === undefined) return;
    this.snapshotting = true;
    const cs = this.raft.confState();
    const members = new Map(this.members);
    const started = performance.now();
    const builder = this.kv.beginSnapshot(nodeSnapshotPrefix(members));
    let longestStepMs = performance.now() - started;
    void (async () => {
      try {
        for (;;) {
          const t0 = performance.now();
          const done = builder.step(this.opts.snapshotStepVersions);
          longestStepMs = Math.max(longestStepMs, performance.now() - t0);
          if (done) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.stopped) return;
        }
        const t0 = performance.now();
        const data = builder.finish();
        longestStepMs = Math.max(longestStepMs, performance.now() - t0);
        const buildMs = Math.round(performance.now() - started);
        // A snapshot from the leader installed meanwhile is newer: this one is not needed.
        if (this.stopped || index <= this.mem.snapshot().metadata.index) return;
        this.mem.createSnapshot(index, cs, data);
        const hs = this.mem.hardState();
        // The hard state file first: the WAL segments about to go may hold the last hard-state record.
        await this.storage.hardState.save(encodeHardState(hs));
        const res = await this.storage.compact({ index, term, meta: encodeConfState(cs) }, data);
        const compactTo = index - this.opts.compactionLagEntries;
        if (compactTo >= this.mem.firstIndex()) this.mem.compact(compactTo);
        this.snapshotIndex = Math.max(this.snapshotIndex, index);
        this.counters.snapshots++;
        this.lastSnapshotLongestStepMs = longestStepMs;
        this.log.info(
          { index, term, bytes: data.length, versions: builder.versionCount, buildMs, longestStepMs: Math.round(longestStepMs), removedSegments: res.removedSegments.length },
          'snapshot taken',
        );
      } catch (err) {
        this.fatal(err);
      } finally {
        this.snapshotting = false;
      }
    })();
  }
  /**
   * SHA-256 (hex) of this replica's key-value history (see KvStateMachine.beginKvHash), built
   * across event-loop turns like a snapshot, with the revisions it covers.
   */
  async hashKv(): Promise<{ hash: string; revision: number; compactRevision: number }> {
    const st = this.kv.status();
    const b = this.kv.beginKvHash();
    try {
      while (!b.step(this.opts.snapshotStepVersions)) await new Promise<void>((resolve) => setImmediate(resolve));
    } finally {
      b.close();
    }
    return { hash: Buffer.from(b.finish().subarray(8, 40)).toString('hex'), revision: st.revision, compactRevision: st.compactRevision };
  }

  /** Longest synchronous piece of the last snapshot, ms (0 before the first). */
  lastSnapshotLongestStepMs = 0;

  /** The leader proposes an MVCC compaction when the history passed the retention (see options). */
  private checkAutoCompaction(): void {
    const retention = this.opts.autoCompactionRetention;
    if (retention === 0 || this.stopped || this.raft.role !== 'leader' || this.compactionInFlight) return;
    const target = this.kv.revision - retention;
    const st = this.kv.status();
    if (target - st.compactRevision < Math.max(1, Math.ceil(retention / 10))) return;
    this.compactionInFlight = true;
    this.propose({ type: 'compact', revision: target })
      .then((r) => {
        if (r.ok) {
          this.counters.autoCompactions++;
          this.log.info({ revision: target }, 'auto-compacted');
        }
      })
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'auto-compaction proposal failed'))
      .finally(() => {
        this.compactionInFlight = false;
      });
  }
  private compactionInFlight = false;

  /** The core found acknowledged entries missing from this node's log: name the data directory. */
  private lostLogError(err: RaftLogLostError): DefiniteError {
    return new DefiniteError(
      'corruption',
      `${err.message} Data dir ${this.opts.dataDir} is damaged; stopping. Restore it from a backup, or remove this member and add it back with an empty data dir.`,
      { cause: err },
    );
  }

  private fatal(err: unknown): void {
    if (this.stopped) return;
    this.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'stopping on an unrecoverable error');
    void this.stop();
    this.opts.onFatal?.(err);
  }

  // ------------------------------------------------------------------------------ leases

  private checkLeases(): void {
    if (this.stopped || this.raft.role !== 'leader' || this.leaseExpireInFlight) return;
    const now = Date.now();
    const ids = this.kv.expiredLeases(now);
    if (ids.length === 0) return;
    this.leaseExpireInFlight = true;
    this.propose({ type: 'lease-expire', nowMs: now, ids })
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'lease expiry proposal failed'))
      .finally(() => {
        this.leaseExpireInFlight = false;
      });
  }

  // ------------------------------------------------------------------------------ client API

  private checkServing(): void {
    if (this.stopped) throw new DefiniteError('closed', 'this node is shutting down');
    if (this.isRemoved()) throw new DefiniteError('removed', `member ${this.name} has been removed from the cluster`);
  }

  isRemoved(): boolean {
    const cs = this.raft.confState();
    const inConf = [...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.name);
    return !inConf && this.wasMember;
  }

  /** Resolves when a leader is known; a definite 'no-leader' error after `leaderWaitMs`. */
  waitForLeader(waitMs = this.opts.leaderWaitMs): Promise<void> {
    if (this.raft.leader !== NONE) return Promise.resolve();
    if (this.leaderWaiters.length >= this.opts.pendingProposalsMax) {
      return Promise.reject(new DefiniteError('overloaded', `${this.leaderWaiters.length} requests are waiting for a leader on this node; retry later`));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.leaderWaiters = this.leaderWaiters.filter((w) => w !== entry);
          reject(new DefiniteError('no-leader', `no leader elected within ${waitMs} ms (is a majority of members up and reachable?); the request was not applied`));
        }, waitMs),
      };
      this.leaderWaiters.push(entry);
    });
  }

  private async proposeRaw(kind: number, body: Uint8Array): Promise<KvResult> {
    this.checkServing();
    if (this.proposals.size >= this.opts.pendingProposalsMax) {
      throw new DefiniteError('overloaded', `${this.proposals.size} proposals are waiting on this node (limit ${this.opts.pendingProposalsMax}); retry later`);
    }
    await this.waitForLeader();
    const id = `${this.incarnation}.${++this.seq}`;
    const data = envelope(kind, id, body);
    return new Promise<KvResult>((resolve, reject) => {
      try {
        this.raft.propose(data);
      } catch (err) {
        reject(err);
        return;
      }
      this.counters.proposals++;
      const timer = setTimeout(() => {
        if (!this.proposals.delete(id)) return;
        reject(new IndefiniteError('timeout', `not applied within ${this.opts.proposalTimeoutMs} ms (no quorum?); the request may or may not be applied later`));
      }, this.opts.proposalTimeoutMs);
      this.proposals.set(id, { resolve, reject, timer });
      this.scheduleDrain();
    });
  }

  /** Replicates a KV command; resolves with its result once applied on this node. */
  propose(command: KvCommand, client?: ClientTag): Promise<KvResult> {
    try {
      validateCommand(command, this.kv.config);
    } catch (err) {
      return Promise.reject(err);
    }
    if (command.type === 'put' && client === undefined && command.request.ignoreValue !== true && command.request.ignoreLease !== true) {
      return this.proposeRaw(ENVELOPE_PUT, encodePut(command.request));
    }
    const body = encodeEntry(client === undefined ? { command } : { command, client });
    return this.proposeRaw(ENVELOPE_KV, body);
  }

  private proposeMember(m: MemberInfo): Promise<KvResult> {
    return this.proposeRaw(ENVELOPE_MEMBER, enc.encode(JSON.stringify(m)));
  }

  /** Waits until this node has applied everything committed before the call (ReadIndex, thesis §6.4). */
  linearizableBarrier(): Promise<void> {
    try {
      this.checkServing();
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.pendingReads() >= this.opts.pendingReadsMax) {
      return Promise.reject(new DefiniteError('overloaded', `${this.pendingReads()} linearizable reads are waiting on this node (limit ${this.opts.pendingReadsMax}); retry later`));
    }
    return this.waitForLeader().then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.nextReaders.push({ resolve, reject });
          if (this.readRound === undefined) this.startReadRound();
        }),
    );
  }

  private pendingReads(): number {
    let n = this.nextReaders.length + (this.readRound?.waiters.length ?? 0);
    for (const r of this.readsAwaitingApply) n += r.waiters.length;
    return n;
  }

  private startReadRound(): void {
    if (this.nextReaders.length === 0) return;
    const waiters = this.nextReaders;
    this.nextReaders = [];
    const ctx = `${this.incarnation}.r${++this.readRounds}`;
    try {
      this.raft.readIndex(ctx);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    this.counters.readRounds++;
    const timer = setTimeout(() => {
      if (this.readRound?.ctx !== ctx) return;
      this.readRound = undefined;
      const e = new IndefiniteError('timeout', `linearizable read not confirmed by a quorum within ${this.opts.readTimeoutMs} ms`);
      for (const w of waiters) w.reject(e);
      this.startReadRound();
    }, this.opts.readTimeoutMs);
    this.readRound = { ctx, waiters, timer };
    this.scheduleDrain();
  }

  private restartReadRound(): void {
    const round = this.readRound;
    if (round === undefined) return;
    clearTimeout(round.timer);
    this.readRound = undefined;
    this.nextReaders = [...round.waiters, ...this.nextReaders];
    if (this.raft.leader !== NONE) this.startReadRound();
    else {
      const waiters = this.nextReaders;
      this.nextReaders = [];
      const e = new DefiniteError('no-leader', 'no leader to confirm a linearizable read');
      for (const w of waiters) w.reject(e);
    }
  }

  private onReadState(index: number, ctx: string): void {
    const round = this.readRound;
    if (round === undefined || round.ctx !== ctx) return;
    if (index === 0) {
      // The leader could not serve it (for example, it just stepped down): ask again next tick.
      clearTimeout(round.timer);
      this.readRound = undefined;
      this.nextReaders = [...round.waiters, ...this.nextReaders];
      setTimeout(() => {
        if (this.readRound === undefined) this.startReadRound();
      }, this.opts.tickMs);
      return;
    }
    clearTimeout(round.timer);
    this.readRound = undefined;
    this.readsAwaitingApply.push({ index, waiters: round.waiters });
    this.startReadRound();
  }

  private serveReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    const still: { index: number; waiters: ReadWaiter[] }[] = [];
    for (const r of this.readsAwaitingApply) {
      if (r.index <= this.appliedIndex) for (const w of r.waiters) w.resolve();
      else still.push(r);
    }
    this.readsAwaitingApply = still;
  }

  /** A range read: linearizable (ReadIndex) unless `serializable`. */
  async range(request: RangeRequest, serializable = false): Promise<RangeResponse> {
    if (!serializable) await this.linearizableBarrier();
    else this.checkServing();
    return this.kv.range(request);
  }

  /** Opens a watch on this replica; `onResponse` gets every batch of events. Returns the watch id. */
  watch(req: WatchCreateRequest, onResponse: (r: WatchResponse) => void): WatchResponse {
    this.checkServing();
    const created = this.kv.watches.watch(req);
    if (created.canceled !== true) {
      this.watchers.set(created.watchId, onResponse);
      queueMicrotask(() => this.pumpWatchers());
    }
    return created;
  }

  cancelWatch(watchId: number): void {
    this.watchers.delete(watchId);
    this.kv.watches.cancel(watchId);
  }

  private pumpWatchers(): void {
    if (this.watchers.size === 0) return;
    for (const r of this.kv.watches.pollAll()) {
      const cb = this.watchers.get(r.watchId);
      if (r.canceled === true) this.watchers.delete(r.watchId);
      cb?.(r);
    }
  }

  // ------------------------------------------------------------------------------ membership

  /** Members in the current configuration, with their addresses. */
  memberList(): { info: MemberInfo; id: string; isLearner: boolean }[] {
    const cs = this.raft.confState();
    const names = [...new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners])].sort();
    return names.map((name) => ({
      info: this.members.get(name) ?? { name, peerURLs: [], clientURLs: [] },
      id: numericId(`${this.clusterId}/${name}`),
      isLearner: cs.learners.includes(name) && !cs.voters.includes(name),
    }));
  }

  /** Resolves a member given by name or numeric id. */
  memberName(idOrName: string): NodeId {
    for (const m of this.memberList()) if (m.info.name === idOrName || m.id === idOrName) return m.info.name;
    throw new DefiniteError('not-found', `no member ${JSON.stringify(idOrName)} in the cluster (see member list)`);
  }

  private async changeConf(change: ConfChange, done: (cs: ConfState) => boolean, what: string): Promise<void> {
    this.checkServing();
    await this.waitForLeader();
    this.raft.proposeConfChange(change);
    this.scheduleDrain();
    await new Promise<void>((resolve, reject) => {
      const waiter = { test: done, resolve: () => { clearTimeout(timer); resolve(); } };
      const timer = setTimeout(() => {
        this.confWaiters = this.confWaiters.filter((w) => w !== waiter);
        reject(new IndefiniteError('timeout', `${what} not applied within ${this.opts.proposalTimeoutMs} ms; it may still be applied (check member list)`));
      }, this.opts.proposalTimeoutMs);
      if (done(this.raft.confState())) waiter.resolve();
      else this.confWaiters.push(waiter);
    });
  }

  /** Adds a member (as a learner unless `learner` is false): its addresses first, then the configuration change. */
  async addMember(m: { name: NodeId; peerURL: string; clientURL?: string; learner: boolean }): Promise<void> {
    parseNodeId(m.name, 'member name');
    parsePeerURL(m.peerURL);
    const cs = this.raft.confState();
    if ([...cs.voters, ...cs.learners].includes(m.name)) throw new DefiniteError('conflict', `member ${m.name} is already in the cluster`);
    const applied = await this.proposeMember({ name: m.name, peerURLs: [m.peerURL], clientURLs: m.clientURL === undefined ? [] : [m.clientURL] });
    if (!applied.ok) throw new DefiniteError('conflict', applied.error.message);
    const type = m.learner ? 'add-learner' : 'add-voter';
    await this.changeConf(
      { changes: [{ type, node: m.name }] },
      (c) => (m.learner ? c.learners.includes(m.name) : c.voters.includes(m.name) && c.votersOutgoing.length === 0),
      `adding ${m.name}`,
    );
  }

  async promoteMember(name: NodeId): Promise<void> {
    const cs = this.raft.confState();
    if (!cs.learners.includes(name)) throw new DefiniteError('precondition-failed', `member ${name} is not a learner`);
    await this.changeConf({ changes: [{ type: 'add-voter', node: name }] }, (c) => c.voters.includes(name) && c.votersOutgoing.length === 0, `promoting ${name}`);
  }

  async removeMember(name: NodeId): Promise<void> {
    await this.changeConf(
      { changes: [{ type: 'remove', node: name }] },
      (c) => ![...c.voters, ...c.learners, ...c.votersOutgoing].includes(name),
      `removing ${name}`,
    );
  }

  // ------------------------------------------------------------------------------ status

  status(): KvNodeStatus {
    const st = this.raft.status();
    const kv = this.kv.status();
    const wal = this.storage.wal.stats();
    return {
      name: this.name,
      clusterId: this.clusterId,
      memberId: this.memberId,
      clusterIdNumeric: this.clusterIdNumeric,
      leader: st.leader,
      role: st.role,
      term: st.term,
      commit: st.commit,
      applied: this.appliedIndex,
      lastIndex: st.lastIndex,
      snapshotIndex: this.snapshotIndex,
      revision: kv.revision,
      compactRevision: kv.compactRevision,
      keysHeld: kv.keysHeld,
      confState: st.confState,
      isLearner: st.confState.learners.includes(this.name),
      removed: this.isRemoved(),
      walSyncs: wal.syncs,
      walSegments: wal.segments,
      pendingProposals: this.proposals.size,
    };
  }

  get raftTerm(): number {
    return this.raft.term;
  }

  get stoppedFlag(): boolean {
    return this.stopped;
  }

  /** Stops timers and the transport, fails waiting requests, flushes and closes storage. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    const err = new IndefiniteError('crash', 'the node is shutting down; the request may or may not have been applied');
    for (const [, p] of this.proposals) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.proposals.clear();
    const readErr = new DefiniteError('closed', 'the node is shutting down');
    for (const w of this.nextReaders) w.reject(readErr);
    if (this.readRound) {
      clearTimeout(this.readRound.timer);
      for (const w of this.readRound.waiters) w.reject(readErr);
    }
    for (const r of this.readsAwaitingApply) for (const w of r.waiters) w.reject(readErr);
    for (const w of this.leaderWaiters) clearTimeout(w.timer);
    this.watchers.clear();
    await this.transport?.close().catch(() => undefined);
    await this.storage.close().catch(() => undefined);
  }
}

export function isClusterkitError(err: unknown): err is ClusterkitError {
  return err instanceof ClusterkitError;
}
