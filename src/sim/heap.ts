/**
 * A binary min-heap of simulator events ordered by (time, seq). `seq` is the insertion order,
 * so two events at the same virtual time always run in the order they were scheduled: the
 * simulator's determinism rests on this total order.
 */
export interface HeapItem {
  time: number;
  seq: number;
}

export class EventHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p] as T;
      if (!less(item, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && less(a[r] as T, a[l] as T)) c = r;
      const child = a[c] as T;
      if (!less(child, last)) break;
      a[i] = child;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function less(x: HeapItem, y: HeapItem): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
