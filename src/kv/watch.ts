/**
 * Watch hub, after etcd's watchable store: a watcher selects a key or range and a start
 * revision and receives every change (PUT / DELETE events, optionally with the previous kv) at
 * or after it, in revision order, never splitting one revision across responses. Watches are
 * local to a replica (a client subscribes on the node it talks to) and are not part of the
 * replicated state or the snapshot.
 *
 * Sans-IO: nothing is pushed. Each watcher keeps a cursor (the next revision it needs); `poll`
 * reads the store's change log from the cursor, so a watcher that starts in the past and one
 * that is current work the same way, and no per-watcher buffer can grow without bound. A watcher
 * whose cursor falls below the compact revision (it started there, or it polled too slowly) is
 * canceled with `compactRevision` set, as etcd does; the client re-watches from there.
 *
 * Leaves out: progress notifications, fragmenting one huge revision, watch ids chosen by clients.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import type { Bytes } from './bytes.ts';
import { toBin } from './bytes.ts';
import { type KeyRange, type KeyVersion, type MvccStore, inRange, toKeyValue } from './mvcc.ts';
import type { WatchCreateRequest, WatchEvent, WatchResponse } from './types.ts';

export interface WatchLimits {
  /** Most watchers at once. */
  watchersMax: number;
  /** Events per response (soft: a revision is never split, so one response may exceed it). */
  watchEventsMax: number;
}

export const WATCH_LIMIT_DEFAULTS: WatchLimits = { watchersMax: 10_000, watchEventsMax: 1000 };

interface Watcher {
  id: number;
  range: KeyRange;
  nextRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
}

export class WatchHub {
  private readonly watchers = new Map<number, Watcher>();
  private nextWatchId = 1;

  constructor(
    private readonly store: MvccStore,
    private readonly limits: WatchLimits = WATCH_LIMIT_DEFAULTS,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Creates a watcher; the response says created, or canceled when the start was compacted. */
  watch(req: WatchCreateRequest): WatchResponse {
    const header = { revision: this.store.revision };
    if (!(req.key instanceof Uint8Array) || req.key.length === 0) throw new InvalidArgumentError('watch key must be non-empty bytes');
    const start = req.startRevision ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new InvalidArgumentError(`watch startRevision must be a non-negative integer, got ${start}`);
    if (this.watchers.size >= this.limits.watchersMax) throw new InvalidArgumentError(`too many watchers: the limit is ${this.limits.watchersMax} (watchersMax)`);
    const id = this.nextWatchId++;
    if (start > 0 && start < this.store.compactRevision) {
      return {
        header,
        watchId: id,
        created: true,
        canceled: true,
        compactRevision: this.store.compactRevision,
        cancelReason: `start revision ${start} has been compacted (compact revision ${this.store.compactRevision})`,
        events: [],
      };
    }
    const filters = req.filters ?? [];
    this.watchers.set(id, {
      id,
      range: rangeOf(req.key, req.rangeEnd),
      nextRevision: start > 0 ? start : this.store.revision + 1,
      prevKv: req.prevKv ?? false,
      noPut: filters.includes('noput'),
      noDelete: filters.includes('nodelete'),
    });
    return { header, watchId: id, created: true, events: [] };
  }

  cancel(watchId: number): boolean {
    return this.watchers.delete(watchId);
  }

  /**
   * The next events for one watcher (null when it has none and is not canceled). A canceled
   * response (compacted) removes the watcher.
   */
  poll(watchId: number, eventsMax = this.limits.watchEventsMax): WatchResponse | null {
    const w = this.watchers.get(watchId);
    if (w === undefined) return null;
    const header = { revision: this.store.revision };
    if (w.nextRevision < this.store.compactRevision) {
      this.watchers.delete(watchId);
      return {
        header,
        watchId,
        canceled: true,
        compactRevision: this.store.compactRevision,
        cancelReason: `revision ${w.nextRevision} has been compacted (compact revision ${this.store.compactRevision})`,
        events: [],
      };
    }
    if (w.nextRevision > this.store.revision) return null;
    const events: WatchEvent[] = [];
    let i = this.store.logIndexFrom(w.nextRevision);
    let lastMain = 0;
    let nextRevision = this.store.revision + 1;
    for (;;) {
      const v = this.store.logAt(i);
      if (v === undefined || v.main > this.store.revision) break;
      if (events.length >= eventsMax && v.main !== lastMain) {
        nextRevision = v.main;
        break;
      }
      lastMain = v.main;
      i++;
      if (!inRange(v.key, w.range)) continue;
      if (v.tombstone ? w.noDelete : w.noPut) continue;
      events.push(this.event(v, w.prevKv));
    }
    w.nextRevision = nextRevision;
    if (events.length === 0) return null;
    return { header, watchId, events };
  }

  /** Polls every watcher once; responses in watch id order. */
  pollAll(eventsMax = this.limits.watchEventsMax): WatchResponse[] {
    const out: WatchResponse[] = [];
    for (const id of [...this.watchers.keys()]) {
      const r = this.poll(id, eventsMax);
      if (r !== null) out.push(r);
    }
    return out;
  }

  private event(v: KeyVersion, withPrev: boolean): WatchEvent {
    const ev: WatchEvent = v.tombstone
      ? { type: 'DELETE', kv: { ...toKeyValue(v), createRevision: 0, version: 0, lease: 0 } }
      : { type: 'PUT', kv: toKeyValue(v) };
    if (withPrev) {
      const p = this.store.previous(v);
      if (p !== undefined) ev.prevKv = toKeyValue(p);
    }
    return ev;
  }
}

/** etcd's range convention: no/empty end = one key, [0] = every key from `key` on. */
export function rangeOf(key: Bytes, rangeEnd: Bytes | undefined): KeyRange {
  const start = toBin(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: '' };
  return { start, end: toBin(rangeEnd) };
}
