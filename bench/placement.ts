/**
 * Placement benchmark: every consistent-hashing placement and npm `hashring` (the peer, in the
 * same run) over K keys and 10/100/1000 nodes. Per algorithm and node count: build time, memory
 * (heap + array-buffer growth per instance, averaged over 4; needs --expose-gc), ns per lookup (hashing included; the better of two passes after a warm-up), max/mean and
 * stddev/mean keys per node, and the share of keys moved when a node is added and when one is
 * removed, against the ideal 1/(n+1). Also bounded-load hashing over ring and Maglev (max load
 * against its cap), Maglev's table balance, a ring sized to hashring's memory, and a uniform
 * random assignment as the balance floor that sampling noise alone gives.
 *
 * Run: node --expose-gc --import tsx bench/placement.ts [--keys 1000000] [--nodes 10,100,1000] [--json]
 */
import HashRing from 'hashring';
import { createRng } from '../src/core/rng.ts';
import { BoundedLoad } from '../src/placement/bounded-load.ts';
import { createPlacement } from '../src/placement/index.ts';
import { Maglev } from '../src/placement/maglev.ts';
import { Ring } from '../src/placement/ring.ts';
import type { NodeSpec, Placement, PlacementKind, WalkablePlacement } from '../src/placement/types.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const keysCount = Number(flag('--keys', '1000000'));
const nodeCounts = flag('--nodes', '10,100,1000').split(',').map(Number);
const asJson = process.argv.includes('--json');
/** Rendezvous is O(n) per lookup: at n >= 1000 it runs on at most this many keys. */
const RENDEZVOUS_KEYS_MAX_AT_1000 = 100_000;
/** The larger prime table size from the Maglev paper. */
const MAGLEV_LARGE_TABLE = 655373;
/** Instances built (and held) to measure memory per instance. */
const MEMORY_COPIES = 4;

const gc = (globalThis as { gc?: () => void }).gc;
function heapBytes(): number {
  if (!gc) return Number.NaN;
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const KEYS = Array.from({ length: keysCount }, (_, i) => `key:${i}`);

interface Row {
  algo: string;
  nodes: number;
  keys: number;
  buildMs: number;
  memoryBytes: number;
  nsPerLookup: number;
  maxOverMean: number;
  stddevOverMean: number;
  movedOnAdd: number;
  movedOnRemove: number;
  ideal: number;
  note: string;
}

interface Subject {
  /** Owner id per key. */
  lookupAll(keys: readonly string[]): string[];
  timedPass(keys: readonly string[]): number; // ns per lookup
}

function ourSubject(p: Placement): Subject {
  return {
    lookupAll(keys) {
      const ids = p.nodes.map((n) => n.id);
      return keys.map((k) => ids[p.lookupIndex(k)] as string);
    },
    timedPass(keys) {
      const out = new Int32Array(keys.length);
      for (let i = 0; i < Math.min(keys.length, 100_000); i++) out[i] = p.lookupIndex(keys[i] as string);
      let best = Number.POSITIVE_INFINITY;
      for (let pass = 0; pass < 2; pass++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < keys.length; i++) out[i] = p.lookupIndex(keys[i] as string);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / keys.length);
      }
      return best;
    },
  };
}

function peerSubject(r: HashRing): Subject {
  return {
    lookupAll(keys) {
      return keys.map((k) => r.get(k) as string);
    },
    timedPass(keys) {
      const out = new Array<string | undefined>(keys.length);
      for (let i = 0; i < Math.min(keys.length, 100_000); i++) out[i] = r.get(keys[i] as string);
      let best = Number.POSITIVE_INFINITY;
      for (let pass = 0; pass < 2; pass++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < keys.length; i++) out[i] = r.get(keys[i] as string);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / keys.length);
      }
      return best;
    },
  };
}

function loadStats(owners: readonly string[], ids: readonly string[]): { maxOverMean: number; stddevOverMean: number } {
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const o of owners) counts.set(o, (counts.get(o) ?? 0) + 1);
  const values = [...counts.values()];
  const mean = owners.length / ids.length;
  const variance = values.reduce((a, c) => a + (c - mean) ** 2, 0) / values.length;
  return { maxOverMean: Math.max(...values) / mean, stddevOverMean: Math.sqrt(variance) / mean };
}

