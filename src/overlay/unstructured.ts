/**
 * Pure (unstructured) P2P overlay (seed 04.4.1) as a sans-IO core: every peer keeps a bounded
 * partial view of random neighbours maintained by Cyclon's enhanced shuffle (Voulgaris, Gavidia
 * & van Steen, J. Network Syst. Manage. 2005): age every entry, shuffle with the oldest
 * neighbour (which is dropped, so dead neighbours leave the view), send it `shuffleLength − 1`
 * random entries plus a fresh entry for oneself, merge the reply into empty slots first and then
 * into the slots of the entries sent. Search is Gnutella-style flooding with a TTL and
 * duplicate suppression by query id (a bounded seen-cache), or k random walkers, each with a TTL.
 *
 * Simplifications: a newcomer joins by asking a bootstrap peer for its view (Cyclon joins by
 * random walks), and the bootstrap peer inserts the newcomer in place of a random entry when
 * full. Every `rejoinEveryTicks` a peer also shuffles with a bootstrap peer it does not list,
 * which re-links the two sides of a healed partition (Cyclon alone keeps them apart once their
 * views lost every cross link). Hits go straight back to the querying peer (Gnutella routes them back along the query
 * path). No query-result caching, no content replication.
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { Outgoing, OverlayCore } from './host.ts';

export interface UnstructuredConfig {
  /** c: view size, the bound on each peer's out-degree. */
  viewSize: number;
  /** l: entries exchanged per shuffle (≤ viewSize). */
  shuffleLength: number;
  /** Ticks between shuffles. */
  shuffleEveryTicks: number;
  /**
   * Ticks between re-joins through a random bootstrap peer: two halves of an overlay whose views
   * lost every cross link during a partition find each other again (Cyclon alone never does).
   */
  rejoinEveryTicks: number;
  /** Query ids remembered for duplicate suppression at most. */
  seenMax: number;
  /** Items (content names) a peer holds at most. */
  itemsMax: number;
  /** Ticks a search waits for hits before reporting. */
  searchTimeoutTicks: number;
  /** Searches a peer runs at once at most. */
  searchesMax: number;
  /** Largest TTL accepted (larger ones are clamped). */
  ttlMax: number;
  /** Walkers per random-walk search at most. */
  walkersMax: number;
  /** Results queued for the host at most. */
  resultsMax: number;
}

export function defaultUnstructuredConfig(): UnstructuredConfig {
  return { viewSize: 8, shuffleLength: 4, shuffleEveryTicks: 5, rejoinEveryTicks: 50, seenMax: 4096, itemsMax: 10_000, searchTimeoutTicks: 10, searchesMax: 64, ttlMax: 32, walkersMax: 32, resultsMax: 10_000 };
}

