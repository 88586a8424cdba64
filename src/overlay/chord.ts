/**
 * Chord (Stoica, Morris, Karger, Kaashoek, Balakrishnan, SIGCOMM 2001; seed 04.4.3) as a sans-IO
 * core: an m-bit identifier ring, a successor list of r entries (§6.3), a finger table of m
 * entries (finger[i] = successor(n + 2^i), §4.3), the periodic stabilize / notify / fix-fingers /
 * check-predecessor of §4.4 (Figure 7), iterative lookup (the origin asks each hop for the next
 * one, so a failed hop is routed around by the origin), and key storage with replication on the
 * r successors of a key's owner (§6.3, "store replicas on the successor list").
 *
 * Deliberate choices and omissions:
 * - Identifiers are at most 32 bits (see ids.ts), not SHA-1's 160.
 * - Ring merging: pure stabilization never joins two rings that formed during a partition, so
 *   every node periodically looks itself up through a bootstrap peer and adopts a closer
 *   successor it learns of (the "periodic rejoin" the Chord TON paper recommends).
 * - Replicas are maintained by periodic pushes: owned keys forward to the successors, keys held
 *   but not owned back to the predecessor (so a restarted owner gets its keys back). A value
 *   is the last one to arrive (no versions): the workload writes each key once. Keys a node no
 *   longer needs are kept (bounded by `keysMax`), never deleted. No virtual nodes,
 *   no proximity routing, no key deletion, no persistence (a restarted node is a fresh node).
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { OverlayCore, Outgoing } from './host.ts';
import { checkIdBits, hashId, inHalfOpen, inOpen, ringAdd, ringDistance } from './ids.ts';

export interface ChordPeer {
  readonly id: number;
  readonly addr: NodeId;
}

export interface ChordConfig {
  /** m: identifier width, bits (1..32). */
  idBits: number;
  /** r: successor-list length. */
  successorsMax: number;
  /** Copies of each key: the owner plus `replicas - 1` successors (≤ successorsMax + 1). */
  replicas: number;
  /** Ticks between stabilize rounds. */
  stabilizeEveryTicks: number;
  /** Ticks between fix-fingers steps (each step refreshes the next finger, skipping equal ones). */
  fixFingersEveryTicks: number;
  /** Ticks between predecessor liveness checks. */
  checkPredecessorEveryTicks: number;
  /** Ticks between self-lookups through a bootstrap peer (ring merge and rejoin). */
  rejoinEveryTicks: number;
  /** Ticks between pushes of owned keys to the successors. */
  replicateEveryTicks: number;
  /** Ticks after which an unanswered request counts as failed. */
  rpcTimeoutTicks: number;
  /** A lookup gives up after this many remote hops. */
  lookupHopsMax: number;
  /** Outstanding requests (lookups, pings, stabilize) at most. */
  pendingMax: number;
  /** Keys stored at most (owned and replicas). */
  keysMax: number;
  /** Keys pushed per replication round at most. */
  keysPerReplicateMax: number;
  /** Results queued for the host at most (older ones are dropped). */
  resultsMax: number;
}

export function defaultChordConfig(): ChordConfig {
  return {
    idBits: 32,
    successorsMax: 4,
    replicas: 3,
    stabilizeEveryTicks: 1,
    fixFingersEveryTicks: 1,
    checkPredecessorEveryTicks: 2,
    rejoinEveryTicks: 20,
    replicateEveryTicks: 5,
    rpcTimeoutTicks: 3,
    lookupHopsMax: 64,
    pendingMax: 256,
    keysMax: 100_000,
    keysPerReplicateMax: 1000,
    resultsMax: 10_000,
  };
}

export function validateChordConfig(c: ChordConfig): void {
  checkIdBits(c.idBits);
  const positive: (keyof ChordConfig)[] = [
    'successorsMax',
    'replicas',
    'stabilizeEveryTicks',
    'fixFingersEveryTicks',
    'checkPredecessorEveryTicks',
    'rejoinEveryTicks',
    'replicateEveryTicks',
    'rpcTimeoutTicks',
    'lookupHopsMax',
    'pendingMax',
    'keysMax',
    'keysPerReplicateMax',
    'resultsMax',
  ];
  for (const k of positive) if (!Number.isInteger(c[k]) || c[k] < 1) throw new ConfigError(`chord ${k} must be a positive integer, got ${c[k]}`);
  if (c.replicas > c.successorsMax + 1) throw new ConfigError(`chord replicas (${c.replicas}) must be ≤ successorsMax + 1 (${c.successorsMax + 1}): replicas live on the successor list`);
}

