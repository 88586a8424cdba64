/**
 * P2P overlay measurements for docs/overlay.md (seed 04.4.1–04.4.4), on the real cores:
 *
 * - Chord lookup hops vs n (16..4096) beside ½·log2 n (Stoica et al., §6.2 Figure 10), on
 *   converged rings (installConvergedState) and, for n ≤ 256, on rings built by join +
 *   stabilization alone (the shortcut must agree).
 * - Kademlia lookup depth and RPCs vs n beside log2 n (and ⌈log2 n⌉ / b-style bounds).
 * - Flooding query messages vs TTL and view size on a Cyclon overlay, beside the tree model
 *   Σ c^i (capped by the number of links), and the fraction of peers reached.
 * - The connectivity C = 2|E|/(|V|(|V|−1)), diameter and average path length of each overlay's
 *   actual graph (src/models/connectivity.ts), beside the random regular graph of the same
 *   mean degree (the seed's model, 04.4.4).
 * - Lookup success under churn from the simulator scenarios (nemesis on), several seeds, and
 *   against the crash rate.
 *
 *   node --import tsx bench/overlay.ts [--quick] [--only chord|kademlia|flooding|graph|churn|churn-rate]
 */
import { createRng } from '../src/core/rng.ts';
import { connectivityDensity, pathStats, randomRegularGraph } from '../src/models/connectivity.ts';
import { ChordNode, type ChordMsg, defaultChordConfig, sortRing, successorOf } from '../src/overlay/chord.ts';
import { undirectedOverlay } from '../src/overlay/graph.ts';
import { DirectNetwork } from '../src/overlay/host.ts';
import { defaultKademliaConfig, kClosest, type KadContact, KademliaNode, type KademliaMsg } from '../src/overlay/kademlia.ts';
import { defaultSuperPeerConfig, type SuperPeerMsg, SuperPeerNode } from '../src/overlay/superpeer.ts';
import { defaultUnstructuredConfig, UnstructuredNode, type UnstructuredMsg } from '../src/overlay/unstructured.ts';
import { runChord } from '../src/scenarios/chord-scenario.ts';
import { runKademlia } from '../src/scenarios/kademlia-scenario.ts';
import { ALL_FAULTS } from '../src/sim/nemesis.ts';

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const want = (s: string) => only === undefined || only === s;
const out = (s: string) => process.stdout.write(s);
const f = (x: number, d = 2) => x.toFixed(d);
const started = performance.now();
const SIZES = quick ? [16, 64, 256, 1024] : [16, 64, 256, 1024, 4096];
const LOOKUPS = quick ? 200 : 1000;

function chordRing(n: number): DirectNetwork<ChordMsg, ChordNode> {
  const net = new DirectNetwork<ChordMsg, ChordNode>();
  const config = defaultChordConfig();
  for (let i = 1; i <= n; i++) net.add(new ChordNode({ address: `n${i}`, config, rng: createRng(1).fork(`n${i}`), bootstrap: [] }));
  const sorted = sortRing([...net.nodes.values()].map((c) => c.self));
  for (const c of net.nodes.values()) c.installConvergedState(sorted);
  return net;
}

function chordHops(net: DirectNetwork<ChordMsg, ChordNode>, count: number, seed: number): { mean: number; p99: number; correct: number } {
  const nodes = [...net.nodes.values()];
  const sorted = sortRing(nodes.map((c) => c.self));
  const rng = createRng(seed);
  const hops: number[] = [];
  let correct = 0;
  for (let i = 0; i < count; i++) {
    const from = rng.pick(nodes);
    const key = rng.int(2 ** from.config.idBits);
    from.lookup(key);
    net.collect(from);
    net.settle();
    const r = from.pollResults().find((x) => x.type === 'lookup');
    if (r?.type !== 'lookup') continue;
    hops.push(r.hops);
    if (r.owner.addr === successorOf(sorted, key)?.addr) correct++;
  }
  hops.sort((a, b) => a - b);
  return { mean: hops.reduce((a, b) => a + b, 0) / Math.max(1, hops.length), p99: hops[Math.floor(0.99 * (hops.length - 1))] ?? 0, correct: correct / count };
}

