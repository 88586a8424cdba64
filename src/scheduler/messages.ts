/**
 * Master/worker wire messages (seed 04.2.1: control flows master → worker; the worker's
 * heartbeat carries its report). An acknowledgement is also the assignment: the master answers
 * every heartbeat with the complete set of tasks the worker must run (level-triggered, like a
 * kubelet reading the pods bound to its node), stamped with `(epoch, seq)` so a worker never
 * goes back to an older assignment.
 */
import type { Capacity, TaskId } from './types.ts';

export interface Heartbeat {
  readonly type: 'hb';
  /** The worker's clock when it sent this heartbeat, ms; echoed in the ack to anchor the lease. */
  readonly sentMs: number;
  readonly running: readonly TaskId[];
  readonly capacity: Capacity;
}

export interface Ack {
  readonly type: 'ack';
  readonly sentMs: number;
  /** Master incarnation (single master) or Raft term (hybrid). */
  readonly epoch: number;
  /** Increases with every ack this master sends in this epoch. */
  readonly seq: number;
  /** Everything the worker must run, sorted. */
  readonly tasks: readonly TaskId[];
}

export type WorkerMsg = Heartbeat | Ack;
