/**
 * The control plane's replicated state and its scheduler (seed 04.3.1: "all decisions are made
 * by the master"): the desired workloads, every task that exists and the worker it is bound to.
 * `applyCommand` is the deterministic state machine (applied directly by a single master, or
 * through the Raft log by hybrid masters); `planCommands` is the scheduling pass that turns the
 * difference between desired and actual into commands: unbind tasks of lost workers, create or
 * remove tasks to match replica counts, and bind pending tasks to live workers that have room,
 * scored by spread (fewest replicas of the same workload, then least utilised) or binpack (most
 * utilised that still fits), ties broken by worker id.
 *
 * Leaves out: moving tasks off live workers (rebalancing, descheduling) and preemption.
 */
import { unreachable } from '../core/assert.ts';
import { compareNodeIds, type NodeId } from '../core/ids.ts';
import { type Capacity, type DesiredChange, type PlacementStrategy, type TaskId, taskId, type WorkerInfo, type Workload, workloadOf } from './types.ts';

export type StateCommand =
  | { readonly c: 'put'; readonly workload: Workload }
  | { readonly c: 'delete'; readonly name: string }
  | { readonly c: 'create'; readonly task: TaskId }
  | { readonly c: 'remove'; readonly task: TaskId }
  | { readonly c: 'bind'; readonly task: TaskId; readonly worker: NodeId }
  | { readonly c: 'unbind'; readonly task: TaskId };

export interface ClusterStateJson {
  workloads: Workload[];
  nextIndex: Record<string, number>;
  tasks: [TaskId, NodeId | null][];
}

export function changeToCommand(change: DesiredChange): StateCommand {
  return change.op === 'put' ? { c: 'put', workload: change.workload } : { c: 'delete', name: change.name };
}

function indexOf(task: TaskId): number {
  return Number(task.slice(task.lastIndexOf('/') + 1));
}

export class ClusterState {
  readonly workloads = new Map<string, Workload>();
  private readonly nextIndex = new Map<string, number>();
  /** task -> bound worker, or null while pending. */
  readonly tasks = new Map<TaskId, NodeId | null>();

  static fromJson(j: ClusterStateJson): ClusterState {
    const s = new ClusterState();
    for (const w of j.workloads) s.workloads.set(w.name, w);
    for (const [k, v] of Object.entries(j.nextIndex)) s.nextIndex.set(k, v);
    for (const [t, w] of j.tasks) s.tasks.set(t, w);
    return s;
  }

  toJson(): ClusterStateJson {
    return { workloads: [...this.workloads.values()], nextIndex: Object.fromEntries(this.nextIndex), tasks: [...this.tasks] };
  }

  clone(): ClusterState {
    return ClusterState.fromJson(this.toJson());
  }

  /** Tasks bound to `worker`, sorted. */
  tasksOf(worker: NodeId): TaskId[] {
    const out: TaskId[] = [];
    for (const [t, w] of this.tasks) if (w === worker) out.push(t);
    return out.sort();
  }

  /** The deterministic state machine. Commands that no longer make sense are ignored. */
  apply(cmd: StateCommand): void {
    switch (cmd.c) {
      case 'put':
        this.workloads.set(cmd.workload.name, cmd.workload);
        return;
      case 'delete':
        this.workloads.delete(cmd.name);
        for (const t of [...this.tasks.keys()]) if (workloadOf(t) === cmd.name) this.tasks.delete(t);
        return;
      case 'create': {
        const w = workloadOf(cmd.task);
        if (!this.workloads.has(w) || this.tasks.has(cmd.task)) return;
        const i = indexOf(cmd.task);
        if (i < (this.nextIndex.get(w) ?? 0)) return; // indexes are never reused
        this.nextIndex.set(w, i + 1);
        this.tasks.set(cmd.task, null);
        return;
      }
      case 'remove':
        this.tasks.delete(cmd.task);
        return;
      case 'bind':
        if (this.tasks.get(cmd.task) === null) this.tasks.set(cmd.task, cmd.worker);
        return;
      case 'unbind':
        if (this.tasks.has(cmd.task)) this.tasks.set(cmd.task, null);
        return;
      default:
        unreachable(cmd, 'state command');
    }
  }