export type ChordMsg =
  | { readonly type: 'find'; readonly reqId: number; readonly key: number; readonly avoid: readonly NodeId[] }
  | { readonly type: 'find-reply'; readonly reqId: number; readonly found: boolean; readonly node: ChordPeer }
  | { readonly type: 'stabilize'; readonly reqId: number }
  | { readonly type: 'stabilize-reply'; readonly reqId: number; readonly predecessor: ChordPeer | null; readonly successors: readonly ChordPeer[] }
  | { readonly type: 'notify'; readonly peer: ChordPeer }
  | { readonly type: 'ping'; readonly reqId: number }
  | { readonly type: 'pong'; readonly reqId: number }
  | { readonly type: 'store'; readonly reqId: number; readonly key: string; readonly value: string }
  | { readonly type: 'replicate'; readonly items: readonly { readonly key: string; readonly value: string }[] }
  | { readonly type: 'store-ack'; readonly reqId: number; readonly ok: boolean }
  | { readonly type: 'get'; readonly reqId: number; readonly key: string }
  | { readonly type: 'get-reply'; readonly reqId: number; readonly value: string | null };

export type ChordResult =
  | { readonly type: 'lookup'; readonly reqId: number; readonly key: number; readonly ok: true; readonly owner: ChordPeer; readonly hops: number }
  | { readonly type: 'put'; readonly reqId: number; readonly key: string; readonly ok: boolean; readonly hops: number }
  | { readonly type: 'get'; readonly reqId: number; readonly key: string; readonly ok: boolean; readonly value: string | null; readonly hops: number }
  | { readonly type: 'failed'; readonly reqId: number; readonly reason: string };

type Purpose =
  | { readonly kind: 'client' }
  | { readonly kind: 'finger'; readonly index: number }
  | { readonly kind: 'join' }
  | { readonly kind: 'rejoin' }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string };

interface Lookup {
  readonly reqId: number;
  readonly key: number;
  readonly purpose: Purpose;
  hops: number;
  readonly avoid: NodeId[];
}

type Pending =
  | { readonly kind: 'find'; readonly to: ChordPeer; readonly deadline: number; readonly lookup: Lookup }
  | { readonly kind: 'stabilize'; readonly to: ChordPeer; readonly deadline: number }
  | { readonly kind: 'ping'; readonly to: ChordPeer; readonly deadline: number }
  | { readonly kind: 'store'; readonly to: ChordPeer; readonly deadline: number; readonly reqId: number; readonly key: string; readonly hops: number }
  | { readonly kind: 'get'; readonly to: ChordPeer; readonly deadline: number; readonly reqId: number; readonly key: string; readonly hops: number };

/** Avoid list entries carried per lookup at most. */
const AVOID_MAX = 8;

export interface ChordNodeOptions {
  address: NodeId;
  config: ChordConfig;
  rng: Rng;
  /** Peers to join through (the node's own address is ignored). */
  bootstrap: readonly NodeId[];
}

export class ChordNode implements OverlayCore<ChordMsg> {
  readonly address: NodeId;
  readonly self: ChordPeer;
  readonly config: ChordConfig;
  private readonly rng: Rng;
  private readonly bootstrap: NodeId[];
  private predecessorPeer: ChordPeer | null = null;
  /** successors[0] is the successor; never contains self (empty = alone). */
  private successorList: ChordPeer[] = [];
  private readonly fingers: (ChordPeer | null)[];
  private nextFinger = 0;
  private readonly keys = new Map<string, { keyId: number; value: string }>();
  private replicateCursor = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly outbox: Outgoing<ChordMsg>[] = [];
  private readonly results: ChordResult[] = [];
  private nowTicks = 0;
  private nextReqId = 1;
  private joined = false;
  /** Counters for measurements. */
  readonly stats = { lookupsStarted: 0, lookupsFailed: 0, timeouts: 0, messagesSent: 0 };