function movedShare(a: readonly string[], b: readonly string[]): number {
  let moved = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) moved++;
  return moved / a.length;
}

function measure(
  algo: string,
  nodes: readonly NodeSpec[],
  keys: readonly string[],
  build: (nodes: readonly NodeSpec[]) => { subject: Subject; memoryEstimate: number },
  removeId: string,
  note = '',
): Row {
  const t0 = process.hrtime.bigint();
  const built = build(nodes);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // Memory: the heap and array-buffer growth from holding MEMORY_COPIES more instances.
  const before = heapBytes();
  const copies = Array.from({ length: MEMORY_COPIES }, () => build(nodes));
  const after = heapBytes();
  const memoryBytes = Number.isNaN(before) ? built.memoryEstimate : Math.max(0, after - before) / copies.length;
  const nsPerLookup = built.subject.timedPass(keys);
  const owners = built.subject.lookupAll(keys);
  const ids = nodes.map((n) => n.id);
  const stats = loadStats(owners, ids);
  const added = build([...nodes, { id: `n${nodes.length + 1}` }]).subject.lookupAll(keys);
  const removed = build(nodes.filter((n) => n.id !== removeId)).subject.lookupAll(keys);
  return {
    algo,
    nodes: nodes.length,
    keys: keys.length,
    buildMs,
    memoryBytes,
    nsPerLookup,
    ...stats,
    movedOnAdd: movedShare(owners, added),
    movedOnRemove: movedShare(owners, removed),
    ideal: 1 / (nodes.length + 1),
    note,
  };
}

const rows: Row[] = [];
const extra: Record<string, unknown>[] = [];
const progress = (s: string) => {
  if (!asJson) process.stderr.write(`${s}\n`);
};

