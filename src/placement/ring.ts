/**
 * Consistent hashing ring with virtual nodes (Karger et al., 1997; seed 04.7.4): every node
 * owns `round(pointsPerWeight · weight)` points on a 32-bit circle, and a key belongs to the
 * owner of the first point at or after the key's hash (wrapping). Adding or removing a node
 * moves only the keys on the arcs its points cover, about 1/(n+1) of them.
 *
 * Two point schemes:
 * - `ring` (default): point j of node `id` is murmur3(id, seed j). A node's point count depends
 *   only on its own weight, so changing one weight moves keys only to or from that node.
 * - `ketama`: libketama's continuum, bit for bit: 40·n·w/Σw md5 digests of "id-k" per node, four
 *   little-endian points per digest (160 per node at equal weight), keys hashed with md5. Lookups
 *   agree with libketama and npm `hashring`; changing one weight reshuffles every node's share.
 *
 * Lookup: binary search over a sorted Uint32Array narrowed by a bucket index on the top bits of
 * the hash, so a lookup reads O(1) cache lines. Ties between equal points go to the node first in
 * canonical (id) order, so the ring does not depend on the order nodes were given in.
 *
 * Left out: incremental insertion (a ring is rebuilt by `withNodes`, O(P log P) for P points).
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.ts';
import { placementHash } from './hash.ts';
import { canonicalNodes, checkCount, preferenceCollector, weightOf } from './nodes.ts';
import type { NodeSpec, PlacementKind, PreferenceOptions, WalkablePlacement } from './types.ts';

export interface RingOptions {
  /** Points per unit of weight (default 160, as ketama). */
  readonly pointsPerWeight?: number;
  /** Point scheme: `ring` (murmur3, default) or `ketama` (libketama-compatible md5 continuum). */
  readonly mode?: 'ring' | 'ketama';
}

/** Upper bound on the total number of points on one ring (8 bytes each plus the index). */
export const RING_POINTS_MAX = 16_000_000;
export const RING_POINTS_PER_WEIGHT_DEFAULT = 160;

function md5(text: string): Buffer {
  return createHash('md5').update(text).digest();
}

/** libketama's key hash: the first four bytes of md5, little-endian. */
export function ketamaHash(key: string): number {
  const d = md5(key);
  return ((d[3] as number) << 24) | ((d[2] as number) << 16) | ((d[1] as number) << 8) | (d[0] as number);
}

interface Points {
  readonly points: Uint32Array;
  readonly owners: Uint32Array;
}

function sortPoints(pointList: Float64Array, indexBits: number): Points {
  // Each entry is point · 2^indexBits + nodeIndex: one numeric sort orders by point, then node.
  pointList.sort();
  const shift = 2 ** indexBits;
  const points = new Uint32Array(pointList.length);
  const owners = new Uint32Array(pointList.length);
  for (let i = 0; i < pointList.length; i++) {
    const v = pointList[i] as number;
    const p = Math.floor(v / shift);
    points[i] = p;
    owners[i] = v - p * shift;
  }
  return { points, owners };
}

function buildRingPoints(nodes: readonly NodeSpec[], pointsPerWeight: number): Points {
  const counts = nodes.map((n) => Math.max(1, Math.round(pointsPerWeight * weightOf(n))));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > RING_POINTS_MAX) throw new ConfigError(`ring: ${total} points exceed the limit of ${RING_POINTS_MAX}; lower pointsPerWeight or weights`);
  const indexBits = Math.max(1, Math.ceil(Math.log2(nodes.length + 1)));
  const list = new Float64Array(total);
  let k = 0;
  for (let i = 0; i < nodes.length; i++) {
    const id = (nodes[i] as NodeSpec).id;
    const c = counts[i] as number;
    for (let j = 0; j < c; j++) list[k++] = placementHash(id, j) * 2 ** indexBits + i;
  }
  return sortPoints(list, indexBits);
}

function buildKetamaPoints(nodes: readonly NodeSpec[]): Points {
  const totalWeight = nodes.reduce((a, n) => a + weightOf(n), 0);
  const counts = nodes.map((n) => Math.floor((weightOf(n) / totalWeight) * 40 * nodes.length));
  const total = counts.reduce((a, b) => a + b * 4, 0);
  if (total === 0) throw new ConfigError('ketama: no node has enough weight for a single point');
  if (total > RING_POINTS_MAX) throw new ConfigError(`ketama: ${total} points exceed the limit of ${RING_POINTS_MAX}`);
  const indexBits = Math.max(1, Math.ceil(Math.log2(nodes.length + 1)));
  const list = new Float64Array(total);
  let k = 0;
  for (let i = 0; i < nodes.length; i++) {
    const id = (nodes[i] as NodeSpec).id;
    for (let j = 0; j < (counts[i] as number); j++) {
      const d = md5(`${id}-${j}`);
      for (let h = 0; h < 4; h++) {
        const p = (((d[3 + h * 4] as number) << 24) | ((d[2 + h * 4] as number) << 16) | ((d[1 + h * 4] as number) << 8) | (d[h * 4] as number)) >>> 0;
        list[k++] = p * 2 ** indexBits + i;
      }
    }
  }
  return sortPoints(list, indexBits);
}