  constructor(opts: ChordNodeOptions) {
    validateChordConfig(opts.config);
    this.config = opts.config;
    this.address = opts.address;
    this.self = { id: hashId(opts.address, opts.config.idBits), addr: opts.address };
    this.rng = opts.rng;
    this.bootstrap = opts.bootstrap.filter((b) => b !== opts.address);
    this.fingers = Array.from({ length: opts.config.idBits }, () => null);
    this.joined = this.bootstrap.length === 0;
  }

  // ---- views for hosts and checkers ----

  get successor(): ChordPeer {
    return this.successorList[0] ?? this.self;
  }
  get successors(): readonly ChordPeer[] {
    return this.successorList;
  }
  get predecessor(): ChordPeer | null {
    return this.predecessorPeer;
  }
  get fingerTable(): readonly (ChordPeer | null)[] {
    return this.fingers;
  }
  get isJoined(): boolean {
    return this.joined;
  }
  storedKeys(): string[] {
    return [...this.keys.keys()];
  }
  hasKey(key: string): boolean {
    return this.keys.has(key);
  }
  /** Distinct peers this node links to (successors, predecessor, fingers), for graph measures. */
  links(): ChordPeer[] {
    const m = new Map<NodeId, ChordPeer>();
    for (const p of [...this.successorList, ...this.fingers, this.predecessorPeer]) if (p && p.addr !== this.address) m.set(p.addr, p);
    return [...m.values()];
  }

  /**
   * Measurement shortcut: installs the routing state a converged ring would have (successors,
   * predecessor, every finger) from a sorted list of all members, so benchmarks on thousands of
   * nodes need not wait for stabilization. Tests check it agrees with what stabilization builds.
   */
  installConvergedState(sortedRing: readonly ChordPeer[]): void {
    const n = sortedRing.length;
    const i = sortedRing.findIndex((p) => p.addr === this.address);
    if (i < 0) throw new ConfigError(`${this.address} is not in the ring given to installConvergedState`);
    this.successorList = [];
    for (let k = 1; k <= Math.min(this.config.successorsMax, n - 1); k++) this.successorList.push(sortedRing[(i + k) % n] as ChordPeer);
    this.predecessorPeer = n > 1 ? (sortedRing[(i - 1 + n) % n] as ChordPeer) : null;
    for (let f = 0; f < this.config.idBits; f++) {
      const start = ringAdd(this.self.id, 2 ** f, this.config.idBits);
      this.fingers[f] = successorOf(sortedRing, start);
    }
    this.joined = true;
  }

  // ---- client API ----

  /** Looks up the node responsible for identifier `key`; the answer comes as a `lookup` result. */
  lookup(key: number): number {
    return this.startLookup(key, { kind: 'client' });
  }

  /** Stores `value` under `key` at the key's owner and its successors. */
  put(key: string, value: string): number {
    return this.startLookup(hashId(key, this.config.idBits), { kind: 'put', key, value });
  }

  /** Reads `key` from its owner. */
  get(key: string): number {
    return this.startLookup(hashId(key, this.config.idBits), { kind: 'get', key });
  }

  /** Drains finished client operations. */
  pollResults(): ChordResult[] {
    return this.results.splice(0);
  }

  drain(): Outgoing<ChordMsg>[] {
    return this.outbox.splice(0);
  }

  // ---- inputs ----

  tick(): void {
    this.nowTicks++;
    for (const [reqId, p] of this.pending) if (p.deadline <= this.nowTicks) this.timeout(reqId, p);
    const c = this.config;
    if (!this.joined) {
      if (this.nowTicks % c.rpcTimeoutTicks === 0 || this.nowTicks === 1) this.tryJoin();
      return;
    }
    if (this.nowTicks % c.stabilizeEveryTicks === 0) this.stabilize();
    if (this.nowTicks % c.fixFingersEveryTicks === 0) this.fixFinger();
    if (this.nowTicks % c.checkPredecessorEveryTicks === 0) this.checkPredecessor();
    if (this.nowTicks % c.rejoinEveryTicks === 0) this.rejoin();
    if (this.nowTicks % c.replicateEveryTicks === 0) this.replicate();
  }

