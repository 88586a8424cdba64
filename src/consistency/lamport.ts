/**
 * Lamport logical clock (Lamport 1978, "Time, Clocks, and the Ordering of Events"): a counter
 * that ticks on every local event and jumps past every received timestamp, so
 * a -> b implies C(a) < C(b). Ties between nodes are broken by node id to get a total order.
 * Leaves out: detection of concurrency (a Lamport clock cannot tell; use a vector clock).
 */
import { assert } from '../core/assert.ts';
import { compareNodeIds, type NodeId } from '../core/ids.ts';

export class LamportClock {
  private counter: number;
  constructor(start = 0) {
    assert(Number.isSafeInteger(start) && start >= 0, `Lamport clock start must be a non-negative integer, got ${start}`);
    this.counter = start;
  }
  /** Current value, without ticking. */
  get value(): number {
    return this.counter;
  }
  /** A local event or a send: increments and returns the new timestamp. */
  tick(): number {
    this.counter += 1;
    return this.counter;
  }
  /** A receive: max(local, remote) + 1. Returns the timestamp of the receive event. */
  receive(remote: number): number {
    assert(Number.isSafeInteger(remote) && remote >= 0, `Lamport timestamp must be a non-negative integer, got ${remote}`);
    this.counter = Math.max(this.counter, remote) + 1;
    return this.counter;
  }
}

/** A Lamport timestamp with its node, totally ordered by (counter, node id). */
export interface LamportStamp {
  readonly counter: number;
  readonly node: NodeId;
}

export function compareLamport(a: LamportStamp, b: LamportStamp): number {
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return compareNodeIds(a.node, b.node);
}
