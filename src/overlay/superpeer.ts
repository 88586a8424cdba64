/**
 * Hybrid P2P with super-peers (seed 04.4.2; the KaZaA/FastTrack and Gnutella 0.6 ultrapeer
 * design, Yang & Garcia-Molina, ICDE 2003) as a sans-IO core. Every peer is a leaf or a
 * super-peer. A leaf attaches to one super-peer and uploads the names of the items it holds;
 * the super-peer indexes them and answers searches for its leaves. Super-peers know each other
 * (a full mesh kept by periodic hellos, with bootstrap peers as the meeting point after a
 * partition) and flood searches among themselves with a TTL and duplicate suppression. A leaf
 * whose super-peer stops answering fails over to another known super-peer.
 *
 * Election by capacity: a super-peer is only ever a peer with `capacity ≥ superCapacityMin`;
 * when every known super-peer is full (`leavesPerSuperMax`) or fewer than `supersMin` are known,
 * a super-peer promotes its highest-capacity eligible leaf (or the newcomer, when it is stronger);
 * two leaderless peers meeting at a bootstrap peer elect the one with the higher capacity.
 * A super-peer whose strongest leaf is `handoverCapacityRatio` times stronger hands over: it
 * promotes that leaf, sends its other leaves there and attaches to it as a leaf.
 * A super-peer left without leaves for `demoteAfterTicks` steps down to a leaf when at least
 * `supersMin` other super-peers remain and one at least as strong has room.
 * Left out: load-aware leaf placement beyond "has room", demoting a weak super-peer that still
 * has leaves, and item updates after attach (a leaf's item list is sent when it attaches).
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { Outgoing, OverlayCore } from './host.ts';

export interface SuperPeerConfig {
  /** Leaves one super-peer serves at most. */
  leavesPerSuperMax: number;
  /** Super-peers the overlay keeps at least (for leaf failover), when capable peers exist. */
  supersMin: number;
  /** Capacity (operator-assigned units, e.g. Mbit/s) a peer needs to become a super-peer. */
  superCapacityMin: number;
  /** Ticks between heartbeats (leaf → super-peer, super-peer → super-peers). */
  heartbeatEveryTicks: number;
  /** Ticks of silence after which a super-peer drops a leaf and its index entries. */
  leafTimeoutTicks: number;
  /** Ticks of silence after which a super-peer counts as failed. */
  superTimeoutTicks: number;
  /** Ticks a super-peer waits between two promotions. */
  promoteCooldownTicks: number;
  /**
   * Ticks a super-peer without leaves waits before it steps down to a leaf (only when at least
   * `supersMin` other super-peers are known and one of them has room).
   */
  demoteAfterTicks: number;
  /**
   * Handover: a super-peer whose strongest leaf has at least this many times its capacity
   * promotes that leaf, moves its leaves to it and becomes its leaf (0 disables).
   */
  handoverCapacityRatio: number;
  /** Super-peers a peer remembers at most. */
  knownSupersMax: number;
  /** TTL of searches in the super-peer overlay (1 suffices in a full mesh). */
  searchTtl: number;
  /** Items a peer holds (and uploads) at most. */
  itemsMax: number;
  /** Ticks a search waits for hits. */
  searchTimeoutTicks: number;
  /** Searches running at once at most. */
  searchesMax: number;
  /** Query ids remembered for duplicate suppression at most. */
  seenMax: number;
  /** Results queued for the host at most. */
  resultsMax: number;
}

export function defaultSuperPeerConfig(): SuperPeerConfig {
  return {
    leavesPerSuperMax: 8,
    supersMin: 2,
    superCapacityMin: 10,
    heartbeatEveryTicks: 2,
    leafTimeoutTicks: 8,
    superTimeoutTicks: 6,
    promoteCooldownTicks: 10,
    demoteAfterTicks: 30,
    handoverCapacityRatio: 2,
    knownSupersMax: 64,
    searchTtl: 2,
    itemsMax: 1000,
    searchTimeoutTicks: 10,
    searchesMax: 64,
    seenMax: 4096,
    resultsMax: 10_000,
  };
}

