/**
 * Kademlia (Maymounkov & Mazières, IPTPS 2002; seed 04.4.3) as a sans-IO core: the XOR metric
 * d(x, y) = x ⊕ y (§2.1), k-buckets kept in least-recently-seen order where a full bucket pings
 * its least-recently-seen contact before evicting it (§2.2: live old contacts are preferred),
 * the four RPCs PING, STORE, FIND_NODE and FIND_VALUE, the iterative node lookup with α
 * parallel requests that ends once the k closest nodes it has seen have all answered (§2.3),
 * bucket refresh with random-target lookups, and periodic republishing of stored pairs.
 *
 * Deliberate choices and omissions:
 * - Identifiers are at most 32 bits (see ids.ts), not 160; buckets are indexed by the highest
 *   differing bit, so there are `idBits` of them (no bucket splitting: the tree of §4.2 with
 *   its relaxed splitting rule is left out).
 * - A contact that fails one RPC is removed at once (the paper tolerates several failures);
 *   it returns as soon as it is heard from again. Each refresh pings a bootstrap peer the node
 *   no longer knows, which re-joins the two sides of a healed partition.
 * - No caching of values along the lookup path, no expiry (values live until the node
 *   restarts), no accelerated lookups (§4.1's b-bit digits), values are last-writer-by-arrival.
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { Outgoing, OverlayCore } from './host.ts';
import { checkIdBits, hashId, highestBit, xorDistance } from './ids.ts';

export interface KadContact {
  readonly id: number;
  readonly addr: NodeId;
}

export interface KademliaConfig {
  /** Identifier width, bits (1..32). */
  idBits: number;
  /** k: bucket size and number of nodes a lookup returns and a value is stored on. */
  k: number;
  /** α: requests in flight per lookup. */
  alpha: number;
  /** Ticks after which an unanswered RPC counts as failed. */
  rpcTimeoutTicks: number;
  /** Ticks between bucket-refresh lookups (one bucket per period, cycling). */
  refreshEveryTicks: number;
  /** Ticks between republishing every stored pair to the k closest nodes. */
  republishEveryTicks: number;
  /** Lookups running at once at most (client, refresh and republish together). */
  lookupsMax: number;
  /** RPCs one lookup may send at most. */
  lookupRpcsMax: number;
  /** Candidates a lookup remembers at most (the farthest unqueried ones are dropped). */
  shortlistMax: number;
  /** Stored pairs at most. */
  keysMax: number;
  /** Pairs republished per period at most. */
  republishBatchMax: number;
  /** Results queued for the host at most. */
  resultsMax: number;
}

export function defaultKademliaConfig(): KademliaConfig {
  return {
    idBits: 32,
    k: 8,
    alpha: 3,
    rpcTimeoutTicks: 3,
    refreshEveryTicks: 10,
    republishEveryTicks: 50,
    lookupsMax: 64,
    lookupRpcsMax: 200,
    shortlistMax: 64,
    keysMax: 100_000,
    republishBatchMax: 100,
    resultsMax: 10_000,
  };
}

