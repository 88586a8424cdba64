/**
 * Consistent hash by request key (seed 04.7.4: L_CH(k) = argmin_j hash(k, j), realised as a
 * ring): sticky sessions. The ring spans *all* endpoints, so an ejected or unhealthy endpoint
 * only moves its own keys (to the next eligible point clockwise) and they come back when it
 * returns. Requests without a key go to a seeded-random candidate. The ring is replaceable
 * through `KeyRingFactory` (e.g. by the placement module's Maglev or bounded-load rings).
 */
import type { Rng } from '../core/rng.ts';
import { hash32, type KeyRing, type KeyRingFactory, virtualNodeRing } from './key-ring.ts';
import type { CandidateSet, EndpointView, Picker, PickRequest } from './types.ts';

export class ConsistentHashPicker implements Picker {
  readonly policy = 'consistent-hash' as const;
  private readonly rng: Rng;
  private readonly ringFactory: KeyRingFactory;
  private ring: KeyRing | undefined;
  private membership = -1;
  private bySlot: EndpointView[] = [];

  constructor(rng: Rng, ringFactory: KeyRingFactory = virtualNodeRing) {
    this.rng = rng;
    this.ringFactory = ringFactory;
  }

  pick(candidates: CandidateSet, request: PickRequest): EndpointView {
    const list = candidates.list;
    if (request.key === undefined) return list[this.rng.int(list.length)] as EndpointView;
    if (this.ring === undefined || candidates.membership !== this.membership) {
      this.membership = candidates.membership;
      this.bySlot = [];
      for (const e of candidates.all) this.bySlot[e.slot] = e;
      this.ring = this.ringFactory(candidates.all.map((e) => ({ id: e.id, slot: e.slot, weight: e.weight })));
    }
    const slot = this.ring.lookup(hash32(request.key), (s) => candidates.isCandidate(s));
    return slot === undefined ? (list[0] as EndpointView) : (this.bySlot[slot] as EndpointView);
  }
}