export function validateSuperPeerConfig(c: SuperPeerConfig): void {
  for (const key of Object.keys(c) as (keyof SuperPeerConfig)[]) {
    const real = key === 'superCapacityMin' || key === 'handoverCapacityRatio';
    if (!Number.isFinite(c[key]) || c[key] < (real ? 0 : 1) || (!real && !Number.isInteger(c[key]))) {
      throw new ConfigError(`super-peer ${key} must be a positive integer, got ${c[key]}`);
    }
  }
  if (c.superTimeoutTicks <= c.heartbeatEveryTicks) throw new ConfigError(`superTimeoutTicks (${c.superTimeoutTicks}) must exceed heartbeatEveryTicks (${c.heartbeatEveryTicks})`);
  if (c.leafTimeoutTicks <= c.heartbeatEveryTicks) throw new ConfigError(`leafTimeoutTicks (${c.leafTimeoutTicks}) must exceed heartbeatEveryTicks (${c.heartbeatEveryTicks})`);
}

export interface SuperInfo {
  readonly addr: NodeId;
  readonly capacity: number;
  readonly leaves: number;
}

export type SuperPeerMsg =
  | { readonly type: 'attach'; readonly capacity: number; readonly items: readonly string[]; readonly orphan: boolean }
  | { readonly type: 'attach-ok'; readonly supers: readonly SuperInfo[] }
  | { readonly type: 'attach-redirect'; readonly to: NodeId | null; readonly supers: readonly SuperInfo[] }
  | { readonly type: 'promote' }
  | { readonly type: 'handover'; readonly to: NodeId }
  | { readonly type: 'leaf-ping' }
  | { readonly type: 'leaf-pong'; readonly known: boolean; readonly supers: readonly SuperInfo[] }
  | { readonly type: 'super-hello'; readonly self: SuperInfo; readonly supers: readonly SuperInfo[] }
  | { readonly type: 'supers'; readonly supers: readonly SuperInfo[] }
  | { readonly type: 'search'; readonly qid: string; readonly origin: NodeId; readonly item: string; readonly ttl: number }
  | { readonly type: 'hits'; readonly qid: string; readonly holders: readonly NodeId[] };

export interface SuperPeerSearchResult {
  readonly type: 'search';
  readonly reqId: number;
  readonly item: string;
  readonly holders: readonly NodeId[];
}

interface LeafEntry {
  readonly capacity: number;
  readonly items: readonly string[];
  heardTick: number;
}

interface KnownSuper {
  capacity: number;
  leaves: number;
  heardTick: number;
  /** Heard from itself (not only named by others): only such entries are passed on, so a dead super-peer's name dies out. */
  direct: boolean;
}

export interface SuperPeerNodeOptions {
  address: NodeId;
  config: SuperPeerConfig;
  rng: Rng;
  capacity: number;
  bootstrap: readonly NodeId[];
  items?: readonly string[];
}

export class SuperPeerNode implements OverlayCore<SuperPeerMsg> {
  readonly address: NodeId;
  readonly config: SuperPeerConfig;
  readonly capacity: number;
  private readonly rng: Rng;
  private readonly bootstrap: NodeId[];
  private roleValue: 'leaf' | 'super' = 'leaf';
  private readonly items = new Set<string>();
  // leaf state
  private superAddr: NodeId | null = null;
  private superHeardTick = 0;
  private attachPending: { readonly to: NodeId } | null = null;
  // super state
  private readonly leafMap = new Map<NodeId, LeafEntry>();
  private readonly index = new Map<string, Set<NodeId>>();
  private lastPromotionTick = Number.NEGATIVE_INFINITY;
  /** Last tick this super-peer had a leaf (or became super-peer). */
  private hadLeavesTick = 0;
  // both
  private readonly supers = new Map<NodeId, KnownSuper>();
  private readonly seen = new Map<string, true>();
  private readonly searches = new Map<string, { reqId: number; item: string; startTick: number; holders: Set<NodeId> }>();
  private readonly outbox: Outgoing<SuperPeerMsg>[] = [];
  private readonly results: SuperPeerSearchResult[] = [];
  private nowTicks = 0;
  private nextReqId = 1;
  private readonly incarnation: number;
  readonly stats = { promotions: 0, demotions: 0, handovers: 0, failovers: 0, searchMessages: 0 };