if (want('chord')) {
  out('## Chord: lookup hops vs n (converged rings, 32-bit ids, iterative lookup)\n\n');
  out('| n | lookups | mean hops | p99 | correct owner | ½·log2 n (paper) | mean / model |\n|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const n of SIZES) {
    const r = chordHops(chordRing(n), LOOKUPS, n);
    const model = 0.5 * Math.log2(n);
    out(`| ${n} | ${LOOKUPS} | ${f(r.mean)} | ${r.p99} | ${f(r.correct * 100, 1)} % | ${f(model)} | ${f(r.mean / model)} |\n`);
  }
  out('\nRings built by join + stabilization only (same cores, lossless network, 300 rounds):\n\n');
  out('| n | mean hops (stabilized) | mean hops (installed) |\n|---:|---:|---:|\n');
  for (const n of quick ? [64] : [64, 256]) {
    const net = new DirectNetwork<ChordMsg, ChordNode>();
    const config = defaultChordConfig();
    for (let i = 1; i <= n; i++) net.add(new ChordNode({ address: `n${i}`, config, rng: createRng(2).fork(`n${i}`), bootstrap: ['n1', 'n2'] }));
    for (let r = 0; r < 300; r++) net.round();
    const organic = chordHops(net, LOOKUPS, 7);
    const installed = chordHops(chordRing(n), LOOKUPS, 7);
    out(`| ${n} | ${f(organic.mean)} (correct ${f(organic.correct * 100, 1)} %) | ${f(installed.mean)} |\n`);
  }
  out('\n');
}

if (want('kademlia')) {
  out('## Kademlia: lookup depth and RPCs vs n (k = 8, α = 3, 32-bit ids, tables filled with k random contacts per bucket)\n\n');
  out('| n | lookups | mean depth | max depth | mean RPCs | exact k closest | log2 n | depth / log2 n |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const n of SIZES) {
    const config = defaultKademliaConfig();
    const net = new DirectNetwork<KademliaMsg, KademliaNode>();
    const nodes: KademliaNode[] = [];
    for (let i = 1; i <= n; i++) nodes.push(new KademliaNode({ address: `n${i}`, config, rng: createRng(n).fork(`n${i}`), bootstrap: [] }));
    for (const x of nodes) net.add(x);
    const all: KadContact[] = nodes.map((x) => x.self);
    for (const x of nodes) x.installTable(all);
    const rng = createRng(n + 1);
    let depth = 0;
    let maxDepth = 0;
    let rpcs = 0;
    let exact = 0;
    const count = Math.min(LOOKUPS, 500);
    for (let i = 0; i < count; i++) {
      const from = rng.pick(nodes);
      const target = rng.nextU32();
      from.lookup(target);
      net.collect(from);
      net.settle();
      const r = from.pollResults().find((x) => x.type === 'lookup');
      if (r?.type !== 'lookup') continue;
      depth += r.hops;
      maxDepth = Math.max(maxDepth, r.hops);
      rpcs += r.rpcs;
      const want = kClosest(
        all.filter((c) => c.addr !== from.address),
        target,
        config.k,
      ).map((c) => c.addr);
      if (want.join() === r.closest.map((c) => c.addr).join()) exact++;
    }
    out(`| ${n} | ${count} | ${f(depth / count)} | ${maxDepth} | ${f(rpcs / count, 1)} | ${f((exact / count) * 100, 1)} % | ${f(Math.log2(n))} | ${f(depth / count / Math.log2(n))} |\n`);
  }
  out('\n');
}

function cyclon(n: number, viewSize: number, rounds: number): DirectNetwork<UnstructuredMsg, UnstructuredNode> {
  const net = new DirectNetwork<UnstructuredMsg, UnstructuredNode>();
  const config = { ...defaultUnstructuredConfig(), viewSize, shuffleLength: Math.max(1, Math.floor(viewSize / 2)), shuffleEveryTicks: 1, searchTimeoutTicks: 1 };
  for (let i = 1; i <= n; i++) {
    const node = new UnstructuredNode({ address: `p${i}`, config, rng: createRng(viewSize).fork(`p${i}`), bootstrap: ['p1'], items: [`item-${i}`] });
    net.add(node);
    net.collect(node);
    net.settle();
  }
  for (let r = 0; r < rounds; r++) net.round();
  return net;
}