  handleMessage(from: NodeId, msg: ChordMsg): void {
    switch (msg.type) {
      case 'find': {
        const succ = this.successor;
        if (succ.addr === this.address || inHalfOpen(msg.key, this.self.id, succ.id, this.config.idBits)) {
          this.send(from, { type: 'find-reply', reqId: msg.reqId, found: true, node: succ });
        } else {
          const next = this.closestPreceding(msg.key, msg.avoid);
          if (next === undefined) this.send(from, { type: 'find-reply', reqId: msg.reqId, found: true, node: succ });
          else this.send(from, { type: 'find-reply', reqId: msg.reqId, found: false, node: next });
        }
        return;
      }
      case 'find-reply': {
        const p = this.takePending(msg.reqId, 'find');
        if (p === undefined) return;
        const l = p.lookup;
        if (msg.found) this.finishLookup(l, msg.node);
        else if (msg.node.addr === this.address) this.finishLookup(l, this.successor);
        else this.queryHop(l, msg.node);
        return;
      }
      case 'stabilize':
        this.send(from, { type: 'stabilize-reply', reqId: msg.reqId, predecessor: this.predecessorPeer, successors: this.successorList });
        return;
      case 'stabilize-reply': {
        const p = this.takePending(msg.reqId, 'stabilize');
        if (p === undefined) return;
        const succ = p.to;
        const x = msg.predecessor;
        const list: ChordPeer[] = [];
        if (x !== null && x.addr !== this.address && inOpen(x.id, this.self.id, succ.id, this.config.idBits)) list.push(x);
        list.push(succ, ...msg.successors);
        this.setSuccessors(list);
        this.send(this.successor.addr, { type: 'notify', peer: this.self });
        return;
      }
      case 'notify':
        this.notify(msg.peer);
        return;
      case 'ping':
        this.send(from, { type: 'pong', reqId: msg.reqId });
        return;
      case 'pong':
        this.takePending(msg.reqId, 'ping');
        return;
      case 'store': {
        const ok = this.storeLocal(msg.key, msg.value);
        if (ok) this.pushReplicas([msg.key]);
        this.send(from, { type: 'store-ack', reqId: msg.reqId, ok });
        return;
      }
      case 'replicate':
        for (const it of msg.items.slice(0, this.config.keysPerReplicateMax)) this.storeLocal(it.key, it.value);
        return;
      case 'store-ack': {
        const p = this.takePending(msg.reqId, 'store');
        if (p !== undefined) this.pushResult({ type: 'put', reqId: p.reqId, key: p.key, ok: msg.ok, hops: p.hops });
        return;
      }
      case 'get':
        this.send(from, { type: 'get-reply', reqId: msg.reqId, value: this.keys.get(msg.key)?.value ?? null });
        return;
      case 'get-reply': {
        const p = this.takePending(msg.reqId, 'get');
        if (p !== undefined) this.pushResult({ type: 'get', reqId: p.reqId, key: p.key, ok: true, value: msg.value, hops: p.hops });
        return;
      }
      default:
        unreachable(msg, 'chord message');
    }
  }

  // ---- maintenance (§4.4 Figure 7) ----

  private tryJoin(): void {
    if (this.bootstrap.length === 0 || this.pendingOf('find', (l) => l.purpose.kind === 'join')) return;
    const via = this.rng.pick(this.bootstrap);
    // successor(n + 1) rather than successor(n): the answer must not be this node itself even
    // when another node already points at it.
    this.startLookupAt(ringAdd(this.self.id, 1, this.config.idBits), { kind: 'join' }, { id: hashId(via, this.config.idBits), addr: via });
  }

  private rejoin(): void {
    if (this.bootstrap.length === 0 || this.pendingOf('find', (l) => l.purpose.kind === 'rejoin')) return;
    const via = this.rng.pick(this.bootstrap);
    this.startLookupAt(ringAdd(this.self.id, 1, this.config.idBits), { kind: 'rejoin' }, { id: hashId(via, this.config.idBits), addr: via });
  }