  constructor(opts: SuperPeerNodeOptions) {
    validateSuperPeerConfig(opts.config);
    if (!Number.isFinite(opts.capacity) || opts.capacity < 0) throw new ConfigError(`capacity must be a finite number ≥ 0, got ${opts.capacity}`);
    this.address = opts.address;
    this.config = opts.config;
    this.capacity = opts.capacity;
    this.rng = opts.rng;
    this.incarnation = opts.rng.nextU32();
    this.bootstrap = opts.bootstrap.filter((b) => b !== opts.address);
    for (const it of (opts.items ?? []).slice(0, opts.config.itemsMax)) this.items.add(it);
  }

  get role(): 'leaf' | 'super' {
    return this.roleValue;
  }
  /** The super-peer a leaf is attached to (null for super-peers and orphans). */
  get superPeer(): NodeId | null {
    return this.superAddr;
  }
  leaves(): NodeId[] {
    return [...this.leafMap.keys()];
  }
  knownSupers(): NodeId[] {
    return [...this.supers.keys()];
  }
  hasItem(item: string): boolean {
    return this.items.has(item);
  }
  /** Links for graph measures: a leaf's super-peer; a super-peer's leaves and known super-peers. */
  links(): NodeId[] {
    if (this.roleValue === 'leaf') return this.superAddr === null ? [] : [this.superAddr];
    return [...this.leafMap.keys(), ...this.supers.keys()];
  }
  private get eligible(): boolean {
    return this.capacity >= this.config.superCapacityMin;
  }

  /** Searches the overlay for `item` through this peer's super-peer (or itself). */
  search(item: string): number {
    const reqId = this.nextReqId++;
    const qid = `${this.address}:${this.incarnation.toString(36)}:${reqId}`;
    if (this.searches.size >= this.config.searchesMax) {
      this.pushResult({ type: 'search', reqId, item, holders: [] });
      return reqId;
    }
    const s = { reqId, item, startTick: this.nowTicks, holders: new Set<NodeId>() };
    if (this.items.has(item)) s.holders.add(this.address);
    this.searches.set(qid, s);
    const msg: SuperPeerMsg = { type: 'search', qid, origin: this.address, item, ttl: this.config.searchTtl + 1 };
    if (this.roleValue === 'super') this.handleSearch(this.address, msg);
    else if (this.superAddr !== null) this.send(this.superAddr, msg);
    return reqId;
  }

  pollResults(): SuperPeerSearchResult[] {
    return this.results.splice(0);
  }
  drain(): Outgoing<SuperPeerMsg>[] {
    return this.outbox.splice(0);
  }

  tick(): void {
    this.nowTicks++;
    for (const [qid, s] of this.searches) {
      if (this.nowTicks - s.startTick < this.config.searchTimeoutTicks) continue;
      this.searches.delete(qid);
      this.pushResult({ type: 'search', reqId: s.reqId, item: s.item, holders: [...s.holders].sort() });
    }
    if (this.nowTicks % this.config.heartbeatEveryTicks !== 0) return;
    if (this.roleValue === 'super') this.superHeartbeat();
    else this.leafHeartbeat();
  }

