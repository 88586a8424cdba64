import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import {
  chainGraph,
  connectivityDensity,
  edgeCount,
  erdosRenyiGraph,
  expectedDensity,
  fullGraph,
  generateTopology,
  graphFromEdges,
  isConnected,
  pathStats,
  randomRegularGraph,
  ringGraph,
  smallWorldGraph,
  starGraph,
  GRAPH_TOPOLOGIES,
} from '../../src/models/connectivity.ts';

describe('models/connectivity: seed 04.4.4 density C = 2|E| / (|V|(|V|-1))', () => {
  it('full mesh has C = 1', () => {
    for (const n of [2, 5, 30]) assert.equal(connectivityDensity(fullGraph(n)), 1);
  });
  it('chain has C = 2(n-1)/(n(n-1)) = 2/n', () => {
    for (const n of [2, 3, 10, 100]) {
      assert.ok(Math.abs(connectivityDensity(chainGraph(n)) - 2 / n) < 1e-15);
      assert.equal(edgeCount(chainGraph(n)), n - 1);
    }
  });
  it('ring has n edges (C = 2/(n-1)) and star n-1 edges (C = 2/n)', () => {
    assert.equal(edgeCount(ringGraph(10)), 10);
    assert.ok(Math.abs(connectivityDensity(ringGraph(10)) - 2 / 9) < 1e-15);
    assert.ok(Math.abs(connectivityDensity(starGraph(10)) - 0.2) < 1e-15);
  });
  it('no edges: C = 0; fewer than two nodes: C = 0', () => {
    assert.equal(connectivityDensity(graphFromEdges(4, [])), 0);
    assert.equal(connectivityDensity(fullGraph(1)), 0);
  });
  it('rejects self-loops, duplicate edges and out-of-range nodes', () => {
    assert.throws(() => graphFromEdges(3, [[1, 1]]), /self-loop/);
    assert.throws(
      () =>
        graphFromEdges(3, [
          [0, 1],
          [1, 0],
        ]),
      /twice/,
    );
    assert.throws(() => graphFromEdges(3, [[0, 3]]), /outside/);
  });
});

describe('models/connectivity: what density does not tell (connected, diameter, path length)', () => {
  it('chain of n: diameter n-1, average path (n+1)/3', () => {
    const s = pathStats(chainGraph(10));
    assert.equal(s.connected, true);
    assert.equal(s.diameter, 9);
    assert.ok(Math.abs(s.averagePathLength - 11 / 3) < 1e-12);
  });
  it('star: diameter 2, average path 2 - 2/n', () => {
    const s = pathStats(starGraph(10));
    assert.equal(s.diameter, 2);
    assert.ok(Math.abs(s.averagePathLength - (2 - 2 / 10)) < 1e-12);
  });
  it('ring of n (even): diameter n/2', () => {
    assert.equal(pathStats(ringGraph(12)).diameter, 6);
  });
  it('two graphs with the same density, one connected and one not', () => {
    // 6 nodes, 6 edges each: a ring (connected) and two triangles (disconnected).
    const ring = ringGraph(6);
    const triangles = graphFromEdges(6, [
      [0, 1],
      [1, 2],
      [2, 0],
      [3, 4],
      [4, 5],
      [5, 3],
    ]);
    assert.equal(connectivityDensity(ring), connectivityDensity(triangles));
    assert.equal(isConnected(ring), true);
    assert.equal(isConnected(triangles), false);
    const s = pathStats(triangles);
    assert.equal(s.diameter, Number.POSITIVE_INFINITY);
    assert.equal(s.components, 2);
  });
});

describe('models/connectivity: random generators', () => {
  it('random d-regular graphs have every degree d', () => {
    const g = randomRegularGraph(50, 4, createRng(1));
    for (const nbrs of g.adjacency) assert.equal(nbrs.length, 4);
    assert.ok(Math.abs(connectivityDensity(g) - 4 / 49) < 1e-15);
    const dense = randomRegularGraph(12, 9, createRng(2));
    for (const nbrs of dense.adjacency) assert.equal(nbrs.length, 9);
    assert.throws(() => randomRegularGraph(5, 3, createRng(1)), /even/);
  });
  it('G(n, p) density is close to p (n = 200: 19900 possible edges)', () => {
    const g = erdosRenyiGraph(200, 0.1, createRng(3));
    assert.ok(Math.abs(connectivityDensity(g) - 0.1) < 0.01, `C = ${connectivityDensity(g)}`);
  });
  it('small world: rewiring keeps the edge count and shortens paths versus the ring lattice', () => {
    const lattice = smallWorldGraph(200, 4, 0, createRng(4));
    const rewired = smallWorldGraph(200, 4, 0.2, createRng(4));
    assert.equal(edgeCount(lattice), 400);
    assert.equal(edgeCount(rewired), 400);
    assert.ok(pathStats(rewired).averagePathLength < pathStats(lattice).averagePathLength / 2);
  });
  it('the same seed gives the same graph', () => {
    for (const t of GRAPH_TOPOLOGIES) {
      assert.deepEqual(generateTopology(t, 30, {}, createRng(9)), generateTopology(t, 30, {}, createRng(9)), t);
    }
  });
  it('fixed-density topologies match their expected density exactly', () => {
    for (const t of ['full', 'chain', 'ring', 'star', 'regular', 'small-world'] as const) {
      const g = generateTopology(t, 24, {}, createRng(5));
      assert.ok(Math.abs(connectivityDensity(g) - expectedDensity(t, 24)) < 1e-15, t);
    }
  });
});