  private stabilize(): void {
    if (this.successorList.length === 0) {
      // Alone, or every successor failed: the predecessor (if any) closes the ring (Figure 7's
      // case of a ring of one); otherwise the rejoin lookup finds the ring again.
      if (this.predecessorPeer !== null) this.setSuccessors([this.predecessorPeer]);
      return;
    }
    if (this.hasPending('stabilize')) return;
    const succ = this.successor;
    this.request(succ, (reqId) => ({ type: 'stabilize', reqId }), (deadline) => ({ kind: 'stabilize', to: succ, deadline }));
  }

  private notify(p: ChordPeer): void {
    if (p.addr === this.address) return;
    const pred = this.predecessorPeer;
    if (pred === null || inOpen(p.id, pred.id, this.self.id, this.config.idBits)) {
      this.predecessorPeer = p;
      // Hand the new predecessor every key it is now (or is closer to being) responsible for.
      this.pushForeign();
    }
    if (this.successorList.length === 0) {
      this.setSuccessors([p]);
      this.joined = true;
    }
  }

  private fixFinger(): void {
    if (this.pendingOf('find', (l) => l.purpose.kind === 'finger')) return;
    const i = this.nextFinger;
    this.startLookup(ringAdd(this.self.id, 2 ** i, this.config.idBits), { kind: 'finger', index: i });
  }

  private checkPredecessor(): void {
    const pred = this.predecessorPeer;
    if (pred === null || this.hasPending('ping')) return;
    this.request(pred, (reqId) => ({ type: 'ping', reqId }), (deadline) => ({ kind: 'ping', to: pred, deadline }));
  }

  /**
   * Replica maintenance, two directions: keys this node owns (in (predecessor, self]) go to its
   * `replicas - 1` successors; keys it holds but does not own go back to its predecessor, which
   * is closer to their owner. Keys therefore flow back to a restarted or new owner even when the
   * one-off handoff at notify time was lost, and forward to every replica.
   */
  private replicate(): void {
    const pred = this.predecessorPeer;
    const owned: string[] = [];
    for (const [k, v] of this.keys) if (pred === null || inHalfOpen(v.keyId, pred.id, this.self.id, this.config.idBits)) owned.push(k);
    if (owned.length > 0) {
      const max = this.config.keysPerReplicateMax;
      const start = this.replicateCursor % owned.length;
      const batch = owned.length <= max ? owned : [...owned.slice(start), ...owned.slice(0, start)].slice(0, max);
      this.replicateCursor = start + batch.length;
      this.pushReplicas(batch);
    }
    this.pushForeign();
  }

  private pushForeign(): void {
    const pred = this.predecessorPeer;
    if (pred === null) return;
    const items: { key: string; value: string }[] = [];
    for (const [k, v] of this.keys) {
      if (items.length >= this.config.keysPerReplicateMax) break;
      if (!inHalfOpen(v.keyId, pred.id, this.self.id, this.config.idBits)) items.push({ key: k, value: v.value });
    }
    if (items.length > 0) this.send(pred.addr, { type: 'replicate', items });
  }

  private pushReplicas(keys: readonly string[]): void {
    const targets = this.successorList.slice(0, this.config.replicas - 1);
    const items: { key: string; value: string }[] = [];
    for (const k of keys) {
      const v = this.keys.get(k);
      if (v !== undefined) items.push({ key: k, value: v.value });
    }
    if (items.length === 0) return;
    for (const t of targets) this.send(t.addr, { type: 'replicate', items });
  }

  private storeLocal(key: string, value: string): boolean {
    if (!this.keys.has(key) && this.keys.size >= this.config.keysMax) return false;
    this.keys.set(key, { keyId: hashId(key, this.config.idBits), value });
    return true;
  }

  // ---- routing ----

  /** The known node closest to `key` that precedes it (fingers and successors), or undefined. */
  private closestPreceding(key: number, avoid: readonly NodeId[]): ChordPeer | undefined {
    let best: ChordPeer | undefined;
    let bestDist = -1;
    const bits = this.config.idBits;
    const consider = (p: ChordPeer | null): void => {
      if (p === null || p.addr === this.address || avoid.includes(p.addr)) return;
      if (!inOpen(p.id, this.self.id, key, bits)) return;
      const d = ringDistance(this.self.id, p.id, bits);
      if (d > bestDist) {
        bestDist = d;
        best = p;
      }
    };
    for (const f of this.fingers) consider(f);
    for (const s of this.successorList) consider(s);
    return best;
  }

