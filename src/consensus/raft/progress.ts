/**
 * The leader's view of each follower (Figure 2's nextIndex/matchIndex, grown into a small state
 * machine as in etcd's tracker): `probe` (one append per heartbeat until the follower's log
 * position is found), `replicate` (optimistic pipelining, bounded by an inflight window of
 * `maxInflightMsgs` messages) and `snapshot` (sending InstallSnapshot chunks, bounded by the
 * same window).
 *
 * Leaves out: quorum arithmetic (quorum.ts).
 */
import { assert } from '../../core/assert.ts';
import type { Snapshot } from './types.ts';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded FIFO of the last entry index of each append in flight. */
export class Inflights {
  private readonly buf: number[] = [];
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get count(): number {
    return this.buf.length;
  }
  full(): boolean {
    return this.buf.length >= this.limit;
  }
  add(lastIndex: number): void {
    assert(!this.full(), 'inflight window overflow');
    this.buf.push(lastIndex);
  }
  /** Frees every message whose last index is <= `index`. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.buf.length && (this.buf[n] as number) <= index) n++;
    if (n > 0) this.buf.splice(0, n);
  }
  /** Frees the oldest message: lets one probe through a full window whose appends were lost. */
  freeFirst(): void {
    this.buf.shift();
  }
  reset(): void {
    this.buf.length = 0;
  }
}

/** An InstallSnapshot transfer in progress to one follower. */
export interface SnapshotTransfer {
  snapshot: Snapshot;
  /** Chunks the follower has acknowledged, in order. */
  ackedChunks: number;
  /** Chunks sent so far. */
  sentChunks: number;
  /** Leader tick of the last acknowledgement that made progress (for retransmission). */
  lastProgressTick: number;
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and we wait for its answer or the next heartbeat. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Leader tick of the latest heartbeat this follower acknowledged (leader lease). */
  leaseAckTick = Number.NEGATIVE_INFINITY;
  isLearner: boolean;
  readonly inflights: Inflights;
  transfer: SnapshotTransfer | undefined;

  constructor(next: number, inflightLimit: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(inflightLimit);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.transfer = undefined;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.transfer) {
      const snapIndex = this.transfer.snapshot.metadata.index;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, snapIndex + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: Snapshot, tick: number): void {
    this.resetState('snapshot');
    this.transfer = { snapshot, ackedChunks: 0, sentChunks: 0, lastProgressTick: tick };
  }

  /** A successful append response up to `n`. Returns true if match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Optimistically moves `next` past an append just sent (replicate state). */
  optimisticUpdate(lastSent: number): void {
    this.next = lastSent + 1;
  }

  /**
   * A rejected append probing `rejected`; `matchHint` is the leader's next guess. Returns false
   * for a stale rejection (it is ignored).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader should hold back appends to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
