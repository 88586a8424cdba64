/**
 * A worker (seed 04.2.1's Worker, Kubernetes' kubelet, a K3s agent) as a sans-IO core: it
 * heartbeats to the masters every `heartbeatIntervalMs` with the tasks it runs, adopts the task
 * set of the newest acknowledgement, and fences itself: once `leaseMs` has passed since it sent
 * the last heartbeat a master acknowledged, it stops every task. A master declares a worker lost
 * only after `workerTimeoutMs > leaseMs (+ leader step-down)` without hearing from it, so by then
 * the worker has stopped its tasks and moving them elsewhere cannot run one twice.
 *
 * Inputs: `tick(nowMs)`, `handleAck(from, ack, nowMs)`. Outputs: `drainOutgoing()`,
 * `running(nowMs)`, `nextDeadlineMs()`. Time only comes in as arguments.
 *
 * With `fencing: 'none'` the worker keeps running its last assignment without a lease (the
 * kubelet's behaviour), trading at-most-once for availability during control-plane outages.
 *
 * Leaves out: the tasks' own processes (a task is an id in the running set), image pulls and
 * start-up delay.
 */
import type { NodeId } from '../core/ids.ts';
import type { Ack, WorkerMsg } from './messages.ts';
import type { Capacity, SchedulerConfig, TaskId } from './types.ts';

export interface WorkerOptions {
  readonly id: NodeId;
  readonly capacity: Capacity;
  readonly masters: readonly NodeId[];
  readonly config: SchedulerConfig;
  readonly nowMs: number;
}

export class WorkerCore {
  readonly id: NodeId;
  private readonly opts: WorkerOptions;
  private readonly fencing: boolean;
  private tasks: readonly TaskId[] = [];
  private leaseUntilMs = Number.NEGATIVE_INFINITY;
  private lastEpoch = -1;
  private lastSeq = -1;
  private nextHeartbeatMs: number;
  private outgoing: { to: NodeId; msg: WorkerMsg }[] = [];
  /** Times this worker stopped its tasks because its lease ran out. */
  fences = 0;

  constructor(opts: WorkerOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.fencing = opts.config.fencing === 'lease';
    this.nextHeartbeatMs = opts.nowMs;
  }

  /** Tasks running now: none once the lease has run out. */
  running(nowMs: number): readonly TaskId[] {
    return this.fencing === false || nowMs < this.leaseUntilMs ? this.tasks : [];
  }

  tick(nowMs: number): void {
    if (this.fencing && this.tasks.length > 0 && nowMs >= this.leaseUntilMs) {
      this.tasks = [];
      this.fences++;
    }
    if (nowMs >= this.nextHeartbeatMs) {
      const hb: WorkerMsg = { type: 'hb', sentMs: nowMs, running: this.running(nowMs), capacity: this.opts.capacity };
      for (const m of this.opts.masters) this.outgoing.push({ to: m, msg: hb });
      this.nextHeartbeatMs = nowMs + this.opts.config.heartbeatIntervalMs;
    }
  }

  handleAck(ack: Ack, nowMs: number): void {
    this.tick(nowMs);
    if (ack.epoch < this.lastEpoch || (ack.epoch === this.lastEpoch && ack.seq <= this.lastSeq)) return;
    this.lastEpoch = ack.epoch;
    this.lastSeq = ack.seq;
    this.leaseUntilMs = Math.max(this.leaseUntilMs, ack.sentMs + this.opts.config.leaseMs);
    this.tasks = !this.fencing || nowMs < this.leaseUntilMs ? [...ack.tasks] : [];
  }

  nextDeadlineMs(): number {
    return this.fencing && this.tasks.length > 0 ? Math.min(this.nextHeartbeatMs, this.leaseUntilMs) : this.nextHeartbeatMs;
  }

  drainOutgoing(): { to: NodeId; msg: WorkerMsg }[] {
    const out = this.outgoing;
    this.outgoing = [];
    return out;
  }
}
