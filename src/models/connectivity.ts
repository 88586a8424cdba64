/**
 * UndirectedGraph connectivity of P2P overlays.
 *
 * Implements the seed's density `C = 2|E| / (|V|(|V|-1))` (04.2.2, 04.4.4) and its worked
 * example (a chain has C = 2/n), plus generators for the overlays a cluster actually builds:
 * full mesh, chain, ring, star, Erdős–Rényi G(n, p), random d-regular (pairing model with
 * restarts) and Watts–Strogatz small-world; and the measures density alone does not give:
 * whether the graph is connected, its diameter and its average shortest-path length (BFS).
 *
 * Graphs are simple and undirected. Weighted links, link failures and directed overlays
 * (Chord fingers, Kademlia buckets) are left out: those live in overlay/.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import { checkCount, checkProbability } from './availability.ts';

/** Nodes are 0..nodeCount-1; `adjacency[v]` lists v's neighbours. */
export interface UndirectedGraph {
  readonly nodeCount: number;
  readonly adjacency: readonly (readonly number[])[];
}

/** Limit on generated graph size: BFS from every node is O(n·(n+|E|)). */
export const GRAPH_NODES_MAX = 5000;

export const GRAPH_TOPOLOGIES = ['full', 'chain', 'ring', 'star', 'random', 'regular', 'small-world'] as const;
export type GraphTopologyName = (typeof GRAPH_TOPOLOGIES)[number];

export function isGraphTopologyName(name: string): name is GraphTopologyName {
  return (GRAPH_TOPOLOGIES as readonly string[]).includes(name);
}

/** Builds a graph from an edge list, rejecting self-loops, duplicates and out-of-range nodes. */
export function graphFromEdges(nodeCount: number, edges: readonly (readonly [number, number])[]): UndirectedGraph {
  checkCount('nodeCount', nodeCount, 0, GRAPH_NODES_MAX);
  const sets = Array.from({ length: nodeCount }, () => new Set<number>());
  for (const [a, b] of edges) {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= nodeCount || b >= nodeCount) {
      throw new InvalidArgumentError(`edge (${a}, ${b}) names a node outside 0..${nodeCount - 1}`);
    }
    if (a === b) throw new InvalidArgumentError(`edge (${a}, ${b}) is a self-loop`);
    const sa = sets[a];
    const sb = sets[b];
    if (!sa || !sb) continue;
    if (sa.has(b)) throw new InvalidArgumentError(`edge (${a}, ${b}) appears twice`);
    sa.add(b);
    sb.add(a);
  }
  return { nodeCount, adjacency: sets.map((s) => [...s].sort((x, y) => x - y)) };
}

export function edgeCount(g: UndirectedGraph): number {
  let twice = 0;
  for (const nbrs of g.adjacency) twice += nbrs.length;
  return twice / 2;
}

/** Seed 04.2.2 / 04.4.4: `C = 2|E| / (|V|(|V|-1))`, 0 for graphs with fewer than two nodes. */
export function connectivityDensity(g: UndirectedGraph): number {
  const n = g.nodeCount;
  if (n < 2) return 0;
  return (2 * edgeCount(g)) / (n * (n - 1));
}

export function fullGraph(n: number): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  const edges: [number, number][] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) edges.push([a, b]);
  return graphFromEdges(n, edges);
}

export function chainGraph(n: number): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  const edges: [number, number][] = [];
  for (let a = 0; a + 1 < n; a++) edges.push([a, a + 1]);
  return graphFromEdges(n, edges);
}

export function ringGraph(n: number): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  if (n < 3) return chainGraph(n);
  const edges: [number, number][] = [];
  for (let a = 0; a < n; a++) edges.push([a, (a + 1) % n]);
  return graphFromEdges(n, edges);
}

export function starGraph(n: number): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  const edges: [number, number][] = [];
  for (let a = 1; a < n; a++) edges.push([0, a]);
  return graphFromEdges(n, edges);
}

/** Erdős–Rényi G(n, p): each of the n(n-1)/2 possible edges present independently with probability p. */
export function erdosRenyiGraph(n: number, p: number, rng: Rng): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  checkProbability('p', p);
  const edges: [number, number][] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (rng.chance(p)) edges.push([a, b]);
  return graphFromEdges(n, edges);
}

/** Restarts of the pairing model before giving up (a valid pairing is found in O(1) tries for small d). */
const REGULAR_ATTEMPTS_MAX = 1000;

/**
 * Random d-regular graph by the pairing (configuration) model, restarting whenever a pairing
 * makes a self-loop or a double edge; uniform over d-regular graphs. Needs n·d even and d < n.
 */
