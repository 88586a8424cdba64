/**
 * The storage interface the Raft core reads stable state through, and `MemoryStorage`, an
 * in-memory implementation shipped in the library (used by tests, the simulator adapter as its
 * in-memory mirror of the disk, and hosts that keep their own WAL). The core never writes to
 * storage: the host writes what `Ready` hands out and then calls `advance()`.
 *
 * Log layout: entries after the last snapshot, indexes `firstIndex()..lastIndex()`; the snapshot
 * covers everything up to `firstIndex() - 1`, whose term stays known (§7 "last included").
 *
 * Leaves out: durability (the simulator and runtime adapters persist to disk).
 */
import { assert } from '../../core/assert.ts';
import { DefiniteError } from '../../core/errors.ts';
import {
  type ConfState,
  cloneConfState,
  type Entry,
  emptyConfState,
  entrySizeBytes,
  type HardState,
  NONE,
  type Snapshot,
} from './types.ts';

export interface RaftStorage {
  /** Durable state at boot. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at most `maxBytes` (at least one entry). Caller guarantees firstIndex <= lo < hi <= lastIndex+1. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i for firstIndex-1 <= i <= lastIndex; undefined outside. */
  term(i: number): number | undefined;
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (metadata index 0 when none exists). */
  snapshot(): Snapshot;
}

export class MemoryStorage implements RaftStorage {
  private hard: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array(0) };
  /** Index and term of the entry just before ents[0] (the compaction point). */
  private offset = 0;
  private offsetTerm = 0;
  /** ents[i] has index offset + 1 + i. */
  private ents: Entry[] = [];

  /** A storage for a brand-new cluster member: the initial configuration is in a snapshot at index 0. */
  static bootstrap(confState: ConfState): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = { metadata: { index: 0, term: 0, confState: cloneConfState(confState) }, data: new Uint8Array(0) };
    return s;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hard }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  setHardState(hs: HardState): void {
    this.hard = { ...hs };
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length;
  }

  term(i: number): number | undefined {
    if (i === this.offset) return this.offsetTerm;
    if (i < this.offset || i > this.lastIndex()) return undefined;
    return this.ents[i - this.offset - 1]?.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo >= this.firstIndex() && hi <= this.lastIndex() + 1 && lo <= hi, `storage.entries(${lo}, ${hi}) out of range`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - this.offset - 1] as Entry;
      bytes += entrySizeBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** All entries currently held (for inspection and tests). */
  allEntries(): readonly Entry[] {
    return this.ents;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Appends entries, truncating any existing suffix from the first new index (§5.3). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = (entries[0] as Entry).index;
    if (first <= this.offset) {
      // Entries at or before the compaction point are already covered by the snapshot.
      entries = entries.slice(this.offset + 1 - first);
      if (entries.length === 0) return;
    }
    const start = (entries[0] as Entry).index;
    assert(start <= this.lastIndex() + 1, `storage append leaves a gap: last ${this.lastIndex()}, appending from ${start}`);
    this.ents.length = start - this.offset - 1;
    for (const e of entries) this.ents.push(e);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) return;
    this.snap = snap;
    this.offset = snap.metadata.index;
    this.offsetTerm = snap.metadata.term;
    this.ents = [];
  }

  /**
   * Records a snapshot of the state machine at `index` (already applied by the host) and
   * returns it. Log entries stay until `compact`.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new DefiniteError('conflict', `snapshot at ${index} is not newer than the current one at ${this.snap.metadata.index}`);
    }
    const term = this.term(index);
    if (term === undefined) {
      throw new DefiniteError('invalid-argument', `cannot snapshot at ${index}: outside the log ${this.offset}..${this.lastIndex()}`);
    }
    this.snap = { metadata: { index, term, confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Discards entries up to and including `index`, which must be covered by the snapshot (§7). */
  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.snap.metadata.index) {
      throw new DefiniteError('invalid-argument', `cannot compact to ${index}: the latest snapshot is at ${this.snap.metadata.index}`);
    }
    const term = this.term(index) as number;
    this.ents = this.ents.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
  }
}