export function validateUnstructuredConfig(c: UnstructuredConfig): void {
  for (const key of Object.keys(c) as (keyof UnstructuredConfig)[]) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new ConfigError(`unstructured ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.shuffleLength > c.viewSize) throw new ConfigError(`shuffleLength (${c.shuffleLength}) must be ≤ viewSize (${c.viewSize})`);
}

export interface ViewEntry {
  readonly addr: NodeId;
  age: number;
}

export type UnstructuredMsg =
  | { readonly type: 'join' }
  | { readonly type: 'join-reply'; readonly entries: readonly { readonly addr: NodeId; readonly age: number }[] }
  | { readonly type: 'shuffle'; readonly entries: readonly { readonly addr: NodeId; readonly age: number }[] }
  | { readonly type: 'shuffle-reply'; readonly entries: readonly { readonly addr: NodeId; readonly age: number }[] }
  | { readonly type: 'query'; readonly qid: string; readonly origin: NodeId; readonly item: string; readonly ttl: number }
  | { readonly type: 'walk'; readonly qid: string; readonly origin: NodeId; readonly item: string; readonly ttl: number }
  | { readonly type: 'hit'; readonly qid: string; readonly holder: NodeId };

export type SearchMode = { readonly kind: 'flood'; readonly ttl: number } | { readonly kind: 'walk'; readonly walkers: number; readonly ttl: number };

export interface SearchResult {
  readonly type: 'search';
  readonly reqId: number;
  readonly item: string;
  readonly holders: readonly NodeId[];
  /** Ticks from the search to its first hit, or -1. */
  readonly firstHitTicks: number;
}

interface Search {
  readonly reqId: number;
  readonly qid: string;
  readonly item: string;
  readonly startTick: number;
  readonly holders: Set<NodeId>;
  firstHitTick: number;
}

export interface UnstructuredNodeOptions {
  address: NodeId;
  config: UnstructuredConfig;
  rng: Rng;
  bootstrap: readonly NodeId[];
  items?: readonly string[];
}

export class UnstructuredNode implements OverlayCore<UnstructuredMsg> {
  readonly address: NodeId;
  readonly config: UnstructuredConfig;
  private readonly rng: Rng;
  private readonly bootstrap: NodeId[];
  private view: ViewEntry[] = [];
  /** Entries sent in the shuffle still awaiting its reply (replaced first by the reply). */
  private sentInShuffle: NodeId[] = [];
  private readonly items = new Set<string>();
  private readonly seen = new Map<string, true>();
  private readonly searches = new Map<string, Search>();
  private readonly outbox: Outgoing<UnstructuredMsg>[] = [];
  private readonly results: SearchResult[] = [];
  private nowTicks = 0;
  private nextReqId = 1;
  /** Makes query ids unique across restarts (a restarted peer starts counting from 1 again). */
  private readonly incarnation: number;
  readonly stats = { queriesReceived: 0, duplicatesDropped: 0, walksReceived: 0, shuffles: 0 };

  constructor(opts: UnstructuredNodeOptions) {
    validateUnstructuredConfig(opts.config);
    this.address = opts.address;
    this.config = opts.config;
    this.rng = opts.rng;
    this.bootstrap = opts.bootstrap.filter((b) => b !== opts.address);
    this.incarnation = opts.rng.nextU32();
    for (const it of opts.items ?? []) this.addItem(it);
    this.join();
  }

  neighbours(): NodeId[] {
    return this.view.map((e) => e.addr);
  }
  viewEntries(): readonly Readonly<ViewEntry>[] {
    return this.view;
  }
  hasItem(item: string): boolean {
    return this.items.has(item);
  }
  addItem(item: string): boolean {
    if (this.items.size >= this.config.itemsMax) return false;
    this.items.add(item);
    return true;
  }
  /** Measurement shortcut: replaces the view (benchmarks on fixed graphs). */
  setView(addrs: readonly NodeId[]): void {
    this.view = addrs.filter((a) => a !== this.address).slice(0, this.config.viewSize).map((addr) => ({ addr, age: 0 }));
  }

  /** Starts a search; the result arrives after `searchTimeoutTicks`. */
  search(item: string, mode: SearchMode): number {
    const reqId = this.nextReqId++;
    const qid = `${this.address}:${this.incarnation.toString(36)}:${reqId}`;
    if (this.searches.size >= this.config.searchesMax) {
      this.pushResult({ type: 'search', reqId, item, holders: [], firstHitTicks: -1 });
      return reqId;
    }
    const s: Search = { reqId, qid, item, startTick: this.nowTicks, holders: new Set(), firstHitTick: -1 };
    this.searches.set(qid, s);
    if (this.items.has(item)) this.hit(s, this.address);
    const ttl = Math.min(mode.ttl, this.config.ttlMax);
    this.remember(qid);
    switch (mode.kind) {
      case 'flood':
        for (const e of this.view) this.send(e.addr, { type: 'query', qid, origin: this.address, item, ttl });
        break;
      case 'walk': {
        const walkers = Math.min(mode.walkers, this.config.walkersMax);
        for (let i = 0; i < walkers && this.view.length > 0; i++) this.send(this.rng.pick(this.view).addr, { type: 'walk', qid, origin: this.address, item, ttl });
        break;
      }
      default:
        unreachable(mode, 'search mode');
    }
    return reqId;
  }

  pollResults(): SearchResult[] {
    return this.results.splice(0);
  }
  drain(): Outgoing<UnstructuredMsg>[] {
    return this.outbox.splice(0);
  }

  tick(): void {
    this.nowTicks++;
    for (const [qid, s] of this.searches) {
      if (this.nowTicks - s.startTick < this.config.searchTimeoutTicks) continue;
      this.searches.delete(qid);
      this.pushResult({ type: 'search', reqId: s.reqId, item: s.item, holders: [...s.holders].sort(), firstHitTicks: s.firstHitTick < 0 ? -1 : s.firstHitTick - s.startTick });
    }
    if (this.nowTicks % this.config.shuffleEveryTicks === 0) {
      if (this.view.length === 0) this.join();
      else this.shuffle();
    }
    if (this.nowTicks % this.config.rejoinEveryTicks === 0 && this.view.length > 0) this.rejoin();
  }

  handleMessage(from: NodeId, msg: UnstructuredMsg): void {
    switch (msg.type) {
      case 'join': {
        const entries = [...this.view.map((e) => ({ addr: e.addr, age: e.age })), { addr: this.address, age: 0 }].filter((e) => e.addr !== from);
        this.send(from, { type: 'join-reply', entries });
        if (from === this.address || this.view.some((e) => e.addr === from)) return;
        if (this.view.length >= this.config.viewSize) this.view.splice(this.rng.int(this.view.length), 1);
        this.view.push({ addr: from, age: 0 });
        return;
      }
      case 'join-reply':
        this.merge(msg.entries, []);
        return;
      case 'shuffle': {
        const reply = this.rng
          .shuffle(this.view.filter((e) => e.addr !== from))
          .slice(0, this.config.shuffleLength)
          .map((e) => ({ addr: e.addr, age: e.age }));
        this.send(from, { type: 'shuffle-reply', entries: reply });
        this.merge(
          msg.entries,
          reply.map((e) => e.addr),
        );
        return;
      }
      case 'shuffle-reply':
        this.merge(msg.entries, this.sentInShuffle);
        this.sentInShuffle = [];
        return;
      case 'query': {
        this.stats.queriesReceived++;
        if (this.seen.has(msg.qid)) {
          this.stats.duplicatesDropped++;
          return;
        }
        this.remember(msg.qid);
        if (this.items.has(msg.item)) this.send(msg.origin, { type: 'hit', qid: msg.qid, holder: this.address });
        if (msg.ttl <= 1) return;
        for (const e of this.view) if (e.addr !== from && e.addr !== msg.origin) this.send(e.addr, { ...msg, ttl: msg.ttl - 1 });
        return;
      }
      case 'walk': {
        this.stats.walksReceived++;
        if (this.items.has(msg.item)) {
          this.send(msg.origin, { type: 'hit', qid: msg.qid, holder: this.address });
          return;
        }
        if (msg.ttl <= 1 || this.view.length === 0) return;
        const others = this.view.filter((e) => e.addr !== from);
        const next = others.length > 0 ? this.rng.pick(others) : this.rng.pick(this.view);
        this.send(next.addr, { ...msg, ttl: msg.ttl - 1 });
        return;
      }
      case 'hit': {
        const s = this.searches.get(msg.qid);
        if (s !== undefined) this.hit(s, msg.holder);
        return;
      }
      default:
        unreachable(msg, 'unstructured message');
    }
  }

  private hit(s: Search, holder: NodeId): void {
    if (s.firstHitTick < 0) s.firstHitTick = this.nowTicks;
    s.holders.add(holder);
  }

  private join(): void {
    if (this.bootstrap.length === 0) return;
    this.send(this.rng.pick(this.bootstrap), { type: 'join' });
  }

  /**
   * Re-join: one Cyclon exchange with a random bootstrap peer not in the view (instead of the
   * oldest neighbour, which stays). Like every shuffle it moves links rather than deleting them,
   * so in-degrees are preserved, and it creates links both ways between the two sides of a
   * healed partition.
   */
  private rejoin(): void {
    const candidates = this.bootstrap.filter((b) => !this.view.some((e) => e.addr === b));
    if (candidates.length === 0) return;
    const to = this.rng.pick(candidates);
    const others = this.rng.shuffle(this.view).slice(0, this.config.shuffleLength - 1);
    this.sentInShuffle = others.map((e) => e.addr);
    this.send(to, { type: 'shuffle', entries: [{ addr: this.address, age: 0 }, ...others.map((e) => ({ addr: e.addr, age: e.age }))] });
  }

  /** Cyclon's active step. */
  private shuffle(): void {
    this.stats.shuffles++;
    for (const e of this.view) e.age++;
    let oldest = 0;
    for (let i = 1; i < this.view.length; i++) if ((this.view[i] as ViewEntry).age > (this.view[oldest] as ViewEntry).age) oldest = i;
    const q = this.view.splice(oldest, 1)[0] as ViewEntry;
    const others = this.rng.shuffle(this.view).slice(0, this.config.shuffleLength - 1);
    this.sentInShuffle = others.map((e) => e.addr);
    this.send(q.addr, { type: 'shuffle', entries: [{ addr: this.address, age: 0 }, ...others.map((e) => ({ addr: e.addr, age: e.age }))] });
  }

  /** Merges received entries: skip self and known ones, fill empty slots, then replace `replaceable`. */
  private merge(entries: readonly { readonly addr: NodeId; readonly age: number }[], replaceable: readonly NodeId[]): void {
    const pool = [...replaceable];
    for (const e of entries) {
      if (e.addr === this.address) continue;
      const known = this.view.find((v) => v.addr === e.addr);
      if (known !== undefined) {
        known.age = Math.min(known.age, e.age);
        continue;
      }
      if (this.view.length < this.config.viewSize) {
        this.view.push({ addr: e.addr, age: e.age });
        continue;
      }
      while (pool.length > 0) {
        const victim = pool.shift() as NodeId;
        const at = this.view.findIndex((v) => v.addr === victim);
        if (at >= 0) {
          this.view[at] = { addr: e.addr, age: e.age };
          break;
        }
      }
    }
  }

  private remember(qid: string): void {
    this.seen.set(qid, true);
    if (this.seen.size > this.config.seenMax) {
      const first = this.seen.keys().next();
      if (!first.done) this.seen.delete(first.value);
    }
  }

  private send(to: NodeId, msg: UnstructuredMsg): void {
    this.outbox.push({ to, msg });
  }

  private pushResult(r: SearchResult): void {
    if (this.results.length >= this.config.resultsMax) this.results.shift();
    this.results.push(r);
  }
}
