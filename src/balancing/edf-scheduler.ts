/**
 * Earliest-deadline-first scheduler, as in Envoy's `EdfScheduler`: each entry with weight w is
 * due every 1/w units of virtual time; the entry with the earliest deadline is picked and
 * re-queued at `deadline + 1/w`. Ties go to the entry inserted first, so a sequence is
 * deterministic. Over any window the share of picks of entry j tends to w_j / Σw.
 * A binary min-heap; O(log n) per pick. Leaves out Envoy's random pre-picks on rebuild.
 */
import { assert } from '../core/assert.ts';

interface Entry {
  slot: number;
  deadline: number;
  order: number;
}

export class EdfScheduler {
  private readonly heap: Entry[] = [];
  private currentTime = 0;
  private orderNext = 0;

  get size(): number {
    return this.heap.length;
  }

  clear(): void {
    this.heap.length = 0;
    this.currentTime = 0;
    this.orderNext = 0;
  }

  add(slot: number, weight: number): void {
    assert(weight > 0 && Number.isFinite(weight), `EDF weight must be a positive finite number, got ${weight}`);
    this.push({ slot, deadline: this.currentTime + 1 / weight, order: this.orderNext++ });
  }

  /**
   * Removes the entry due first and returns its slot; `weightOf(slot)` gives the weight it is
   * re-queued with (a dynamic weight, as Envoy's least-request does). Returns -1 when empty.
   */
  pickAndAdd(weightOf: (slot: number) => number): number {
    const top = this.heap[0];
    if (top === undefined) return -1;
    this.currentTime = top.deadline;
    const w = weightOf(top.slot);
    assert(w > 0 && Number.isFinite(w), `EDF weight must be a positive finite number, got ${w}`);
    top.deadline = this.currentTime + 1 / w;
    top.order = this.orderNext++;
    this.siftDown(0);
    return top.slot;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as Entry;
      if (!this.less(e, pe)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i] as Entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(h[r] as Entry, h[l] as Entry)) c = r;
      const ce = h[c] as Entry;
      if (!this.less(ce, e)) break;
      h[i] = ce;
      i = c;
    }
    h[i] = e;
  }
}