export function randomRegularGraph(n: number, degree: number, rng: Rng): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  checkCount('degree', degree, 0, Math.max(0, n - 1));
  if ((n * degree) % 2 !== 0) throw new InvalidArgumentError(`degree × n must be even for a regular graph, got ${degree} × ${n}`);
  const points: number[] = [];
  for (let v = 0; v < n; v++) for (let i = 0; i < degree; i++) points.push(v);
  for (let attempt = 0; attempt < REGULAR_ATTEMPTS_MAX; attempt++) {
    const shuffled = rng.shuffle(points);
    const seen = new Set<number>();
    const edges: [number, number][] = [];
    let ok = true;
    for (let i = 0; i < shuffled.length; i += 2) {
      const a = shuffled[i] ?? 0;
      const b = shuffled[i + 1] ?? 0;
      const key = Math.min(a, b) * n + Math.max(a, b);
      if (a === b || seen.has(key)) {
        ok = false;
        break;
      }
      seen.add(key);
      edges.push([a, b]);
    }
    if (ok) return graphFromEdges(n, edges);
  }
  // Dense d (close to n) makes simple pairings rare; fall back to edge switching from a circulant.
  return switchedRegularGraph(n, degree, rng);
}

/** A circulant d-regular graph randomised by degree-preserving double-edge swaps. */
function switchedRegularGraph(n: number, degree: number, rng: Rng): UndirectedGraph {
  const edges: [number, number][] = [];
  for (let v = 0; v < n; v++) {
    for (let k = 1; k <= Math.floor(degree / 2); k++) edges.push([v, (v + k) % n]);
    if (degree % 2 === 1 && v < n / 2) edges.push([v, v + n / 2]);
  }
  const key = (a: number, b: number) => Math.min(a, b) * n + Math.max(a, b);
  const present = new Set(edges.map(([a, b]) => key(a, b)));
  for (let i = 0; i < edges.length * 10; i++) {
    const x = rng.int(edges.length);
    const y = rng.int(edges.length);
    const e1 = edges[x];
    const e2 = edges[y];
    if (!e1 || !e2 || x === y) continue;
    const [a, b] = e1;
    const [c, d] = e2;
    if (a === d || c === b || a === c || b === d || present.has(key(a, d)) || present.has(key(c, b))) continue;
    present.delete(key(a, b));
    present.delete(key(c, d));
    present.add(key(a, d));
    present.add(key(c, b));
    edges[x] = [a, d];
    edges[y] = [c, b];
  }
  return graphFromEdges(n, edges);
}

/**
 * Watts–Strogatz small world: a ring where each node links to its `neighbours/2` nearest on each
 * side, then each edge's far end is rewired to a uniformly random node with probability `beta`
 * (skipping rewires that would make a self-loop or a duplicate).
 */
export function smallWorldGraph(n: number, neighbours: number, beta: number, rng: Rng): UndirectedGraph {
  checkCount('n', n, 0, GRAPH_NODES_MAX);
  checkCount('neighbours', neighbours, 0, Math.max(0, n - 1));
  if (neighbours % 2 !== 0) throw new InvalidArgumentError(`neighbours must be even (k/2 on each side of the ring), got ${neighbours}`);
  checkProbability('beta', beta);
  const sets = Array.from({ length: n }, () => new Set<number>());
  const link = (a: number, b: number) => {
    sets[a]?.add(b);
    sets[b]?.add(a);
  };
  for (let v = 0; v < n; v++) for (let k = 1; k <= neighbours / 2; k++) link(v, (v + k) % n);
  for (let k = 1; k <= neighbours / 2; k++) {
    for (let v = 0; v < n; v++) {
      const w = (v + k) % n;
      if (!rng.chance(beta)) continue;
      const target = rng.int(n);
      const sv = sets[v];
      if (!sv || target === v || sv.has(target) || !sv.has(w)) continue;
      sv.delete(w);
      sets[w]?.delete(v);
      link(v, target);
    }
  }
  const edges: [number, number][] = [];
  sets.forEach((s, a) => {
    for (const b of s) if (a < b) edges.push([a, b]);
  });
  return graphFromEdges(n, edges);
}

/** BFS distances from `source`; -1 for unreachable nodes. */
export function bfsDistances(g: UndirectedGraph, source: number): Int32Array {
  const dist = new Int32Array(g.nodeCount).fill(-1);
  const queue = new Int32Array(g.nodeCount);
  let head = 0;
  let tail = 0;
  dist[source] = 0;
  queue[tail++] = source;
  while (head < tail) {
    const v = queue[head++] ?? 0;
    const dv = dist[v] ?? 0;
    for (const w of g.adjacency[v] ?? []) {
      if (dist[w] === -1) {
        dist[w] = dv + 1;
        queue[tail++] = w;
      }
    }
  }
  return dist;
}