  handleMessage(from: NodeId, msg: SuperPeerMsg): void {
    switch (msg.type) {
      case 'attach':
        this.handleAttach(from, msg);
        return;
      case 'attach-ok':
        if (this.roleValue !== 'leaf') return;
        this.superAddr = from;
        this.superHeardTick = this.nowTicks;
        this.attachPending = null;
        this.learn(msg.supers);
        this.heardFrom(from);
        return;
      case 'attach-redirect':
        if (this.attachPending?.to === from) this.attachPending = null;
        this.learn(msg.supers);
        if (this.roleValue === 'leaf' && this.superAddr === null && msg.to !== null && msg.to !== this.address) this.attachTo(msg.to);
        return;
      case 'promote':
        if (this.roleValue === 'leaf' && this.eligible) this.becomeSuper();
        return;
      case 'handover':
        // The super-peer hands its leaves to a stronger peer it just promoted.
        if (this.roleValue === 'leaf' && from === this.superAddr && msg.to !== this.address) {
          this.superAddr = null;
          this.attachTo(msg.to);
        }
        return;
      case 'leaf-ping':
        if (this.roleValue === 'super' && this.leafMap.has(from)) {
          (this.leafMap.get(from) as LeafEntry).heardTick = this.nowTicks;
          this.send(from, { type: 'leaf-pong', known: true, supers: this.superList() });
        } else {
          this.send(from, { type: 'leaf-pong', known: false, supers: this.roleValue === 'super' ? this.superList() : [] });
        }
        return;
      case 'leaf-pong':
        if (this.roleValue !== 'leaf' || from !== this.superAddr) return;
        this.learn(msg.supers);
        this.heardFrom(from);
        if (msg.known) this.superHeardTick = this.nowTicks;
        else {
          this.superAddr = null;
          this.attachTo(from);
        }
        return;
      case 'super-hello':
        if (this.roleValue === 'super') {
          this.learn([msg.self, ...msg.supers]);
          this.heardFrom(from);
        } else {
          // A super-peer looking for the others after a partition: tell it what this leaf knows.
          this.learn([msg.self]);
          this.send(from, { type: 'supers', supers: this.superList() });
        }
        return;
      case 'supers':
        this.learn(msg.supers);
        return;
      case 'search':
        this.handleSearch(from, msg);
        return;
      case 'hits': {
        const s = this.searches.get(msg.qid);
        if (s !== undefined) for (const h of msg.holders) s.holders.add(h);
        return;
      }
      default:
        unreachable(msg, 'super-peer message');
    }
  }

  private handleAttach(from: NodeId, msg: Extract<SuperPeerMsg, { type: 'attach' }>): void {
    if (this.roleValue === 'leaf') {
      if (this.superAddr !== null) {
        this.send(from, { type: 'attach-redirect', to: this.superAddr, supers: this.superList() });
        return;
      }
      // Two leaderless peers: the one with the higher capacity (then name) becomes super-peer.
      const mineWins = this.capacity > msg.capacity || (this.capacity === msg.capacity && this.address > from);
      if (this.eligible && (mineWins || msg.capacity < this.config.superCapacityMin)) {
        this.becomeSuper();
      } else {
        if (msg.capacity >= this.config.superCapacityMin && msg.orphan && this.supers.size === 0) this.send(from, { type: 'promote' });
        else this.send(from, { type: 'attach-redirect', to: null, supers: this.superList() });
        return;
      }
    }
    if (this.leafMap.has(from) || this.leafMap.size < this.config.leavesPerSuperMax) {
      this.addLeaf(from, msg.capacity, msg.items);
      this.send(from, { type: 'attach-ok', supers: this.superList() });
      return;
    }
    const roomy = [...this.supers].filter(([, k]) => k.leaves < this.config.leavesPerSuperMax).map(([a]) => a);
    if (roomy.length > 0) {
      this.send(from, { type: 'attach-redirect', to: this.rng.pick(roomy), supers: this.superList() });
      return;
    }
    // Every known super-peer is full: elect by capacity among this super-peer's leaves and the newcomer.
    const best = this.bestLeaf();
    if (msg.capacity >= this.config.superCapacityMin && (best === undefined || msg.capacity > best.capacity)) {
      this.lastPromotionTick = this.nowTicks;
      this.stats.promotions++;
      this.send(from, { type: 'promote' });
      return;
    }
    if (best !== undefined && this.nowTicks - this.lastPromotionTick >= this.config.promoteCooldownTicks) this.promote(best.addr);
    this.send(from, { type: 'attach-redirect', to: best?.addr ?? null, supers: this.superList() });
  }

