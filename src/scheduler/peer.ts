/**
 * A peer of the distributed topology (seed 04.3.2: equal nodes, no master, decisions reached
 * by the nodes themselves) as a sans-IO core. The desired state is a last-writer-wins map
 * (workload name → `(version, origin)`-stamped workload or tombstone) that any peer accepts
 * changes to and that peers exchange by push anti-entropy; every peer then decides on its own
 * which tasks it runs: task `w/i` (i < replicas) belongs to the highest rendezvous score
 * (`src/placement/rendezvous.ts`) over the peer's live view of the membership (from SWIM).
 *
 * Views differ while membership news spreads, so two peers can both believe they own a task:
 * this topology allows transient duplicates (and transient gaps), bounded by the time SWIM
 * takes to converge; once views agree every task has exactly one owner.
 *
 * Leaves out: resource requests (rendezvous ignores capacity; bounded-load hashing could add
 * it), tombstone collection, concurrent-change merge beyond last-writer-wins per workload.
 */
import { compareNodeIds, type NodeId } from '../core/ids.ts';
import { createRendezvous } from '../placement/rendezvous.ts';
import { type DesiredChange, type TaskId, taskId, validateChange, type Workload, WORKLOADS_MAX } from './types.ts';

export interface DocEntry {
  readonly name: string;
  readonly version: number;
  readonly origin: NodeId;
  /** null = deleted. */
  readonly workload: Workload | null;
}

function newer(a: DocEntry, b: DocEntry | undefined): boolean {
  if (b === undefined) return true;
  return a.version > b.version || (a.version === b.version && compareNodeIds(a.origin, b.origin) > 0);
}

export class PeerCore {
  readonly id: NodeId;
  private readonly doc = new Map<string, DocEntry>();
  private maxVersion = 0;

  constructor(id: NodeId) {
    this.id = id;
  }

  /** Accepts a change locally; false when the document is full. */
  submit(change: DesiredChange): boolean {
    validateChange(change);
    const name = change.op === 'put' ? change.workload.name : change.name;
    if (!this.doc.has(name) && this.doc.size >= WORKLOADS_MAX) return false;
    this.maxVersion++;
    this.doc.set(name, { name, version: this.maxVersion, origin: this.id, workload: change.op === 'put' ? change.workload : null });
    return true;
  }

  /** Merges a peer's entries; returns true if the peer's copy lacked something of ours (push back). */
  merge(entries: readonly DocEntry[]): boolean {
    const seen = new Set<string>();
    let theyLack = false;
    for (const e of entries) {
      seen.add(e.name);
      const mine = this.doc.get(e.name);
      if (newer(e, mine)) {
        if (mine === undefined && this.doc.size >= WORKLOADS_MAX) continue;
        this.doc.set(e.name, e);
        if (e.version > this.maxVersion) this.maxVersion = e.version;
      } else if (mine !== undefined && newer(mine, e)) {
        theyLack = true;
      }
    }
    for (const name of this.doc.keys()) if (!seen.has(name)) theyLack = true;
    return theyLack;
  }

  entries(): DocEntry[] {
    return [...this.doc.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Live workloads of the document, by name. */
  workloads(): Workload[] {
    const out: Workload[] = [];
    for (const e of this.entries()) if (e.workload !== null) out.push(e.workload);
    return out;
  }

  /** The tasks this peer runs given its live view (which should include itself). */
  owned(liveView: readonly NodeId[]): TaskId[] {
    if (liveView.length === 0) return [];
    const rv = createRendezvous(liveView.map((id) => ({ id })));
    const out: TaskId[] = [];
    for (const w of this.workloads()) {
      for (let i = 0; i < w.replicas; i++) {
        const t = taskId(w.name, i);
        if (rv.lookup(t) === this.id) out.push(t);
      }
    }
    return out;
  }
}