export function validateKademliaConfig(c: KademliaConfig): void {
  checkIdBits(c.idBits);
  for (const key of Object.keys(c) as (keyof KademliaConfig)[]) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new ConfigError(`kademlia ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.shortlistMax < c.k) throw new ConfigError(`kademlia shortlistMax (${c.shortlistMax}) must be ≥ k (${c.k})`);
}

export type KademliaMsg =
  | { readonly type: 'ping'; readonly reqId: number }
  | { readonly type: 'pong'; readonly reqId: number }
  | { readonly type: 'find-node'; readonly reqId: number; readonly target: number }
  | { readonly type: 'find-value'; readonly reqId: number; readonly target: number; readonly key: string }
  | { readonly type: 'nodes'; readonly reqId: number; readonly contacts: readonly KadContact[] }
  | { readonly type: 'value'; readonly reqId: number; readonly value: string }
  | { readonly type: 'store'; readonly reqId: number; readonly key: string; readonly value: string }
  | { readonly type: 'stored'; readonly reqId: number; readonly ok: boolean };

export type KademliaResult =
  | { readonly type: 'lookup'; readonly reqId: number; readonly target: number; readonly closest: readonly KadContact[]; readonly hops: number; readonly rpcs: number }
  | { readonly type: 'put'; readonly reqId: number; readonly key: string; readonly storedOn: number; readonly rpcs: number }
  | { readonly type: 'get'; readonly reqId: number; readonly key: string; readonly value: string | null; readonly hops: number; readonly rpcs: number }
  | { readonly type: 'failed'; readonly reqId: number; readonly reason: string };

type Purpose =
  | { readonly kind: 'client' }
  | { readonly kind: 'maintenance' }
  | { readonly kind: 'put'; readonly key: string; readonly value: string; readonly report: boolean }
  | { readonly kind: 'get'; readonly key: string };

interface Candidate {
  readonly contact: KadContact;
  readonly distance: number;
  state: 'new' | 'inflight' | 'ok' | 'failed';
  /** Lookup depth at which the candidate was learned (1 = from the local table). */
  readonly depth: number;
}

interface Lookup {
  readonly reqId: number;
  readonly target: number;
  readonly purpose: Purpose;
  readonly shortlist: Map<NodeId, Candidate>;
  inflight: number;
  rpcs: number;
  done: boolean;
}

interface PutState {
  readonly reqId: number;
  readonly key: string;
  outstanding: number;
  ok: number;
  readonly rpcs: number;
  readonly report: boolean;
}

type Pending =
  | { readonly kind: 'lookup'; readonly to: KadContact; readonly deadline: number; readonly lookup: Lookup }
  | { readonly kind: 'evict-ping'; readonly to: KadContact; readonly deadline: number; readonly bucket: number; readonly candidate: KadContact }
  | { readonly kind: 'store'; readonly to: KadContact; readonly deadline: number; readonly put: PutState };

export interface KademliaNodeOptions {
  address: NodeId;
  config: KademliaConfig;
  rng: Rng;
  bootstrap: readonly NodeId[];
}

export class KademliaNode implements OverlayCore<KademliaMsg> {
  readonly address: NodeId;
  readonly self: KadContact;
  readonly config: KademliaConfig;
  private readonly rng: Rng;
  private readonly bootstrap: NodeId[];
  /** buckets[i]: contacts whose distance has highest bit i, least recently seen first. */
  private readonly buckets: KadContact[][];
  private readonly evicting = new Set<number>();
  private readonly store = new Map<string, string>();
  /** Tick at which each pair last arrived by STORE (republishing skips pairs refreshed since). */
  private readonly storedAtTick = new Map<string, number>();
  private readonly pending = new Map<number, Pending>();
  private readonly lookups = new Set<Lookup>();
  private readonly outbox: Outgoing<KademliaMsg>[] = [];
  private readonly results: KademliaResult[] = [];
  private nowTicks = 0;
  private nextReqId = 1;
  private refreshBucket: number;
  private republishCursor = 0;
  readonly stats = { rpcsSent: 0, timeouts: 0, evictions: 0, lookupsFailed: 0 };

  constructor(opts: KademliaNodeOptions) {
    validateKademliaConfig(opts.config);
    this.config = opts.config;
    this.address = opts.address;
    this.self = { id: hashId(opts.address, opts.config.idBits), addr: opts.address };
    this.rng = opts.rng;
    this.bootstrap = opts.bootstrap.filter((b) => b !== opts.address);
    this.buckets = Array.from({ length: opts.config.idBits }, () => []);
    this.refreshBucket = opts.config.idBits - 1;
    for (const b of this.bootstrap) this.observe(this.contactOf(b));
  }

  // ---- views ----

  /** Every contact in the routing table. */
  contacts(): KadContact[] {
    return this.buckets.flat();
  }
  bucket(i: number): readonly KadContact[] {
    return this.buckets[i] ?? [];
  }
  hasKey(key: string): boolean {
    return this.store.has(key);
  }
  storedKeys(): string[] {
    return [...this.store.keys()];
  }

  /** Measurement shortcut: fills the buckets from global knowledge (k random contacts per bucket). */
  installTable(all: readonly KadContact[]): void {
    const per: KadContact[][] = Array.from({ length: this.config.idBits }, () => []);
    for (const c of all) {
      if (c.addr === this.address) continue;
      per[highestBit(xorDistance(this.self.id, c.id))]?.push(c);
    }
    per.forEach((list, i) => {
      this.buckets[i] = list.length <= this.config.k ? list : this.rng.shuffle(list).slice(0, this.config.k);
    });
  }

  // ---- client API ----

  /** Iterative FIND_NODE: the k closest live nodes to `target`. */
  lookup(target: number): number {
    return this.startLookup(target, { kind: 'client' });
  }
  /** STORE on the k closest nodes to hash(key). */
  put(key: string, value: string): number {
    return this.startLookup(hashId(key, this.config.idBits), { kind: 'put', key, value, report: true });
  }
  /** Iterative FIND_VALUE. */
  get(key: string): number {
    if (this.store.has(key)) {
      const reqId = this.nextReqId++;
      this.pushResult({ type: 'get', reqId, key, value: this.store.get(key) ?? null, hops: 0, rpcs: 0 });
      return reqId;
    }
    return this.startLookup(hashId(key, this.config.idBits), { kind: 'get', key });
  }
  pollResults(): KademliaResult[] {
    return this.results.splice(0);
  }
  drain(): Outgoing<KademliaMsg>[] {
    return this.outbox.splice(0);
  }

  // ---- inputs ----

  tick(): void {
    this.nowTicks++;
    for (const [reqId, p] of this.pending) if (p.deadline <= this.nowTicks) this.timeout(reqId, p);
    const c = this.config;
    if (this.nowTicks === 1 || this.nowTicks % c.refreshEveryTicks === 0) this.refresh();
    if (this.nowTicks % c.republishEveryTicks === 0) this.republish();
  }

  handleMessage(from: NodeId, msg: KademliaMsg): void {
    const sender = this.contactOf(from);
    this.observe(sender);
    switch (msg.type) {
      case 'ping':
        this.send(from, { type: 'pong', reqId: msg.reqId });
        return;
      case 'find-node':
        this.send(from, { type: 'nodes', reqId: msg.reqId, contacts: this.closestKnown(msg.target, this.config.k, from) });
        return;
      case 'find-value': {
        const v = this.store.get(msg.key);
        if (v !== undefined) this.send(from, { type: 'value', reqId: msg.reqId, value: v });
        else this.send(from, { type: 'nodes', reqId: msg.reqId, contacts: this.closestKnown(msg.target, this.config.k, from) });
        return;
      }
      case 'store': {
        const ok = this.store.has(msg.key) || this.store.size < this.config.keysMax;
        if (ok) {
          this.store.set(msg.key, msg.value);
          this.storedAtTick.set(msg.key, this.nowTicks);
        }
        this.send(from, { type: 'stored', reqId: msg.reqId, ok });
        return;
      }
      case 'pong':
      case 'nodes':
      case 'value':
      case 'stored':
        this.handleReply(msg);
        return;
      default:
        unreachable(msg, 'kademlia message');
    }
  }

  private handleReply(msg: Extract<KademliaMsg, { type: 'pong' | 'nodes' | 'value' | 'stored' }>): void {
    const p = this.pending.get(msg.reqId);
    if (p === undefined) return;
    this.pending.delete(msg.reqId);
    switch (p.kind) {
      case 'evict-ping':
        // The least-recently-seen contact answered: it stays (observe moved it to the tail).
        this.evicting.delete(p.bucket);
        return;
      case 'store':
        p.put.outstanding--;
        if (msg.type === 'stored' && msg.ok) p.put.ok++;
        this.maybeFinishPut(p.put);
        return;
      case 'lookup': {
        const l = p.lookup;
        l.inflight--;
        const cand = l.shortlist.get(p.to.addr);
        if (cand !== undefined) cand.state = 'ok';
        if (l.done) return;
        if (msg.type === 'value' && l.purpose.kind === 'get') {
          this.finishLookup(l, msg.value, cand?.depth ?? 1);
          return;
        }
        if (msg.type === 'nodes') {
          for (const c of msg.contacts) {
            if (c.addr === this.address || l.shortlist.has(c.addr)) continue;
            l.shortlist.set(c.addr, { contact: c, distance: xorDistance(c.id, l.target), state: 'new', depth: (cand?.depth ?? 0) + 1 });
          }
          this.pruneShortlist(l);
        }
        this.stepLookup(l);
        return;
      }
      default:
        unreachable(p, 'pending rpc');
    }
  }

  // ---- routing table (§2.2) ----

  private contactOf(addr: NodeId): KadContact {
    return { id: hashId(addr, this.config.idBits), addr };
  }

  /** Updates the k-bucket for a contact just heard from. */
  private observe(c: KadContact): void {
    if (c.addr === this.address) return;
    const i = highestBit(xorDistance(this.self.id, c.id));
    const b = this.buckets[i];
    if (b === undefined) return;
    const at = b.findIndex((x) => x.addr === c.addr);
    if (at >= 0) {
      b.splice(at, 1);
      b.push(c);
      return;
    }
    if (b.length < this.config.k) {
      b.push(c);
      return;
    }
    // Full: ping the least-recently-seen contact; evict it only if it does not answer.
    if (this.evicting.has(i)) return;
    const head = b[0] as KadContact;
    this.evicting.add(i);
    this.rpc(head, (reqId) => ({ type: 'ping', reqId }), (deadline) => ({ kind: 'evict-ping', to: head, deadline, bucket: i, candidate: c }));
  }

  private remove(c: KadContact): void {
    const b = this.buckets[highestBit(xorDistance(this.self.id, c.id))];
    if (b === undefined) return;
    const at = b.findIndex((x) => x.addr === c.addr);
    if (at >= 0) b.splice(at, 1);
  }

  /** The `count` known contacts closest to `target`, excluding `exclude`. */
  closestKnown(target: number, count: number, exclude?: NodeId): KadContact[] {
    const all = this.contacts().filter((c) => c.addr !== exclude);
    all.sort((a, b) => xorDistance(a.id, target) - xorDistance(b.id, target));
    return all.slice(0, count);
  }

  // ---- lookup (§2.3) ----

  private startLookup(target: number, purpose: Purpose): number {
    const reqId = this.nextReqId++;
    if (this.lookups.size >= this.config.lookupsMax) {
      if (purpose.kind !== 'maintenance') this.pushResult({ type: 'failed', reqId, reason: `more than ${this.config.lookupsMax} lookups running` });
      return reqId;
    }
    const l: Lookup = { reqId, target, purpose, shortlist: new Map(), inflight: 0, rpcs: 0, done: false };
    for (const c of this.closestKnown(target, this.config.k)) l.shortlist.set(c.addr, { contact: c, distance: xorDistance(c.id, target), state: 'new', depth: 1 });
    this.lookups.add(l);
    this.stepLookup(l);
    return reqId;
  }

  private sortedCandidates(l: Lookup): Candidate[] {
    return [...l.shortlist.values()].filter((c) => c.state !== 'failed').sort((a, b) => a.distance - b.distance);
  }

  private pruneShortlist(l: Lookup): void {
    if (l.shortlist.size <= this.config.shortlistMax) return;
    const all = [...l.shortlist.values()].sort((a, b) => a.distance - b.distance);
    for (const c of all.slice(this.config.shortlistMax)) if (c.state === 'new' || c.state === 'failed') l.shortlist.delete(c.contact.addr);
  }

  /** Sends up to α requests to the closest unqueried of the k closest candidates, or finishes. */
  private stepLookup(l: Lookup): void {
    if (l.done) return;
    const top = this.sortedCandidates(l).slice(0, this.config.k);
    if (top.every((c) => c.state === 'ok')) {
      this.finishLookup(l, null, 0);
      return;
    }
    for (const c of top) {
      if (l.inflight >= this.config.alpha) break;
      if (c.state !== 'new') continue;
      if (l.rpcs >= this.config.lookupRpcsMax) break;
      c.state = 'inflight';
      l.inflight++;
      l.rpcs++;
      const to = c.contact;
      if (l.purpose.kind === 'get') {
        const key = l.purpose.key;
        this.rpc(to, (reqId) => ({ type: 'find-value', reqId, target: l.target, key }), (deadline) => ({ kind: 'lookup', to, deadline, lookup: l }));
      } else {
        this.rpc(to, (reqId) => ({ type: 'find-node', reqId, target: l.target }), (deadline) => ({ kind: 'lookup', to, deadline, lookup: l }));
      }
    }
    if (l.inflight === 0) this.finishLookup(l, null, 0);
  }

  private finishLookup(l: Lookup, value: string | null, valueDepth: number): void {
    l.done = true;
    this.lookups.delete(l);
    const closest = this.sortedCandidates(l)
      .filter((c) => c.state === 'ok')
      .slice(0, this.config.k);
    const hops = value !== null ? valueDepth : (closest[0]?.depth ?? 0);
    const p = l.purpose;
    switch (p.kind) {
      case 'client':
        this.pushResult({ type: 'lookup', reqId: l.reqId, target: l.target, closest: closest.map((c) => c.contact), hops, rpcs: l.rpcs });
        return;
      case 'maintenance':
        return;
      case 'get':
        this.pushResult({ type: 'get', reqId: l.reqId, key: p.key, value, hops, rpcs: l.rpcs });
        return;
      case 'put': {
        const put: PutState = { reqId: l.reqId, key: p.key, outstanding: 0, ok: 0, rpcs: l.rpcs, report: p.report };
        // The k closest nodes the lookup found, plus this node when it is among the k closest.
        const targets = closest.map((c) => c.contact);
        const selfDist = xorDistance(this.self.id, l.target);
        if (targets.length < this.config.k || selfDist < xorDistance((targets[targets.length - 1] as KadContact).id, l.target)) {
          if (this.store.has(p.key) || this.store.size < this.config.keysMax) {
            this.store.set(p.key, p.value);
            put.ok++;
          }
          if (targets.length >= this.config.k) targets.pop();
        }
        for (const to of targets) {
          put.outstanding++;
          this.rpc(to, (reqId) => ({ type: 'store', reqId, key: p.key, value: p.value }), (deadline) => ({ kind: 'store', to, deadline, put }));
        }
        this.maybeFinishPut(put);
        return;
      }
      default:
        unreachable(p, 'lookup purpose');
    }
  }

  private maybeFinishPut(put: PutState): void {
    if (put.outstanding > 0 || !put.report) return;
    this.pushResult({ type: 'put', reqId: put.reqId, key: put.key, storedOn: put.ok, rpcs: put.rpcs });
  }

  private timeout(reqId: number, p: Pending): void {
    this.pending.delete(reqId);
    this.stats.timeouts++;
    this.remove(p.to);
    switch (p.kind) {
      case 'evict-ping': {
        this.evicting.delete(p.bucket);
        this.stats.evictions++;
        const b = this.buckets[p.bucket];
        if (b !== undefined && b.length < this.config.k && !b.some((x) => x.addr === p.candidate.addr)) b.push(p.candidate);
        return;
      }
      case 'store':
        p.put.outstanding--;
        this.maybeFinishPut(p.put);
        return;
      case 'lookup': {
        const l = p.lookup;
        l.inflight--;
        const cand = l.shortlist.get(p.to.addr);
        if (cand !== undefined) cand.state = 'failed';
        this.stepLookup(l);
        return;
      }
      default:
        unreachable(p, 'pending rpc');
    }
  }

  // ---- maintenance ----

  private refresh(): void {
    if (this.contacts().length === 0) for (const b of this.bootstrap) this.observe(this.contactOf(b));
    // Reconnect through a bootstrap peer this node no longer knows: after a partition both sides
    // have dropped each other's contacts, and a bootstrap peer is the one name both remember.
    // Its pong makes it a contact here (and this node one there), so lookups cross again.
    if (this.bootstrap.length > 0) {
      const b = this.rng.pick(this.bootstrap);
      if (!this.contacts().some((c) => c.addr === b)) this.send(b, { type: 'ping', reqId: 0 });
    }
    // Self-lookup fills the nearby buckets (join, §2.3); one random-target lookup per period
    // refreshes one farther bucket, cycling from the farthest down to the nearest non-empty one.
    this.startLookup(this.self.id, { kind: 'maintenance' });
    // Buckets below the lowest non-empty one cover ranges the self-lookup already searched.
    let lowest = 0;
    while (lowest < this.config.idBits - 1 && (this.buckets[lowest]?.length ?? 0) === 0) lowest++;
    const i = this.refreshBucket < lowest ? this.config.idBits - 1 : this.refreshBucket;
    this.refreshBucket = i <= lowest ? this.config.idBits - 1 : i - 1;
    const span = 2 ** i;
    const target = (this.self.id ^ (span + this.rng.int(span))) >>> 0;
    this.startLookup(target, { kind: 'maintenance' });
  }

  private republish(): void {
    const keys = [...this.store.keys()];
    if (keys.length === 0) return;
    const start = this.republishCursor % keys.length;
    const batch = keys.length <= this.config.republishBatchMax ? keys : [...keys.slice(start), ...keys.slice(0, start)].slice(0, this.config.republishBatchMax);
    this.republishCursor = start + batch.length;
    for (const key of batch) {
      // §2.5's optimisation: a pair received by STORE within the last period was just
      // republished by another holder, so this node skips it.
      if (this.nowTicks - (this.storedAtTick.get(key) ?? Number.NEGATIVE_INFINITY) < this.config.republishEveryTicks) continue;
      const value = this.store.get(key);
      if (value !== undefined) this.startLookup(hashId(key, this.config.idBits), { kind: 'put', key, value, report: false });
    }
  }

  // ---- plumbing ----

  private rpc(to: KadContact, msg: (reqId: number) => KademliaMsg, pending: (deadline: number) => Pending): void {
    const reqId = this.nextReqId++;
    this.pending.set(reqId, pending(this.nowTicks + this.config.rpcTimeoutTicks));
    this.stats.rpcsSent++;
    this.send(to.addr, msg(reqId));
  }

  private send(to: NodeId, msg: KademliaMsg): void {
    this.outbox.push({ to, msg });
  }

  private pushResult(r: KademliaResult): void {
    if (this.results.length >= this.config.resultsMax) this.results.shift();
    this.results.push(r);
  }
}

/** The `count` contacts of `all` closest to `target` by XOR. */
export function kClosest(all: readonly KadContact[], target: number, count: number): KadContact[] {
  return [...all].sort((a, b) => xorDistance(a.id, target) - xorDistance(b.id, target)).slice(0, count);
}
