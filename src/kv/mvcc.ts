/**
 * Multi-version store with a cluster-wide revision, after etcd's mvcc package: every write
 * transaction that changes something gets the next main revision, each change inside it a sub
 * revision; a key keeps create_revision, mod_revision and version (reset by a delete, which
 * leaves a tombstone). Old versions stay readable (historical range at a revision) until a
 * compaction at revision C drops every version superseded at or before C (a key's latest version
 * at C stays unless it is a tombstone).
 *
 * Keys are held as binary strings (see bytes.ts) in a sorted array (range scans) and a map to
 * their version list; a revision-ordered change log (versions at or after the compact revision)
 * serves watchers.
 *
 * Leaves out: a B-tree (new keys wait in an unsorted list merged into the sorted array at the
 * next ordered read, so a scan after each new key costs O(keys); fine up to ~10^6 keys), disk storage (the whole state is snapshotted to bytes instead), quotas on history size
 * (compaction bounds it; an operator or the host schedules it).
 */
import { assert } from '../core/assert.ts';
import { type Bytes, emptyBytes, fromBin } from './bytes.ts';
import { KvError } from './errors.ts';
import type { KeyValue } from './types.ts';

/** One version of a key. Immutable once written. */
export interface KeyVersion {
  readonly key: string;
  readonly main: number;
  readonly sub: number;
  readonly value: Bytes;
  readonly create: number;
  readonly version: number;
  readonly lease: number;
  readonly tombstone: boolean;
}

export function toKeyValue(v: KeyVersion, keysOnly = false): KeyValue {
  return {
    key: fromBin(v.key),
    createRevision: v.create,
    modRevision: v.main,
    version: v.version,
    // A copy: callers may not change stored versions through a response.
    value: keysOnly ? emptyBytes() : v.value.slice(),
    lease: v.lease,
  };
}

/** Index of the last element with main <= rev in a main-ordered list, or -1. */
function lastAtOrBefore(list: readonly KeyVersion[], rev: number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as KeyVersion).main <= rev) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Half-open key range in binary-string form; `end` '' = single key, '\0' = to the end. */
export interface KeyRange {
  start: string;
  end: string;
}

export function inRange(key: string, r: KeyRange): boolean {
  if (r.end === '') return key === r.start;
  if (key < r.start) return false;
  return r.end === '\u0000' || key < r.end;
}

export class MvccStore {
  /** Revision of the last write transaction (etcd starts at 1). */
  revision = 1;
  /** Revisions below this one have been compacted (0: never). */
  compactRevision = 0;
  private sortedKeys: string[] = [];
  private versions = new Map<string, KeyVersion[]>();
  /** Versions held (every key's list together). */
  private heldCount = 0;
  /** Open views (see `openView`): writes and compactions keep their state intact. */
  private readonly views = new Set<MvccView>();
  /**
   * Keys added since `sortedKeys` was last merged, unsorted. A new key costs O(1); the next
   * ordered use (a range scan, a compaction, a view) sorts these and merges them in one
   * O(keys) pass into a new array (so an open view's array is never changed). Inserting each
   * new key into the sorted array instead cost O(keys) per write.
   */
  private pendingKeys: string[] = [];
  /** Every version with main >= compactRevision, in (main, sub) order. */
  private log: KeyVersion[] = [];
  /** Main revision of the open write transaction, 0 when none. */
  private txnMain = 0;
  private txnSub = 0;

  /** Opens a write transaction: its changes get revision + 1 if it makes any. */
  beginWrite(): void {
    assert(this.txnMain === 0, 'mvcc: write transaction already open');
    this.txnMain = this.revision + 1;
    this.txnSub = 0;
  }

  /** Closes the write transaction; returns true if it changed something (the revision moved). */
  endWrite(): boolean {
    assert(this.txnMain !== 0, 'mvcc: no write transaction open');
    const changed = this.txnSub > 0;
    if (changed) this.revision = this.txnMain;
    this.txnMain = 0;
    return changed;
  }

  /** The revision the open write transaction writes at (or would). */
  get pendingRevision(): number {
    return this.txnMain !== 0 ? this.txnMain : this.revision + 1;
  }

  /** The live version of `key` at `rev` (Infinity: current, including the open transaction). */
  get(key: string, rev = Number.POSITIVE_INFINITY): KeyVersion | undefined {
    const list = this.versions.get(key);
    if (list === undefined) return undefined;
    const i = rev === Number.POSITIVE_INFINITY ? list.length - 1 : lastAtOrBefore(list, rev);
    const v = list[i];
    return v === undefined || v.tombstone ? undefined : v;
  }

