/**
 * Adapter from the placement module (ring with virtual nodes, ketama, rendezvous/HRW, Maglev)
 * to the `KeyRing` the `consistent-hash` picker uses, so sticky balancing can use any of those
 * tables. Ineligible endpoints are skipped by walking the placement's own preference order
 * (`WalkablePlacement.walk`), so only the keys of an unhealthy endpoint move, to the endpoint
 * the placement would have chosen next for them. Jump hash has no preference order and is not
 * offered.
 */
import { unreachable } from '../core/assert.ts';
import { createKetama, createMaglev, createRendezvous, createRing } from '../placement/index.ts';
import type { WalkablePlacement } from '../placement/types.ts';
import type { KeyRing, KeyRingFactory, KeyRingNode } from './key-ring.ts';
import { virtualNodeRing } from './key-ring.ts';

export const KEY_RING_KINDS = ['builtin', 'ring', 'ketama', 'rendezvous', 'maglev'] as const;
export type KeyRingKind = (typeof KEY_RING_KINDS)[number];

class PlacementKeyRing implements KeyRing {
  private readonly placement: WalkablePlacement;
  /** Placement node index → balancer slot. */
  private readonly slotOf: number[];

  constructor(nodes: readonly KeyRingNode[], build: (nodes: { id: string; weight: number }[]) => WalkablePlacement) {
    this.placement = build(nodes.map((n) => ({ id: n.id, weight: n.weight })));
    const byId = new Map(nodes.map((n) => [n.id, n.slot]));
    this.slotOf = this.placement.nodes.map((spec) => byId.get(spec.id) as number);
  }

  lookup(key: string, accept: (slot: number) => boolean): number | undefined {
    let found: number | undefined;
    this.placement.walk(this.placement.hashKey(key), (index) => {
      const slot = this.slotOf[index] as number;
      if (!accept(slot)) return false;
      found = slot;
      return true;
    });
    return found;
  }
}

/** A `KeyRingFactory` for a placement kind; `builtin` is balancing's own virtual-node ring. */
export function placementKeyRing(kind: KeyRingKind): KeyRingFactory {
  switch (kind) {
    case 'builtin':
      return virtualNodeRing;
    case 'ring':
      return (nodes) => new PlacementKeyRing(nodes, (n) => createRing(n));
    case 'ketama':
      return (nodes) => new PlacementKeyRing(nodes, (n) => createKetama(n));
    case 'rendezvous':
      return (nodes) => new PlacementKeyRing(nodes, (n) => createRendezvous(n));
    case 'maglev':
      return (nodes) => new PlacementKeyRing(nodes, (n) => createMaglev(n));
    default:
      return unreachable(kind, 'key ring kind');
  }
}