  private handleSearch(from: NodeId, msg: Extract<SuperPeerMsg, { type: 'search' }>): void {
    this.stats.searchMessages++;
    if (this.roleValue !== 'super') return;
    if (this.seen.has(msg.qid)) return;
    this.seen.set(msg.qid, true);
    if (this.seen.size > this.config.seenMax) {
      const first = this.seen.keys().next();
      if (!first.done) this.seen.delete(first.value);
    }
    const holders = [...(this.index.get(msg.item) ?? [])];
    if (this.items.has(msg.item)) holders.push(this.address);
    if (holders.length > 0) {
      if (msg.origin === this.address) this.handleMessage(this.address, { type: 'hits', qid: msg.qid, holders });
      else this.send(msg.origin, { type: 'hits', qid: msg.qid, holders });
    }
    if (msg.ttl <= 1) return;
    for (const s of this.supers.keys()) if (s !== from) this.send(s, { ...msg, ttl: msg.ttl - 1 });
  }

  private leafHeartbeat(): void {
    // An attach nobody answered: forget that super-peer (it is dead or unreachable).
    if (this.attachPending !== null && this.superAddr === null) {
      this.supers.delete(this.attachPending.to);
      this.attachPending = null;
    }
    if (this.superAddr !== null) {
      if (this.nowTicks - this.superHeardTick > this.config.superTimeoutTicks) {
        // Failover: forget the silent super-peer and attach to another.
        this.supers.delete(this.superAddr);
        this.superAddr = null;
        this.stats.failovers++;
      } else {
        this.send(this.superAddr, { type: 'leaf-ping' });
        return;
      }
    }
    const known = [...this.supers.keys()];
    const target = known.length > 0 && this.rng.chance(0.75) ? this.rng.pick(known) : this.bootstrap.length > 0 ? this.rng.pick(this.bootstrap) : undefined;
    if (target !== undefined) this.attachTo(target);
    // A capable orphan that knows no super-peer at all and has no bootstrap peer leads itself.
    else if (this.eligible) this.becomeSuper();
  }

  private superHeartbeat(): void {
    const now = this.nowTicks;
    for (const [addr, l] of this.leafMap) if (now - l.heardTick > this.config.leafTimeoutTicks) this.removeLeaf(addr);
    for (const [addr, k] of this.supers) if (now - k.heardTick > this.config.superTimeoutTicks) this.supers.delete(addr);
    if (this.leafMap.size > 0) this.hadLeavesTick = now;
    else if (now - this.hadLeavesTick >= this.config.demoteAfterTicks && this.supers.size >= this.config.supersMin) {
      // Demotion: an idle super-peer steps down when enough others remain and one at least as
      // strong has room (so the weaker super-peers are the ones that step down).
      const roomy = [...this.supers]
        .filter(([, k]) => k.direct && k.leaves < this.config.leavesPerSuperMax && k.capacity >= this.capacity)
        .map(([a]) => a);
      if (roomy.length > 0) {
        this.roleValue = 'leaf';
        this.stats.demotions++;
        this.attachTo(this.rng.pick(roomy));
        return;
      }
    }
    const hello: SuperPeerMsg = { type: 'super-hello', self: this.selfInfo(), supers: this.superList().filter((s) => s.addr !== this.address) };
    const targets = new Set<NodeId>([...this.supers.keys(), ...this.bootstrap]);
    for (const t of targets) this.send(t, hello);
    if (this.config.handoverCapacityRatio > 0 && now - this.lastPromotionTick >= this.config.promoteCooldownTicks) {
      const best = this.bestLeaf();
      if (best !== undefined && best.capacity >= this.config.handoverCapacityRatio * Math.max(this.capacity, 1)) {
        this.handover(best.addr);
        return;
      }
    }
    const allFull = [...this.supers.values()].every((k) => k.leaves >= this.config.leavesPerSuperMax) && this.leafMap.size >= this.config.leavesPerSuperMax;
    const tooFew = this.supers.size + 1 < this.config.supersMin;
    if ((allFull || tooFew) && now - this.lastPromotionTick >= this.config.promoteCooldownTicks) {
      const best = this.bestLeaf();
      if (best !== undefined) this.promote(best.addr);
    }
  }

  /** Promotes `to`, sends every other leaf to it and becomes its leaf. */
  private handover(to: NodeId): void {
    this.promote(to);
    this.stats.handovers++;
    for (const l of [...this.leafMap.keys()]) this.send(l, { type: 'handover', to });
    for (const l of [...this.leafMap.keys()]) this.removeLeaf(l);
    this.roleValue = 'leaf';
    this.learn([{ addr: to, capacity: 0, leaves: 0 }]);
    this.attachTo(to);
  }