export class Ring implements WalkablePlacement {
  readonly kind: PlacementKind;
  readonly nodes: readonly NodeSpec[];
  readonly memoryBytes: number;
  private readonly options: RingOptions;
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;
  /** bucketStart[b] = first point index whose top `bucketBits` bits are >= b. */
  private readonly bucketStart: Uint32Array;
  private readonly bucketShift: number;
  /** Per-node visit stamps for `walk` (avoids a Set per call). */
  private readonly stamps: Uint32Array;
  private epoch = 0;

  constructor(nodes: readonly NodeSpec[], options: RingOptions = {}) {
    const mode = options.mode ?? 'ring';
    this.kind = mode;
    this.options = options;
    this.nodes = canonicalNodes(nodes, mode);
    const pointsPerWeight = options.pointsPerWeight ?? RING_POINTS_PER_WEIGHT_DEFAULT;
    if (mode === 'ring' && (!Number.isFinite(pointsPerWeight) || pointsPerWeight < 1)) {
      throw new ConfigError(`ring: pointsPerWeight must be >= 1, got ${pointsPerWeight}`);
    }
    const { points, owners } = mode === 'ketama' ? buildKetamaPoints(this.nodes) : buildRingPoints(this.nodes, pointsPerWeight);
    this.points = points;
    this.owners = owners;
    // About one bucket per point, between 2^4 and 2^20 buckets.
    const bucketBits = Math.min(20, Math.max(4, Math.ceil(Math.log2(points.length))));
    this.bucketShift = 32 - bucketBits;
    const buckets = 2 ** bucketBits;
    this.bucketStart = new Uint32Array(buckets + 1);
    let i = 0;
    for (let b = 0; b <= buckets; b++) {
      while (i < points.length && (points[i] as number) >>> this.bucketShift < b) i++;
      this.bucketStart[b] = i;
    }
    this.stamps = new Uint32Array(this.nodes.length);
    this.memoryBytes = points.byteLength + owners.byteLength + this.bucketStart.byteLength;
  }

  /** Number of points on the ring. */
  get pointCount(): number {
    return this.points.length;
  }

  hashKey(key: string): number {
    return this.kind === 'ketama' ? ketamaHash(key) >>> 0 : placementHash(key);
  }

  /** Index into the points array of the first point >= hash (0 after the last point). */
  private position(hash: number): number {
    const b = hash >>> this.bucketShift;
    let lo = this.bucketStart[b] as number;
    let hi = this.bucketStart[b + 1] as number;
    const points = this.points;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  lookupHashIndex(hash: number): number {
    return this.owners[this.position(hash >>> 0)] as number;
  }

  lookupIndex(key: string): number {
    return this.lookupHashIndex(this.hashKey(key));
  }

  lookup(key: string): string {
    return (this.nodes[this.lookupIndex(key)] as NodeSpec).id;
  }

  walk(hash: number, visit: (index: number) => boolean): void {
    const n = this.nodes.length;
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const len = this.points.length;
    let p = this.position(hash >>> 0);
    let seen = 0;
    for (let step = 0; step < len && seen < n; step++) {
      const owner = this.owners[p] as number;
      if (this.stamps[owner] !== epoch) {
        this.stamps[owner] = epoch;
        seen++;
        if (visit(owner)) return;
      }
      p = p + 1 === len ? 0 : p + 1;
    }
  }

  preference(key: string, count: number, options?: PreferenceOptions): string[] {
    checkCount(count);
    const { visit, out } = preferenceCollector(this.nodes, count, options);
    this.walk(this.hashKey(key), visit);
    return out;
  }

  withNodes(nodes: readonly NodeSpec[]): Ring {
    return new Ring(nodes, this.options);
  }
}

export function createRing(nodes: readonly NodeSpec[], options: RingOptions = {}): Ring {
  return new Ring(nodes, options);
}

/** A libketama-compatible ring (160 points per node at equal weight, md5). */
export function createKetama(nodes: readonly NodeSpec[]): Ring {
  return new Ring(nodes, { mode: 'ketama' });
}