  private startLookup(key: number, purpose: Purpose): number {
    const reqId = this.nextReqId++;
    const l: Lookup = { reqId, key, purpose, hops: 0, avoid: [] };
    if (purpose.kind === 'client' || purpose.kind === 'put' || purpose.kind === 'get') this.stats.lookupsStarted++;
    this.continueLocally(l);
    return reqId;
  }

  private startLookupAt(key: number, purpose: Purpose, at: ChordPeer): void {
    const l: Lookup = { reqId: this.nextReqId++, key, purpose, hops: 0, avoid: [] };
    this.queryHop(l, at);
  }

  /** Resolves what the local routing state can, then asks the best remote hop. */
  private continueLocally(l: Lookup): void {
    const succ = this.successor;
    if (succ.addr === this.address || inHalfOpen(l.key, this.self.id, succ.id, this.config.idBits)) {
      if (succ.addr !== this.address && l.avoid.includes(succ.addr)) {
        const alt = this.successorList.find((s) => !l.avoid.includes(s.addr));
        this.finishLookup(l, alt ?? this.self);
        return;
      }
      this.finishLookup(l, succ);
      return;
    }
    const next = this.closestPreceding(l.key, l.avoid) ?? succ;
    this.queryHop(l, next);
  }

  private queryHop(l: Lookup, to: ChordPeer): void {
    if (l.hops >= this.config.lookupHopsMax) {
      this.failLookup(l, `no answer within ${this.config.lookupHopsMax} hops`);
      return;
    }
    if (this.pending.size >= this.config.pendingMax) {
      this.failLookup(l, `more than ${this.config.pendingMax} requests outstanding`);
      return;
    }
    l.hops++;
    this.request(to, (reqId) => ({ type: 'find', reqId, key: l.key, avoid: [...l.avoid] }), (deadline) => ({ kind: 'find', to, deadline, lookup: l }));
  }

  private finishLookup(l: Lookup, owner: ChordPeer): void {
    const p = l.purpose;
    switch (p.kind) {
      case 'client':
        this.pushResult({ type: 'lookup', reqId: l.reqId, key: l.key, ok: true, owner, hops: l.hops });
        return;
      case 'finger': {
        // finger[i] = successor(n + 2^i); later fingers whose start also precedes `owner` share it.
        const bits = this.config.idBits;
        let i = p.index;
        this.fingers[i] = owner.addr === this.address ? null : owner;
        i++;
        while (i < bits && owner.addr !== this.address && inHalfOpen(ringAdd(this.self.id, 2 ** i, bits), this.self.id, owner.id, bits)) {
          this.fingers[i] = owner;
          i++;
        }
        this.nextFinger = i % bits;
        return;
      }
      case 'join':
        if (owner.addr !== this.address) {
          this.setSuccessors([owner]);
          this.joined = true;
        }
        return;
      case 'rejoin': {
        const succ = this.successor;
        if (owner.addr !== this.address && (succ.addr === this.address || inOpen(owner.id, this.self.id, succ.id, this.config.idBits))) {
          this.setSuccessors([owner, ...this.successorList]);
        }
        return;
      }
      case 'put': {
        const hops = l.hops;
        if (owner.addr === this.address) {
          const ok = this.storeLocal(p.key, p.value);
          if (ok) this.pushReplicas([p.key]);
          this.pushResult({ type: 'put', reqId: l.reqId, key: p.key, ok, hops });
          return;
        }
        this.request(
          owner,
          (reqId) => ({ type: 'store', reqId, key: p.key, value: p.value }),
          (deadline) => ({ kind: 'store', to: owner, deadline, reqId: l.reqId, key: p.key, hops }),
        );
        return;
      }
      case 'get': {
        const hops = l.hops;
        if (owner.addr === this.address) {
          this.pushResult({ type: 'get', reqId: l.reqId, key: p.key, ok: true, value: this.keys.get(p.key)?.value ?? null, hops });
          return;
        }
        this.request(owner, (reqId) => ({ type: 'get', reqId, key: p.key }), (deadline) => ({ kind: 'get', to: owner, deadline, reqId: l.reqId, key: p.key, hops }));
        return;
      }
      default:
        unreachable(p, 'lookup purpose');
    }
  }

