/**
 * A small consistent-hash ring with virtual nodes (Karger et al. 1997), used by the
 * `consistent-hash` picker through the tiny `KeyRing` interface. The placement module's rings
 * (ketama, Maglev, bounded load) implement the same shape and can replace this one: pass a
 * different `KeyRingFactory` to `ConsistentHashPicker`.
 *
 * Points per endpoint: `pointsPerWeight · weight` (rounded, at least 1), at
 * hash32(`${id}#${i}`). Leaves out: bounded load (see placement), ketama compatibility.
 */
import { fnv1a32 } from '../core/rng.ts';

export interface KeyRingNode {
  readonly id: string;
  readonly slot: number;
  readonly weight: number;
}

export interface KeyRing {
  /**
   * The slot owning `hash`, walking clockwise past slots `accept` rejects; `undefined` when no
   * slot is accepted.
   */
  lookup(hash: number, accept: (slot: number) => boolean): number | undefined;
}

export type KeyRingFactory = (nodes: readonly KeyRingNode[]) => KeyRing;

/** 32-bit hash: FNV-1a followed by the murmur3 finalizer (FNV alone is weak in its low bits). */
export function hash32(text: string): number {
  let h = fnv1a32(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface VirtualNodeRingOptions {
  /** Ring points per unit of weight. Default 160 (ketama's count per server). */
  readonly pointsPerWeight?: number;
  /** Upper bound on total points, to bound memory. Default 1_000_000. */
  readonly pointsMax?: number;
}

export class VirtualNodeRing implements KeyRing {
  private readonly hashes: Uint32Array;
  private readonly slots: Int32Array;

  constructor(nodes: readonly KeyRingNode[], options: VirtualNodeRingOptions = {}) {
    const perWeight = options.pointsPerWeight ?? 160;
    const pointsMax = options.pointsMax ?? 1_000_000;
    const points: { h: number; slot: number }[] = [];
    const totalWeight = nodes.reduce((s, n) => s + n.weight, 0);
    const scale = Math.min(1, pointsMax / Math.max(1, totalWeight * perWeight));
    for (const node of nodes) {
      const count = Math.max(1, Math.round(node.weight * perWeight * scale));
      for (let i = 0; i < count; i++) points.push({ h: hash32(`${node.id}#${i}`), slot: node.slot });
    }
    // Sort by hash; ties (rare) by slot so the ring is the same whatever the input order.
    points.sort((a, b) => a.h - b.h || a.slot - b.slot);
    this.hashes = Uint32Array.from(points, (p) => p.h);
    this.slots = Int32Array.from(points, (p) => p.slot);
  }

  get size(): number {
    return this.hashes.length;
  }

  lookup(hash: number, accept: (slot: number) => boolean): number | undefined {
    const n = this.hashes.length;
    if (n === 0) return undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.hashes[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    for (let k = 0; k < n; k++) {
      const slot = this.slots[(lo + k) % n] as number;
      if (accept(slot)) return slot;
    }
    return undefined;
  }
}

export const virtualNodeRing: KeyRingFactory = (nodes) => new VirtualNodeRing(nodes);