  /** The version that `v` replaced, when still held and live. */
  previous(v: KeyVersion): KeyVersion | undefined {
    const list = this.versions.get(v.key);
    if (list === undefined) return undefined;
    const i = lastAtOrBefore(list, v.main - 1);
    const p = list[i];
    return p === undefined || p.tombstone ? undefined : p;
  }

  /** Checks that `rev` (> 0) can be read: not compacted, not in the future. */
  checkReadable(rev: number): void {
    if (rev < this.compactRevision) throw new KvError('compacted', `revision ${rev} has been compacted (compact revision ${this.compactRevision})`);
    if (rev > this.revision) throw new KvError('future-revision', `revision ${rev} is newer than the store's revision ${this.revision}`);
  }

  /** Keys held (live or tombstoned) within `r`, ascending. */
  *keysIn(r: KeyRange): Generator<string> {
    if (r.end === '') {
      if (this.versions.has(r.start)) yield r.start;
      return;
    }
    const keys = this.orderedKeys();
    let i = this.lowerBound(r.start);
    for (; i < keys.length; i++) {
      const k = keys[i] as string;
      if (r.end !== '\u0000' && k >= r.end) return;
      yield k;
    }
  }

  /** Live versions within `r` at `rev`, ascending by key. */
  liveIn(r: KeyRange, rev = Number.POSITIVE_INFINITY): KeyVersion[] {
    const out: KeyVersion[] = [];
    for (const k of this.keysIn(r)) {
      const v = this.get(k, rev);
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  /** Writes a new version of `key` in the open transaction; returns the replaced live version. */
  put(key: string, value: Bytes, lease: number): KeyVersion | undefined {
    assert(this.txnMain !== 0, 'mvcc: put outside a write transaction');
    const prev = this.get(key);
    this.append({
      key,
      main: this.txnMain,
      sub: this.txnSub++,
      value,
      create: prev ? prev.create : this.txnMain,
      version: prev ? prev.version + 1 : 1,
      lease,
      tombstone: false,
    });
    return prev;
  }

  /** Deletes `key` in the open transaction (a tombstone); returns the deleted version. */
  delete(key: string): KeyVersion | undefined {
    assert(this.txnMain !== 0, 'mvcc: delete outside a write transaction');
    const prev = this.get(key);
    if (prev === undefined) return undefined;
    this.append({ key, main: this.txnMain, sub: this.txnSub++, value: emptyBytes(), create: 0, version: 0, lease: 0, tombstone: true });
    return prev;
  }

  private append(v: KeyVersion): void {
    let list = this.versions.get(v.key);
    if (list === undefined) {
      list = [];
      this.versions.set(v.key, list);
      this.pendingKeys.push(v.key);
    }
    // Lists only grow at the end with newer revisions, which open views skip.
    list.push(v);
    this.heldCount++;
    this.log.push(v);
  }

  /** `sortedKeys` with the pending keys merged in. */
  private orderedKeys(): string[] {
    const pending = this.pendingKeys;
    if (pending.length === 0) return this.sortedKeys;
    pending.sort();
    const old = this.sortedKeys;
    const out: string[] = new Array(old.length + pending.length);
    let i = 0;
    let j = 0;
    let o = 0;
    while (i < old.length && j < pending.length) {
      const a = old[i] as string;
      const b = pending[j] as string;
      if (a < b) {
        out[o++] = a;
        i++;
      } else {
        out[o++] = b;
        j++;
      }
    }
    while (i < old.length) out[o++] = old[i++] as string;
    while (j < pending.length) out[o++] = pending[j++] as string;
    this.sortedKeys = out;
    this.pendingKeys = [];
    return out;
  }

  private lowerBound(key: string): number {
    const keys = this.sortedKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Compacts at `rev`: versions superseded at or before `rev` go; a key's latest version at
   * `rev` stays unless it is a tombstone. Reads and watches below `rev` then fail as compacted.
   */
  compact(rev: number): void {
    assert(this.txnMain === 0, 'mvcc: compact inside a write transaction');
    if (rev <= this.compactRevision) throw new KvError('compacted', `revision ${rev} has already been compacted (compact revision ${this.compactRevision})`);
    if (rev > this.revision) throw new KvError('future-revision', `cannot compact at revision ${rev}: the store's revision is ${this.revision}`);
    let emptied = false;
    // Only keys changed since the last compaction can have versions to drop (every other key
    // holds just its live version): they are the keys of the change log up to `rev`, so a
    // compaction costs O(changes since the last one), not O(keys).
    const touched = new Set<string>();
    for (let j = 0; j < this.log.length; j++) {
      const v = this.log[j] as KeyVersion;
      if (v.main > rev) break;
      touched.add(v.key);
    }
    for (const key of touched) {
      const list = this.versions.get(key);
      if (list === undefined) continue;
      const i = lastAtOrBefore(list, rev);
      if (i < 0) continue;
      const keepFrom = (list[i] as KeyVersion).tombstone ? i + 1 : i;
      if (keepFrom === 0) continue;
      this.heldCount -= keepFrom;
      if (this.views.size > 0) {
        // Copy on write: open views keep reading the list as it was.
        for (const view of this.views) if (!view.preimages.has(key)) view.preimages.set(key, list);
        if (keepFrom === list.length) this.versions.delete(key);
        else this.versions.set(key, list.slice(keepFrom));
        if (keepFrom === list.length) emptied = true;
        continue;
      }
      list.splice(0, keepFrom);
      if (list.length === 0) {
        this.versions.delete(key);
        emptied = true;
      }
    }
    if (emptied) {
      this.sortedKeys = this.orderedKeys().filter((k) => this.versions.has(k));
    }
    let cut = 0;
    while (cut < this.log.length && (this.log[cut] as KeyVersion).main < rev) cut++;
    this.log = this.log.slice(cut);
    this.compactRevision = rev;
  }

  /** Index in the change log of the first version with main >= rev. */
  logIndexFrom(rev: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as KeyVersion).main < rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  logAt(i: number): KeyVersion | undefined {
    return this.log[i];
  }

  get logLength(): number {
    return this.log.length;
  }

  /** Keys held (including tombstoned, not yet compacted). */
  get keysHeld(): number {
    return this.sortedKeys.length + this.pendingKeys.length;
  }

  /** Every held version, key by key in key order (for snapshots). */
  *allVersions(): Generator<KeyVersion> {
    for (const k of this.orderedKeys()) yield* this.versions.get(k) as KeyVersion[];
  }

  /**
   * An immutable view of every held version as of now, in O(1): later writes append newer
   * versions (which the view skips), new keys wait outside the key array, and a compaction
   * replaces the lists it shortens instead of changing them, leaving the old list to the view.
   * `release()` the view when done (an open view makes compactions copy).
   */
  openView(): MvccView {
    const view = new MvccView(this.revision, this.heldCount, this.orderedKeys(), this.versions, () => this.views.delete(view));
    this.views.add(view);
    return view;
  }

  /** Replaces the whole state (snapshot restore). Versions must be grouped by key, main-ordered. */
  load(revision: number, compactRevision: number, versions: readonly KeyVersion[]): void {
    assert(this.txnMain === 0, 'mvcc: load inside a write transaction');
    this.revision = revision;
    this.compactRevision = compactRevision;
    // New structures: open views keep the old ones, which nothing changes any more.
    this.views.clear();
    this.versions = new Map();
    this.heldCount = versions.length;
    for (const v of versions) {
      let list = this.versions.get(v.key);
      if (list === undefined) {
        list = [];
        this.versions.set(v.key, list);
      }
      list.push(v);
    }
    this.sortedKeys = [...this.versions.keys()].sort();
    this.pendingKeys = [];
    this.log = versions.filter((v) => v.main >= compactRevision).sort((a, b) => a.main - b.main || a.sub - b.sub);
  }
}

/** A point-in-time view of an MvccStore's versions (see `MvccStore.openView`). */
export class MvccView {
  /** Lists a compaction replaced after the view opened, as they were. */
  readonly preimages = new Map<string, KeyVersion[]>();

  constructor(
    /** Versions with a main revision above this one were written after the view opened. */
    readonly revision: number,
    /** Versions in the view. */
    readonly count: number,
    /** Keys in the view, ascending. */
    readonly keys: readonly string[],
    private readonly versions: ReadonlyMap<string, KeyVersion[]>,
    readonly release: () => void,
  ) {}

  /** The versions of `key` (a key of the view), main-ordered; may end with newer ones to skip. */
  list(key: string): readonly KeyVersion[] {
    return this.preimages.get(key) ?? this.versions.get(key) ?? [];
  }
}
