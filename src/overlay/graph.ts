/**
 * Turns an overlay's actual links into the graphs src/models/connectivity.ts measures (seed
 * 04.4.4: C = 2|E| / (|V|(|V|−1)), diameter, average path length), and checks directed
 * reachability (flooding and walks follow out-links only).
 */
import type { NodeId } from '../core/ids.ts';
import { graphFromEdges, type UndirectedGraph } from '../models/connectivity.ts';

/** The undirected graph of `links` restricted to `nodes` (a link in either direction is an edge). */
export function undirectedOverlay(nodes: readonly NodeId[], links: (id: NodeId) => readonly NodeId[]): UndirectedGraph {
  const index = new Map(nodes.map((id, i) => [id, i]));
  const seen = new Set<number>();
  const edges: [number, number][] = [];
  const n = nodes.length;
  for (const [a, i] of index) {
    for (const b of links(a)) {
      const j = index.get(b);
      if (j === undefined || j === i) continue;
      const key = Math.min(i, j) * n + Math.max(i, j);
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push([i, j]);
    }
  }
  return graphFromEdges(n, edges);
}

/** True when every node reaches every other along directed links (restricted to `nodes`). */
export function stronglyConnected(nodes: readonly NodeId[], links: (id: NodeId) => readonly NodeId[]): boolean {
  if (nodes.length <= 1) return true;
  const inSet = new Set(nodes);
  const forward = new Map<NodeId, NodeId[]>();
  const backward = new Map<NodeId, NodeId[]>();
  for (const a of nodes) {
    for (const b of links(a)) {
      if (!inSet.has(b) || b === a) continue;
      forward.set(a, [...(forward.get(a) ?? []), b]);
      backward.set(b, [...(backward.get(b) ?? []), a]);
    }
  }
  const reach = (adj: Map<NodeId, NodeId[]>): number => {
    const start = nodes[0] as NodeId;
    const seen = new Set<NodeId>([start]);
    const stack = [start];
    while (stack.length > 0) {
      const x = stack.pop() as NodeId;
      for (const y of adj.get(x) ?? []) {
        if (!seen.has(y)) {
          seen.add(y);
          stack.push(y);
        }
      }
    }
    return seen.size;
  };
  return reach(forward) === nodes.length && reach(backward) === nodes.length;
}