  /**
   * One scheduling pass against the workers believed live. Returns the commands; `this` is not
   * changed (apply them to commit the pass).
   */
  plan(live: readonly WorkerInfo[], strategy: PlacementStrategy): StateCommand[] {
    const s = this.clone();
    const out: StateCommand[] = [];
    const emit = (cmd: StateCommand): void => {
      s.apply(cmd);
      out.push(cmd);
    };
    const liveIds = new Set(live.map((w) => w.id));
    for (const [t, w] of [...s.tasks]) if (w !== null && !liveIds.has(w)) emit({ c: 'unbind', task: t });
    const names = [...s.workloads.keys()].sort();
    for (const name of names) {
      const w = s.workloads.get(name) as Workload;
      const mine = [...s.tasks.keys()].filter((t) => workloadOf(t) === name).sort((a, b) => indexOf(a) - indexOf(b));
      if (mine.length > w.replicas) {
        // Remove pending tasks first, then the highest indexes.
        const order = [...mine.filter((t) => s.tasks.get(t) === null).reverse(), ...mine.filter((t) => s.tasks.get(t) !== null).reverse()];
        for (const t of order.slice(0, mine.length - w.replicas)) emit({ c: 'remove', task: t });
      }
      for (let k = mine.length; k < w.replicas; k++) emit({ c: 'create', task: taskId(name, s.nextIndex.get(name) ?? 0) });
    }
    const used = new Map<NodeId, { cpu: number; mem: number; count: number }>(live.map((w) => [w.id, { cpu: 0, mem: 0, count: 0 }]));
    const perWorkload = new Map<string, number>();
    for (const [t, wid] of s.tasks) {
      if (wid === null) continue;
      const u = used.get(wid);
      const wl = s.workloads.get(workloadOf(t));
      if (u === undefined || wl === undefined) continue;
      u.cpu += wl.cpuMilli;
      u.mem += wl.memoryMb;
      u.count++;
      const key = `${workloadOf(t)}@${wid}`;
      perWorkload.set(key, (perWorkload.get(key) ?? 0) + 1);
    }
    const workers = [...live].sort((a, b) => compareNodeIds(a.id, b.id));
    const pending = [...s.tasks].filter(([, w]) => w === null).map(([t]) => t).sort((a, b) => (workloadOf(a) === workloadOf(b) ? indexOf(a) - indexOf(b) : a < b ? -1 : 1));
    for (const t of pending) {
      const wl = s.workloads.get(workloadOf(t));
      if (wl === undefined) continue;
      let best: WorkerInfo | undefined;
      let bestScore: number[] = [];
      for (const w of workers) {
        const u = used.get(w.id) as { cpu: number; mem: number; count: number };
        if (u.cpu + wl.cpuMilli > w.capacity.cpuMilli || u.mem + wl.memoryMb > w.capacity.memoryMb) continue;
        const util = utilisation(w.capacity, u.cpu + wl.cpuMilli, u.mem + wl.memoryMb);
        const same = perWorkload.get(`${wl.name}@${w.id}`) ?? 0;
        // Lower is better, compared lexicographically.
        const score = strategy === 'spread' ? [same, util, u.count] : [-util, same];
        if (best === undefined || lexLess(score, bestScore)) {
          best = w;
          bestScore = score;
        }
      }
      if (best === undefined) continue; // stays pending until a worker has room
      emit({ c: 'bind', task: t, worker: best.id });
      const u = used.get(best.id) as { cpu: number; mem: number; count: number };
      u.cpu += wl.cpuMilli;
      u.mem += wl.memoryMb;
      u.count++;
      const key = `${wl.name}@${best.id}`;
      perWorkload.set(key, (perWorkload.get(key) ?? 0) + 1);
    }
    return out;
  }
}

function utilisation(cap: Capacity, cpu: number, mem: number): number {
  const c = cap.cpuMilli > 0 ? cpu / cap.cpuMilli : 0;
  const m = cap.memoryMb > 0 ? mem / cap.memoryMb : 0;
  return Math.max(c, m);
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y;
  }
  return false;
}
