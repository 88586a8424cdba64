/**
 * The master's scheduling brain as a sans-IO core (seed 04.3.1's single master; the leader of
 * 04.3.3's masters): it tracks worker heartbeats, declares a worker lost after
 * `workerTimeoutMs` of silence, plans against the applied `ClusterState` (unbind the lost
 * worker's tasks, create/remove tasks, bind pending ones), and answers each heartbeat with the
 * worker's complete assignment. The host decides how commands become state: applied and
 * fsynced at once (central) or through the Raft log (hybrid).
 *
 * Two rules keep a task from running twice:
 * - a master that has just started (or just become leader) declares nobody lost for
 *   `workerTimeoutMs`, since workers may hold leases granted by its predecessor;
 * - a worker declared lost is "fenced": it is told to run nothing until the unbinding of its
 *   tasks has been applied, even if it comes back before that.
 *
 * Leaves out: sharding the scheduler, admission control, multiple schedulers (Omega-style).
 */
import type { NodeId } from '../core/ids.ts';
import type { Ack, Heartbeat } from './messages.ts';
import type { ClusterState, StateCommand } from './state.ts';
import type { Capacity, SchedulerConfig, WorkerInfo } from './types.ts';
import { WORKERS_MAX } from './types.ts';

export class MasterCore {
  private readonly config: SchedulerConfig;
  private readonly heard = new Map<NodeId, { atMs: number; capacity: Capacity }>();
  private readonly fenced = new Set<NodeId>();
  private activeSinceMs = Number.POSITIVE_INFINITY;
  private epoch = -1;
  private seq = 0;
  /** Workers declared lost so far. */
  lost = 0;

  constructor(config: SchedulerConfig) {
    this.config = config;
  }

  get active(): boolean {
    return this.activeSinceMs !== Number.POSITIVE_INFINITY;
  }

  /** Start acting as the master for `epoch` (a new incarnation, or a new leader term). */
  activate(nowMs: number, epoch: number): void {
    this.activeSinceMs = nowMs;
    this.epoch = epoch;
    this.seq = 0;
    this.heard.clear();
    this.fenced.clear();
  }

  deactivate(): void {
    this.activeSinceMs = Number.POSITIVE_INFINITY;
    this.heard.clear();
    this.fenced.clear();
  }

  /** Records a heartbeat; returns the ack (the assignment) when this master is active. */
  handleHeartbeat(from: NodeId, hb: Heartbeat, nowMs: number, state: ClusterState): Ack | undefined {
    if (!this.active) return undefined;
    if (this.heard.has(from) || this.heard.size < WORKERS_MAX) this.heard.set(from, { atMs: nowMs, capacity: hb.capacity });
    if (this.fenced.has(from) && state.tasksOf(from).length === 0) this.fenced.delete(from);
    const tasks = this.fenced.has(from) ? [] : state.tasksOf(from);
    return { type: 'ack', sentMs: hb.sentMs, epoch: this.epoch, seq: this.seq++, tasks };
  }

  /** Workers this master currently counts as live. */
  liveWorkers(nowMs: number): WorkerInfo[] {
    const out: WorkerInfo[] = [];
    for (const [id, h] of this.heard) if (nowMs - h.atMs < this.config.workerTimeoutMs && !this.fenced.has(id)) out.push({ id, capacity: h.capacity });
    return out;
  }

  /** One scheduling pass; the host commits the commands. */
  plan(nowMs: number, state: ClusterState): StateCommand[] {
    if (!this.active) return [];
    const live = this.liveWorkers(nowMs);
    if (nowMs - this.activeSinceMs < this.config.workerTimeoutMs) {
      // Grace: workers not heard from yet may hold leases from a predecessor; keep their tasks.
      const ids = new Set(live.map((w) => w.id));
      for (const w of state.tasks.values()) {
        if (w !== null && !ids.has(w)) {
          ids.add(w);
          live.push({ id: w, capacity: { cpuMilli: 0, memoryMb: 0 } });
        }
      }
    } else {
      const ids = new Set(live.map((w) => w.id));
      for (const w of state.tasks.values()) {
        if (w !== null && !ids.has(w) && !this.fenced.has(w)) {
          this.fenced.add(w);
          this.lost++;
        }
      }
    }
    return state.plan(live, this.config.strategy);
  }
}
