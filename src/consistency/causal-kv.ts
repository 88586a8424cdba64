/**
 * A causally consistent key-value store (seed 04.6.3; the causal+ consistency of COPS, Lloyd et
 * al. 2011) built on `CausalBroadcast`: every put is broadcast, and every replica applies puts in
 * causal delivery order, so a reader never sees an effect without its causes. Concurrent puts to
 * one key are resolved last-writer-wins on (Lamport time, origin), which every replica computes
 * alike, so replicas also converge; a put that causally follows another always has the larger
 * Lamport time and wins.
 * Reads are local (they never block). Leaves out: read-only transactions and explicit dependency
 * tracking across keys beyond what causal broadcast gives.
 */
import { compareNodeIds, type NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { Outgoing } from '../gossip/rumor.ts';
import {
  CausalBroadcast,
  type CausalBroadcastConfig,
  type CausalBroadcastMessage,
  type CausalMessage,
  type Delivery,
} from './causal-broadcast.ts';
import { LamportClock } from './lamport.ts';

export interface KvPut<V> {
  readonly key: string;
  readonly value: V;
  readonly lamport: number;
}

interface Slot<V> {
  value: V;
  lamport: number;
  origin: NodeId;
}

export class CausalKv<V> {
  readonly self: NodeId;
  private readonly cb: CausalBroadcast<KvPut<V>>;
  private readonly lamport = new LamportClock();
  private readonly data = new Map<string, Slot<V>>();
  private applied: Delivery<KvPut<V>>[] = [];

  constructor(opts: {
    self: NodeId;
    group: readonly NodeId[];
    rng: Rng;
    config?: Partial<CausalBroadcastConfig>;
    recovered?: readonly CausalMessage<KvPut<V>>[];
  }) {
    this.self = opts.self;
    const recovered = opts.recovered ?? [];
    this.cb = new CausalBroadcast({ ...opts, recovered });
    for (const m of recovered) this.apply(m);
  }

  get(key: string): V | undefined {
    return this.data.get(key)?.value;
  }

  /** Sorted live entries. */
  entries(): [string, V][] {
    return [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, s]) => [k, s.value]);
  }

  /** Writes locally (visible at once) and broadcasts. May throw `overloaded` (see CausalBroadcast.broadcast). */
  put(key: string, value: V): CausalMessage<KvPut<V>> {
    const m = this.cb.broadcast({ key, value, lamport: this.lamport.tick() });
    this.drain();
    return m;
  }

  tick(): void {
    this.cb.tick();
  }

  handleMessage(from: NodeId, msg: CausalBroadcastMessage<KvPut<V>>): void {
    this.cb.handleMessage(from, msg);
    this.drain();
  }

  pollMessages(): Outgoing<CausalBroadcastMessage<KvPut<V>>>[] {
    return this.cb.pollMessages();
  }

  /** Puts applied since the last call, in the order applied (persist them before sending). */
  pollApplied(): Delivery<KvPut<V>>[] {
    const out = this.applied;
    this.applied = [];
    return out;
  }

  clock() {
    return this.cb.clock();
  }

  get broadcast(): CausalBroadcast<KvPut<V>> {
    return this.cb;
  }

  private drain(): void {
    for (const d of this.cb.pollDelivered()) {
      this.apply(d.msg);
      this.applied.push(d);
    }
  }

  private apply(m: CausalMessage<KvPut<V>>): void {
    const put = m.payload;
    this.lamport.receive(put.lamport);
    const cur = this.data.get(put.key);
    const newer = cur === undefined || put.lamport > cur.lamport || (put.lamport === cur.lamport && compareNodeIds(m.origin, cur.origin) > 0);
    if (newer) this.data.set(put.key, { value: put.value, lamport: put.lamport, origin: m.origin });
  }
}
