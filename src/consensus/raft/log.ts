/**
 * The Raft log as the core sees it: entries already on stable storage (read through
 * `RaftStorage`) followed by `unstable` entries (and possibly an incoming snapshot) that the
 * host has not yet persisted. Implements the log-matching checks of AppendEntries (§5.3), the
 * "at least as up-to-date" comparison of §5.4.1, and the conflict search behind fast backtracking.
 *
 * Leaves out: writing to storage (the host does it from `Ready`).
 */
import { assert } from '../../core/assert.ts';
import type { RaftStorage } from './storage.ts';
import { type Entry, entrySizeBytes, type Snapshot } from './types.ts';

export class RaftLog {
  readonly storage: RaftStorage;
  /** Entries not yet persisted; unstable[i] has index unstableOffset + i. */
  unstable: Entry[] = [];
  unstableOffset: number;
  /** A snapshot received from a leader and not yet persisted by the host. */
  unstableSnapshot: Snapshot | undefined;
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index handed to the host for applying. */
  applied: number;

  constructor(storage: RaftStorage) {
    this.storage = storage;
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  firstIndex(): number {
    if (this.unstableSnapshot) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.unstableOffset + this.unstable.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  /** Term of entry i, or undefined when i is compacted or beyond the last index. */
  term(i: number): number | undefined {
    if (i >= this.unstableOffset && i < this.unstableOffset + this.unstable.length) {
      return (this.unstable[i - this.unstableOffset] as Entry).term;
    }
    if (this.unstableSnapshot) {
      return i === this.unstableSnapshot.metadata.index ? this.unstableSnapshot.metadata.term : undefined;
    }
    if (i >= this.unstableOffset) return undefined;
    return this.storage.term(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** §5.4.1: a log is more up-to-date if its last term is higher, or equal with a longer log. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const t = this.lastTerm();
    return lastTerm > t || (lastTerm === t && lastIndex >= this.lastIndex());
  }

  /**
   * AppendEntries receiver rules 2-4 (Figure 2): when the entry at `index` has `logTerm`, drops
   * conflicting entries, appends the new ones and returns the index of the last new entry;
   * otherwise undefined.
   */
  maybeAppend(index: number, logTerm: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const ci = this.findConflict(entries);
    if (ci !== 0) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      this.append(entries.slice(ci - index - 1));
    }
    return lastNew;
  }

  /** Index of the first entry that is new or conflicts in term; 0 if all are already present. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term (fast backtracking).
   * Stops at the first compacted index, returning term 0 there.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = (entries[0] as Entry).index;
    assert(after > this.committed, `append at ${after} would overwrite committed ${this.committed}`);
    const end = this.unstableOffset + this.unstable.length;
    if (after === end) {
      for (const e of entries) this.unstable.push(e);
    } else if (after <= this.unstableOffset) {
      // Replaces stable entries too: the host's append truncates storage from `after`.
      this.unstableOffset = after;
      this.unstable = entries.slice();
    } else {
      this.unstable = this.unstable.slice(0, after - this.unstableOffset).concat(entries);
    }
    return this.lastIndex();
  }

  /** Entries [lo, hi) limited to `maxBytes` (at least one); undefined if lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return undefined;
    assert(hi <= this.lastIndex() + 1, `log slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    let out: Entry[] = [];
    let bytes = 0;
    if (lo < this.unstableOffset) {
      const stableHi = Math.min(hi, this.unstableOffset);
      out = this.storage.entries(lo, stableHi, maxBytes);
      for (const e of out) bytes += entrySizeBytes(e);
      if (out.length < stableHi - lo) return out;
    }
    if (hi > this.unstableOffset) {
      const from = Math.max(lo, this.unstableOffset);
      for (let i = from; i < hi; i++) {
        const e = this.unstable[i - this.unstableOffset] as Entry;
        bytes += entrySizeBytes(e);
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(e);
      }
    }
    return out;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applied && this.applied + 1 >= this.firstIndex() && !this.unstableSnapshot;
  }

  nextCommittedEntries(maxBytes: number): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(this.applied + 1, this.committed + 1, maxBytes) ?? [];
  }

  /** The host has persisted entries up to (index, term). */
  stableTo(index: number, term: number): void {
    if (this.term(index) !== term || index < this.unstableOffset) return;
    const n = index + 1 - this.unstableOffset;
    this.unstable = this.unstable.slice(n);
    this.unstableOffset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.unstableSnapshot && this.unstableSnapshot.metadata.index === index) this.unstableSnapshot = undefined;
  }

  /** Installs a snapshot received from the leader (§7): the whole log is replaced. */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable = [];
    this.unstableOffset = snap.metadata.index + 1;
    this.unstableSnapshot = snap;
  }
}