export function isConnected(g: UndirectedGraph): boolean {
  if (g.nodeCount <= 1) return true;
  return bfsDistances(g, 0).every((d) => d >= 0);
}

export interface PathStats {
  readonly connected: boolean;
  /** Longest shortest path; Infinity if disconnected, 0 for fewer than two nodes. */
  readonly diameter: number;
  /** Mean shortest-path length over connected ordered pairs (NaN if there are none). */
  readonly averagePathLength: number;
  /** Number of connected components. */
  readonly components: number;
}

/** All-pairs BFS: O(|V|·(|V|+|E|)). */
export function pathStats(g: UndirectedGraph): PathStats {
  let diameter = 0;
  let sum = 0;
  let pairs = 0;
  let unreachable = false;
  for (let s = 0; s < g.nodeCount; s++) {
    const dist = bfsDistances(g, s);
    for (let t = 0; t < g.nodeCount; t++) {
      if (t === s) continue;
      const d = dist[t] ?? -1;
      if (d < 0) {
        unreachable = true;
        continue;
      }
      sum += d;
      pairs++;
      if (d > diameter) diameter = d;
    }
  }
  return {
    connected: !unreachable,
    diameter: unreachable ? Number.POSITIVE_INFINITY : diameter,
    averagePathLength: pairs === 0 ? Number.NaN : sum / pairs,
    components: componentCount(g),
  };
}

export function componentCount(g: UndirectedGraph): number {
  const seen = new Uint8Array(g.nodeCount);
  let components = 0;
  for (let s = 0; s < g.nodeCount; s++) {
    if (seen[s]) continue;
    components++;
    const dist = bfsDistances(g, s);
    dist.forEach((d, v) => {
      if (d >= 0) seen[v] = 1;
    });
  }
  return components;
}

export interface GraphTopologyParams {
  /** Edge probability for `random`. */
  readonly edgeProbability?: number;
  /** Degree for `regular`. */
  readonly degree?: number;
  /** Ring neighbours k (even) for `small-world`. */
  readonly neighbours?: number;
  /** Rewiring probability for `small-world`. */
  readonly rewireProbability?: number;
}

/** Builds a named topology. Random ones draw from `rng`. */
export function generateTopology(name: GraphTopologyName, n: number, params: GraphTopologyParams, rng: Rng): UndirectedGraph {
  switch (name) {
    case 'full':
      return fullGraph(n);
    case 'chain':
      return chainGraph(n);
    case 'ring':
      return ringGraph(n);
    case 'star':
      return starGraph(n);
    case 'random':
      return erdosRenyiGraph(n, params.edgeProbability ?? defaultEdgeProbability(n), rng);
    case 'regular':
      return randomRegularGraph(n, params.degree ?? defaultDegree(n), rng);
    case 'small-world':
      return smallWorldGraph(n, params.neighbours ?? defaultNeighbours(n), params.rewireProbability ?? 0.1, rng);
    default:
      throw unreachableTopology(name);
  }
}

function unreachableTopology(name: never): Error {
  return new InvalidArgumentError(`unknown topology ${JSON.stringify(name)}; expected one of ${GRAPH_TOPOLOGIES.join(', ')}`);
}

/** Default degree for `regular`: 4, or less for tiny graphs, keeping n·d even. */
export function defaultDegree(n: number): number {
  let d = Math.max(0, Math.min(4, n - 1));
  if ((n * d) % 2 !== 0) d -= 1;
  return d;
}

/** Default ring neighbours for `small-world`: 4, or the largest even number below n. */
export function defaultNeighbours(n: number): number {
  const k = Math.max(0, Math.min(4, n - 1));
  return k - (k % 2);
}

/** Default G(n, p) edge probability: 2·ln(n)/n, twice the connectivity threshold ln(n)/n. */
export function defaultEdgeProbability(n: number): number {
  if (n < 2) return 0;
  return Math.min(1, (2 * Math.log(n)) / n);
}

/** The density a topology has by construction, where it is fixed (seed 04.4.4's examples). */
export function expectedDensity(name: GraphTopologyName, n: number, params: GraphTopologyParams = {}): number {
  if (n < 2) return 0;
  switch (name) {
    case 'full':
      return 1;
    case 'chain':
      return 2 / n; // 2(n-1) / (n(n-1))
    case 'ring':
      return n < 3 ? 2 / n : 2 / (n - 1);
    case 'star':
      return 2 / n;
    case 'random':
      return params.edgeProbability ?? defaultEdgeProbability(n);
    case 'regular':
      return (params.degree ?? defaultDegree(n)) / (n - 1);
    case 'small-world':
      // Rewiring moves edges but never adds or removes one (skipped rewires keep theirs).
      return (params.neighbours ?? defaultNeighbours(n)) / (n - 1);
    default:
      throw unreachableTopology(name);
  }
}