  private promote(leaf: NodeId): void {
    this.lastPromotionTick = this.nowTicks;
    this.stats.promotions++;
    this.removeLeaf(leaf);
    this.send(leaf, { type: 'promote' });
  }

  private bestLeaf(): { addr: NodeId; capacity: number } | undefined {
    let best: { addr: NodeId; capacity: number } | undefined;
    for (const [addr, l] of this.leafMap) {
      if (l.capacity < this.config.superCapacityMin) continue;
      if (best === undefined || l.capacity > best.capacity || (l.capacity === best.capacity && addr > best.addr)) best = { addr, capacity: l.capacity };
    }
    return best;
  }

  private becomeSuper(): void {
    this.roleValue = 'super';
    this.hadLeavesTick = this.nowTicks;
    if (this.superAddr !== null) this.learn([{ addr: this.superAddr, capacity: 0, leaves: 0 }]);
    this.superAddr = null;
    const hello: SuperPeerMsg = { type: 'super-hello', self: this.selfInfo(), supers: this.superList().filter((s) => s.addr !== this.address) };
    for (const t of new Set([...this.supers.keys(), ...this.bootstrap])) this.send(t, hello);
  }

  private attachTo(to: NodeId): void {
    this.attachPending = { to };
    this.send(to, { type: 'attach', capacity: this.capacity, items: [...this.items], orphan: this.superAddr === null });
  }

  private addLeaf(addr: NodeId, capacity: number, items: readonly string[]): void {
    this.removeLeaf(addr);
    const list = items.slice(0, this.config.itemsMax);
    this.leafMap.set(addr, { capacity, items: list, heardTick: this.nowTicks });
    for (const it of list) {
      const set = this.index.get(it) ?? new Set<NodeId>();
      set.add(addr);
      this.index.set(it, set);
    }
  }

  private removeLeaf(addr: NodeId): void {
    const l = this.leafMap.get(addr);
    if (l === undefined) return;
    this.leafMap.delete(addr);
    for (const it of l.items) {
      const set = this.index.get(it);
      set?.delete(addr);
      if (set?.size === 0) this.index.delete(it);
    }
  }

  private selfInfo(): SuperInfo {
    return { addr: this.address, capacity: this.capacity, leaves: this.leafMap.size };
  }

  private superList(): SuperInfo[] {
    const out: SuperInfo[] = [...this.supers].filter(([, k]) => k.direct).map(([addr, k]) => ({ addr, capacity: k.capacity, leaves: k.leaves }));
    if (this.roleValue === 'super') out.unshift(this.selfInfo());
    else if (this.superAddr !== null && !this.supers.has(this.superAddr)) out.unshift({ addr: this.superAddr, capacity: 0, leaves: 0 });
    return out.slice(0, this.config.knownSupersMax);
  }

  private learn(list: readonly SuperInfo[]): void {
    for (const s of list) {
      if (s.addr === this.address) continue;
      const k = this.supers.get(s.addr);
      if (k !== undefined) {
        k.leaves = s.leaves;
        if (s.capacity > 0) k.capacity = s.capacity;
      } else if (this.supers.size < this.config.knownSupersMax) {
        this.supers.set(s.addr, { capacity: s.capacity, leaves: s.leaves, heardTick: this.nowTicks, direct: false });
      }
    }
  }

  private heardFrom(addr: NodeId): void {
    const k = this.supers.get(addr);
    if (k === undefined) {
      if (this.supers.size < this.config.knownSupersMax) this.supers.set(addr, { capacity: 0, leaves: 0, heardTick: this.nowTicks, direct: true });
      return;
    }
    k.heardTick = this.nowTicks;
    k.direct = true;
  }

  private send(to: NodeId, msg: SuperPeerMsg): void {
    this.outbox.push({ to, msg });
  }

  private pushResult(r: SuperPeerSearchResult): void {
    if (this.results.length >= this.config.resultsMax) this.results.shift();
    this.results.push(r);
  }
}
