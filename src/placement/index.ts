/**
 * Placement: consistent hashing behind one interface (seed 04.2.3 shard distribution f: D → N,
 * seed 04.7.4 consistent hashing). `createPlacement` builds any kind by name, for the CLI and for
 * code that takes the algorithm from configuration.
 */
import { ConfigError } from '../core/errors.ts';
import { unreachable } from '../core/assert.ts';
import { Jump } from './jump.ts';
import { Maglev } from './maglev.ts';
import { Rendezvous } from './rendezvous.ts';
import { Ring } from './ring.ts';
import type { NodeSpec, Placement, PlacementKind } from './types.ts';

export type { BoundedLoadOptions } from './bounded-load.ts';
export { BOUNDED_LOAD_EPSILON_DEFAULT, BoundedLoad, createBoundedLoad } from './bounded-load.ts';
export type { HashName } from './hash.ts';
export { fmix32, fnv1a, HASHES, mix2, murmur3, murmur3Bytes, placementHash, xxh32, xxh32Bytes } from './hash.ts';
export { createJump, Jump, jumpHash } from './jump.ts';
export type { MaglevOptions } from './maglev.ts';
export { createMaglev, isPrime, MAGLEV_TABLE_SIZE_DEFAULT, MAGLEV_TABLE_SIZE_MAX, Maglev } from './maglev.ts';
export { NODES_MAX } from './nodes.ts';
export { createRendezvous, Rendezvous } from './rendezvous.ts';
export type { RingOptions } from './ring.ts';
export { createKetama, createRing, ketamaHash, RING_POINTS_MAX, RING_POINTS_PER_WEIGHT_DEFAULT, Ring } from './ring.ts';
export type { NodeSpec, Placement, PlacementKind, PreferenceOptions, WalkablePlacement } from './types.ts';

export const PLACEMENT_KINDS: readonly PlacementKind[] = ['ring', 'ketama', 'rendezvous', 'jump', 'maglev'];

export interface PlacementOptions {
  /** ring: points per unit of weight. */
  readonly pointsPerWeight?: number;
  /** maglev: table size (prime). */
  readonly tableSize?: number;
}

export function isPlacementKind(value: string): value is PlacementKind {
  return (PLACEMENT_KINDS as readonly string[]).includes(value);
}

export function createPlacement(kind: PlacementKind, nodes: readonly NodeSpec[], options: PlacementOptions = {}): Placement {
  switch (kind) {
    case 'ring':
      return new Ring(nodes, options.pointsPerWeight === undefined ? {} : { pointsPerWeight: options.pointsPerWeight });
    case 'ketama':
      return new Ring(nodes, { mode: 'ketama' });
    case 'rendezvous':
      return new Rendezvous(nodes);
    case 'jump':
      return new Jump(nodes);
    case 'maglev':
      return new Maglev(nodes, options.tableSize === undefined ? {} : { tableSize: options.tableSize });
    default:
      return unreachable(kind, 'placement kind');
  }
}

/** Parses a placement kind from user input. */
export function parsePlacementKind(value: string, what = 'algorithm'): PlacementKind {
  if (!isPlacementKind(value)) throw new ConfigError(`${what} must be one of ${PLACEMENT_KINDS.join(', ')}; got ${JSON.stringify(value)}`);
  return value;
}
export type { RebalancePlan, ShardMapOptions, ShardMove } from './shard-map.ts';
export { apportion, apportionByZone, CHAIN_WORK_MAX, planRebalance, REPLICAS_MAX, SHARDS_MAX, ShardMap } from './shard-map.ts';