for (const n of nodeCounts) {
  const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}` }));
  const middle = `n${Math.ceil(n / 2)}`;
  progress(`n=${n}: hashring`);
  const peer = measure('hashring (npm, peer)', nodes, KEYS, (ns) => {
    const r = new HashRing(ns.map((x) => x.id));
    return { subject: peerSubject(r), memoryEstimate: Number.NaN };
  }, middle);
  rows.push(peer);
  const kinds: PlacementKind[] = ['ring', 'ketama', 'rendezvous', 'jump', 'maglev'];
  for (const kind of kinds) {
    progress(`n=${n}: ${kind}`);
    const keys = kind === 'rendezvous' && n >= 1000 ? KEYS.slice(0, Math.min(KEYS.length, RENDEZVOUS_KEYS_MAX_AT_1000)) : KEYS;
    // Jump removes only the last bucket minimally; everyone else loses a middle node.
    const removeId = kind === 'jump' ? `n${n}` : middle;
    rows.push(
      measure(kind, nodes, keys, (ns) => {
        const p = createPlacement(kind, ns);
        return { subject: ourSubject(p), memoryEstimate: p.memoryBytes };
      }, removeId, kind === 'jump' ? 'removes the last node' : ''),
    );
  }
  // Maglev with a 10x larger table (the paper's other example size, 655373) where the default
  // leaves fewer than 100 slots per node: disruption shrinks as M/n grows.
  if (65537 / n < 100) {
    const tableSize = MAGLEV_LARGE_TABLE;
    progress(`n=${n}: maglev M=${tableSize}`);
    rows.push(
      measure(`maglev, M=${tableSize}`, nodes, KEYS, (ns) => {
        const p = new Maglev(ns, { tableSize });
        return { subject: ourSubject(p), memoryEstimate: p.memoryBytes };
      }, middle, 'larger table'),
    );
  }
  // A ring given hashring's memory: more points per node.
  if (!Number.isNaN(peer.memoryBytes)) {
    const probe = new Ring(nodes);
    const bytesPerPoint = probe.memoryBytes / probe.pointCount;
    const pointsPerWeight = Math.max(160, Math.floor(peer.memoryBytes / bytesPerPoint / n));
    progress(`n=${n}: ring at hashring's memory (${pointsPerWeight} points/node)`);
    rows.push(
      measure(`ring, ${pointsPerWeight} pts/node`, nodes, KEYS, (ns) => {
        const p = new Ring(ns, { pointsPerWeight });
        return { subject: ourSubject(p), memoryEstimate: p.memoryBytes };
      }, middle, "hashring's memory"),
    );
  }
  // Balance floor: each key to a uniformly random node (sampling noise only).
  {
    const rng = createRng(7);
    const counts = new Float64Array(n);
    for (let i = 0; i < KEYS.length; i++) {
      const j = rng.int(n);
      counts[j] = (counts[j] ?? 0) + 1;
    }
    const mean = KEYS.length / n;
    let max = 0;
    let sq = 0;
    for (const c of counts) {
      max = Math.max(max, c);
      sq += (c - mean) ** 2;
    }
    extra.push({ kind: 'uniform-random floor', nodes: n, maxOverMean: max / mean, stddevOverMean: Math.sqrt(sq / n) / mean });
  }
  // Maglev's table balance (slots per node), the quantity its paper bounds.
  {
    const m = new Maglev(nodes);
    const slots = m.slotCounts();
    const mean = m.tableSize / n;
    extra.push({ kind: 'maglev table', nodes: n, tableSize: m.tableSize, slotMaxOverMean: Math.max(...slots) / mean, slotMinOverMean: Math.min(...slots) / mean });
  }
  // Bounded load over ring and Maglev: every key acquired, none released.
  for (const kind of ['ring', 'maglev'] as const) {
    progress(`n=${n}: bounded load over ${kind}`);
    const base = createPlacement(kind, nodes) as WalkablePlacement;
    const bl = new BoundedLoad(base);
    const t0 = process.hrtime.bigint();
    let displaced = 0;
    for (const key of KEYS) if (bl.acquireIndex(base.hashKey(key)) !== base.lookupHashIndex(base.hashKey(key))) displaced++;
    const ns = Number(process.hrtime.bigint() - t0) / KEYS.length;
    const loads = bl.loadsByIndex();
    const cap = Math.ceil((1 + bl.epsilon) * (KEYS.length / n));
    const maxLoad = Math.max(...loads);
    extra.push({
      kind: `bounded load (ε=${bl.epsilon}) over ${kind}`,
      nodes: n,
      nsPerAcquire: ns,
      maxLoad,
      cap,
      maxOverMean: maxLoad / (KEYS.length / n),
      aboveCap: maxLoad > cap,
      displacedShare: displaced / KEYS.length,
    });
  }
}

if (asJson) {
  process.stdout.write(`${JSON.stringify({ keys: keysCount, node: process.version, rows, extra }, null, 2)}\n`);
} else {
  const fmt = (x: number, d = 3) => (Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  console.log(`keys=${keysCount} node=${process.version} gc=${gc ? 'yes' : 'no (memory = structure estimate)'}`);
  console.log('\n| algorithm | nodes | keys | build ms | memory KiB | ns/lookup | lookups/s vs hashring | max/mean | stddev/mean | moved on add (ideal) | moved on remove (ideal) | note |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const peer = rows.find((p) => p.nodes === r.nodes && p.algo.startsWith('hashring'));
    const ratio = peer ? peer.nsPerLookup / r.nsPerLookup : Number.NaN;
    console.log(
      `| ${r.algo} | ${r.nodes} | ${r.keys} | ${fmt(r.buildMs, 1)} | ${fmt(r.memoryBytes / 1024, 0)} | ${fmt(r.nsPerLookup, 0)} | ${fmt(ratio, 1)}x | ${fmt(r.maxOverMean)} | ${fmt(r.stddevOverMean)} | ${fmt(r.movedOnAdd, 4)} (${fmt(r.ideal, 4)}) | ${fmt(r.movedOnRemove, 4)} (${fmt(r.ideal, 4)}) | ${r.note} |`,
    );
  }
  console.log('\n| measure | nodes | figures |');
  console.log('|---|---|---|');
  for (const e of extra) {
    const { kind, nodes, ...rest } = e;
    const figures = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : String(v)}`)
      .join(', ');
    console.log(`| ${String(kind)} | ${String(nodes)} | ${figures} |`);
  }
}