if (want('flooding')) {
  const n = quick ? 500 : 1000;
  out(`## Flooding: query messages per search vs TTL and view size c (Cyclon overlay, n = ${n}, 50 searches each)\n\n`);
  out('Model: a query tree over directed views: every peer forwards to its c neighbours (the sender is rarely in the receiver\'s view), M(TTL) = Σ_{i=1..TTL} c^i, capped by the overlay\'s links c·n (each peer forwards a query once). On an undirected overlay the tree is c·Σ_{i<TTL} (c−1)^i.\n\n');
  out('| c | TTL | msgs/search | peers reached | found unique item | model M(TTL) | msgs / model | duplicates / msg |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const c of [4, 6, 8]) {
    const net = cyclon(n, c, 60);
    const nodes = [...net.nodes.values()];
    const links = nodes.reduce((s, x) => s + x.neighbours().length, 0);
    const rng = createRng(c * 31);
    for (const ttl of [1, 2, 3, 4, 5, 6]) {
      let msgs = 0;
      let reached = 0;
      let found = 0;
      let dups = 0;
      const searches = 50;
      for (let i = 0; i < searches; i++) {
        const from = rng.pick(nodes);
        const target = 1 + rng.int(n);
        const before = nodes.reduce((s, x) => s + x.stats.queriesReceived, 0);
        const dupBefore = nodes.reduce((s, x) => s + x.stats.duplicatesDropped, 0);
        const seenBefore = nodes.map((x) => x.stats.queriesReceived - x.stats.duplicatesDropped);
        from.search(`item-${target}`, { kind: 'flood', ttl });
        net.collect(from);
        net.settle();
        from.tick();
        net.collect(from);
        net.settle();
        msgs += nodes.reduce((s, x) => s + x.stats.queriesReceived, 0) - before;
        dups += nodes.reduce((s, x) => s + x.stats.duplicatesDropped, 0) - dupBefore;
        reached += nodes.filter((x, i) => x.stats.queriesReceived - x.stats.duplicatesDropped > (seenBefore[i] ?? 0)).length;
        if ((from.pollResults().at(-1)?.holders.length ?? 0) > 0) found++;
      }
      let model = 0;
      for (let i = 1; i <= ttl; i++) model += c ** i;
      model = Math.min(model, links);
      out(`| ${c} | ${ttl} | ${f(msgs / searches, 1)} | ${f((reached / searches / n) * 100, 1)} % | ${f((found / searches) * 100)} % | ${f(model, 0)} | ${f(msgs / searches / model)} | ${f(dups / Math.max(1, msgs))} |\n`);
    }
  }
  out('\n');
  out(`Random walks on the same overlay (c = 6, n = ${n}): 16 walkers, TTL 64\n\n`);
  const net = cyclon(n, 6, 60);
  const nodes = [...net.nodes.values()];
  const rng = createRng(99);
  let found = 0;
  let msgs = 0;
  const searches = 100;
  for (let i = 0; i < searches; i++) {
    const from = rng.pick(nodes);
    const before = nodes.reduce((s, x) => s + x.stats.walksReceived, 0);
    from.search(`item-${1 + rng.int(n)}`, { kind: 'walk', walkers: 16, ttl: 64 });
    net.collect(from);
    net.settle();
    from.tick();
    net.collect(from);
    net.settle();
    msgs += nodes.reduce((s, x) => s + x.stats.walksReceived, 0) - before;
    if ((from.pollResults().at(-1)?.holders.length ?? 0) > 0) found++;
  }
  out(`| walkers | TTL | msgs/search | found unique item |\n|---:|---:|---:|---:|\n| 16 | 64 | ${f(msgs / searches, 1)} | ${f((found / searches) * 100, 1)} % |\n\n`);
}

