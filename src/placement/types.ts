/**
 * The one consistent-hashing interface every placement implements (seed 04.7.4, consistent
 * hashing: L_CH(k) = argmin_j hash(k, j), and seed 04.2.3, shard distribution f: D → N), and the
 * node description they share. Implementations: ring.ts (virtual nodes, ketama mode),
 * rendezvous.ts (HRW), jump.ts (Lamping & Veach), maglev.ts (Eisenbud et al.); bounded-load.ts
 * wraps any placement that can walk its preference order.
 *
 * Left out: mutation in place. A placement is immutable; `withNodes` builds the next one, so a
 * reader never sees a half-built table and the old and new mappings can be compared (that is
 * how rebalance plans and disruption are measured).
 */
import type { NodeId } from '../core/ids.ts';

export interface NodeSpec {
  readonly id: NodeId;
  /** Relative capacity, > 0. Default 1. */
  readonly weight?: number;
  /** Failure domain (rack, zone, region) for zone-distinct preference lists. */
  readonly zone?: string;
}

export type PlacementKind = 'ring' | 'ketama' | 'rendezvous' | 'jump' | 'maglev';

export interface PreferenceOptions {
  /** Only one node per zone in the list (nodes without a zone count as their own zone). */
  readonly distinctZones?: boolean;
}

export interface Placement {
  readonly kind: PlacementKind;
  /** The nodes in canonical order; `lookupIndex` returns an index into this array. */
  readonly nodes: readonly NodeSpec[];
  /** The node that owns `key`. */
  lookup(key: string): NodeId;
  /** Index into `nodes` of the node that owns `key` (no string work after hashing). */
  lookupIndex(key: string): number;
  /** The 32-bit hash this placement gives `key` (murmur3, or md5 in ketama mode). */
  hashKey(key: string): number;
  /** Index into `nodes` of the owner of a key hash from `hashKey`. */
  lookupHashIndex(hash: number): number;
  /**
   * Up to `count` distinct nodes in this placement's preference order for `key`; the first is
   * `lookup(key)`. Fewer than `count` only if there are fewer nodes (or zones, with
   * `distinctZones`). Throws for placements without a preference order (jump).
   */
  preference(key: string, count: number, options?: PreferenceOptions): NodeId[];
  /** A placement of the same kind and options over `nodes`. */
  withNodes(nodes: readonly NodeSpec[]): Placement;
  /** Approximate bytes held by the lookup structure (tables and points, not node specs). */
  readonly memoryBytes: number;
}

/**
 * A placement that can enumerate node indexes in its own preference order for a key hash,
 * starting with the owner. Bounded-load hashing walks this order past full nodes.
 */
export interface WalkablePlacement extends Placement {
  /** Calls `visit(index)` for distinct node indexes in preference order until it returns true. */
  walk(hash: number, visit: (index: number) => boolean): void;
}