  private failLookup(l: Lookup, reason: string): void {
    if (l.purpose.kind === 'client' || l.purpose.kind === 'put' || l.purpose.kind === 'get') {
      this.stats.lookupsFailed++;
      this.pushResult({ type: 'failed', reqId: l.reqId, reason });
    }
  }

  private timeout(reqId: number, p: Pending): void {
    this.pending.delete(reqId);
    this.stats.timeouts++;
    this.forget(p.to);
    switch (p.kind) {
      case 'find': {
        const l = p.lookup;
        if (l.purpose.kind === 'join' || l.purpose.kind === 'rejoin') return;
        if (l.avoid.length < AVOID_MAX) l.avoid.push(p.to.addr);
        this.continueLocally(l);
        return;
      }
      case 'stabilize':
      case 'ping':
        return;
      case 'store':
        this.pushResult({ type: 'failed', reqId: p.reqId, reason: `owner ${p.to.addr} did not acknowledge the store` });
        return;
      case 'get':
        this.pushResult({ type: 'failed', reqId: p.reqId, reason: `owner ${p.to.addr} did not answer the read` });
        return;
      default:
        unreachable(p, 'pending request');
    }
  }

  /** Removes a peer that failed to answer from every routing structure. */
  private forget(peer: ChordPeer): void {
    this.successorList = this.successorList.filter((s) => s.addr !== peer.addr);
    if (this.predecessorPeer?.addr === peer.addr) this.predecessorPeer = null;
    for (let i = 0; i < this.fingers.length; i++) if (this.fingers[i]?.addr === peer.addr) this.fingers[i] = null;
  }

  private setSuccessors(list: readonly ChordPeer[]): void {
    const out: ChordPeer[] = [];
    const seen = new Set<NodeId>([this.address]);
    for (const p of list) {
      if (seen.has(p.addr)) continue;
      seen.add(p.addr);
      out.push(p);
      if (out.length >= this.config.successorsMax) break;
    }
    this.successorList = out;
  }

  // ---- plumbing ----

  private request(to: ChordPeer, msg: (reqId: number) => ChordMsg, pending: (deadline: number) => Pending): void {
    const reqId = this.nextReqId++;
    this.pending.set(reqId, pending(this.nowTicks + this.config.rpcTimeoutTicks));
    this.send(to.addr, msg(reqId));
  }

  private takePending<K extends Pending['kind']>(reqId: number, kind: K): Extract<Pending, { kind: K }> | undefined {
    const p = this.pending.get(reqId);
    if (p === undefined || p.kind !== kind) return undefined;
    this.pending.delete(reqId);
    return p as Extract<Pending, { kind: K }>;
  }

  private hasPending(kind: Pending['kind']): boolean {
    for (const p of this.pending.values()) if (p.kind === kind) return true;
    return false;
  }

  private pendingOf(kind: 'find', match: (l: Lookup) => boolean): boolean {
    for (const p of this.pending.values()) if (p.kind === kind && match(p.lookup)) return true;
    return false;
  }

  private send(to: NodeId, msg: ChordMsg): void {
    this.stats.messagesSent++;
    this.outbox.push({ to, msg });
  }

  private pushResult(r: ChordResult): void {
    if (this.results.length >= this.config.resultsMax) this.results.shift();
    this.results.push(r);
  }
}

/** successor(key) in a ring sorted by id. */
export function successorOf(sortedRing: readonly ChordPeer[], key: number): ChordPeer | null {
  if (sortedRing.length === 0) return null;
  let lo = 0;
  let hi = sortedRing.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sortedRing[mid] as ChordPeer).id < key) lo = mid + 1;
    else hi = mid;
  }
  return sortedRing[lo % sortedRing.length] as ChordPeer;
}

/** Peers sorted by identifier. */
export function sortRing(peers: readonly ChordPeer[]): ChordPeer[] {
  return [...peers].sort((a, b) => a.id - b.id);
}