if (want('graph')) {
  const n = 256;
  out(`## Connectivity of each overlay's actual graph (n = ${n}), src/models/connectivity.ts\n\n`);
  out('Beside each: a random regular graph with the same mean degree d̄ = 2|E|/n (the seed\'s C for it is d̄/(n−1)).\n\n');
  out('| overlay | |E| | mean degree | C = 2|E|/(n(n−1)) | diameter | avg path | random d̄-regular: C | diameter | avg path |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
  const rows: [string, string[], (id: string) => string[]][] = [];
  {
    const net = chordRing(n);
    rows.push(['Chord (successors r = 4 + fingers + predecessor)', [...net.nodes.keys()], (id) => net.nodes.get(id)?.links().map((p) => p.addr) ?? []]);
  }
  {
    const config = defaultKademliaConfig();
    const nodes: KademliaNode[] = [];
    for (let i = 1; i <= n; i++) nodes.push(new KademliaNode({ address: `n${i}`, config, rng: createRng(5).fork(`n${i}`), bootstrap: [] }));
    const all = nodes.map((x) => x.self);
    for (const x of nodes) x.installTable(all);
    const m = new Map(nodes.map((x) => [x.address, x]));
    rows.push(['Kademlia (k = 8 buckets)', [...m.keys()], (id) => m.get(id)?.contacts().map((c) => c.addr) ?? []]);
  }
  {
    const net = cyclon(n, 8, 60);
    rows.push(['Cyclon views (c = 8)', [...net.nodes.keys()], (id) => net.nodes.get(id)?.neighbours() ?? []]);
  }
  {
    const net = new DirectNetwork<SuperPeerMsg, SuperPeerNode>();
    const config = { ...defaultSuperPeerConfig(), leavesPerSuperMax: 16 };
    const rng = createRng(8);
    for (let i = 1; i <= n; i++) net.add(new SuperPeerNode({ address: `p${i}`, config, rng: rng.fork(`p${i}`), capacity: 1 + rng.int(100), bootstrap: ['p1'] }));
    for (let r = 0; r < 200; r++) net.round();
    const supers = [...net.nodes.values()].filter((x) => x.role === 'super').length;
    rows.push([`super-peers (${supers} super-peers, ≤ 16 leaves each)`, [...net.nodes.keys()], (id) => net.nodes.get(id)?.links() ?? []]);
  }
  for (const [name, ids, links] of rows) {
    const g = undirectedOverlay(ids, links);
    const s = pathStats(g);
    const e = g.adjacency.reduce((a, x) => a + x.length, 0) / 2;
    const meanDeg = (2 * e) / n;
    let d = Math.round(meanDeg);
    if ((d * n) % 2 !== 0) d += 1;
    const reg = randomRegularGraph(n, Math.min(d, n - 1), createRng(d));
    const rs = pathStats(reg);
    out(`| ${name} | ${e} | ${f(meanDeg, 1)} | ${f(connectivityDensity(g), 4)} | ${s.diameter} | ${f(s.averagePathLength)} | ${f(connectivityDensity(reg), 4)} | ${rs.diameter} | ${f(rs.averagePathLength)} |\n`);
  }
  out('\n');
}

if (want('churn')) {
  const seeds = quick ? [1, 2] : [1, 2, 3, 4, 5];
  out(`## Lookup success under churn (simulator, nemesis with ${ALL_FAULTS.join(', ')}; 60 s virtual; seeds ${seeds.join(', ')})\n\n`);
  out('| overlay | n | lookups during faults | succeeded | after heal: correct | mean hops after heal |\n|---|---:|---:|---:|---:|---:|\n');
  let a = 0;
  let ok = 0;
  let checked = 0;
  let hops = 0;
  for (const seed of seeds) {
    const r = runChord({ seed, nodes: 32, durationMs: 60_000, faults: ALL_FAULTS, ops: 20, params: {} });
    a += r.churnLookups;
    ok += r.churnLookupsOk;
    checked += r.checkedLookups;
    hops += r.meanHops * r.checkedLookups;
  }
  out(`| Chord (r = 4, 3 replicas) | 32 | ${a} | ${f((ok / a) * 100, 1)} % | ${checked}/${checked} | ${f(hops / checked)} |\n`);
  a = 0;
  ok = 0;
  checked = 0;
  hops = 0;
  for (const seed of seeds) {
    const r = runKademlia({ seed, nodes: 32, durationMs: 60_000, faults: ALL_FAULTS, ops: 20, params: {} });
    a += r.churnLookups;
    ok += r.churnLookupsOk;
    checked += r.checkedLookups;
    hops += r.meanHops * r.checkedLookups;
  }
  out(`| Kademlia (k = 8, α = 3) | 32 | ${a} | ${f((ok / a) * 100, 1)} % | ${checked}/${checked} | ${f(hops / checked)} |\n\n`);
}

if (want('churn-rate')) {
  const seeds = quick ? [1, 2] : [1, 2, 3];
  out(`## Lookup success vs churn rate (simulator, crash-only nemesis: a node crashes every I ms on average, restarts empty 0.5–5 s later; n = 32, 60 s, seeds ${seeds.join(', ')})\n\n`);
  out('| mean interval I | Chord lookups ok | Chord runs passing all checks | Kademlia lookups ok | Kademlia runs passing all checks |\n|---:|---:|---:|---:|---:|\n');
  for (const interval of [250, 500, 1000, 3000, 10_000]) {
    const cells: string[] = [];
    for (const run of [runChord, runKademlia]) {
      let a = 0;
      let ok = 0;
      let passed = 0;
      const failures: string[] = [];
      for (const seed of seeds) {
        try {
          const r = run({ seed, nodes: 32, durationMs: 60_000, faults: ['crash'], ops: 20, params: { faultIntervalMs: String(interval) } });
          a += r.churnLookups;
          ok += r.churnLookupsOk;
          passed++;
        } catch (e) {
          failures.push((e as Error).message.split('\n')[0] ?? '');
        }
      }
      cells.push(a === 0 ? 'n/a' : `${f((ok / a) * 100, 1)} %`, `${passed}/${seeds.length}`);
      for (const m of failures) process.stderr.write(`  ${interval} ms: ${m}\n`);
    }
    out(`| ${interval} ms | ${cells.join(' | ')} |\n`);
  }
  out('\n');
}

out(`wall time ${f((performance.now() - started) / 1000, 1)} s\n`);
