/**
 * An eventually consistent replicated map (seed 04.6.2: lim_{t->inf} S_i(t) = S_j(t)): an
 * LWW-Map CRDT whose updates spread by rumor mongering and whose leftovers are repaired by
 * anti-entropy, the combination Demers et al. 1987 recommend (rumors are fast but leave a residue;
 * anti-entropy is slow but complete). Anti-entropy compares bucketed digests (a one-level Merkle
 * tree over key hashes, as Dynamo and Cassandra do) and ships only the keys of differing buckets.
 * Sans-IO: the host calls `set`/`delete`/`tick`/`handleMessage` with the physical time in ms and
 * drains `pollMessages()`.
 * Leaves out: tombstone garbage collection (deleted keys keep their tombstone) and membership
 * (the host passes the peers).
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import { fnv1a32, type Rng } from '../core/rng.ts';
import { AntiEntropy, type AntiEntropyConfig, type AntiEntropyMessage, type Reconcilable } from '../gossip/anti-entropy.ts';
import type { RumorConfig } from '../gossip/config.ts';
import { type Outgoing, type PeerSource, RumorMonger, type RumorMessage } from '../gossip/rumor.ts';
import { type LwwMap, lwwMapEntries, lwwMapGet, type LwwMapSlot } from './crdt/lww-map.ts';
import { type LwwRegister, lwwEmpty, lwwMerge, lwwSet } from './crdt/lww-register.ts';
import { canonicalJson } from './crdt/types.ts';
import { type HlcConfig, HybridLogicalClock } from './hlc.ts';

/** Some keys with their registers: what a rumor or an anti-entropy delta carries. */
export type MapDelta<V> = readonly (readonly [string, LwwRegister<LwwMapSlot<V>>])[];

/** Bucket hashes, one per bucket. */
export type MapDigest = readonly number[];

export type ReplicatedMapMessage<V> = RumorMessage<MapDelta<V>> | AntiEntropyMessage<MapDigest, MapDelta<V>>;

export interface ReplicatedMapConfig {
  /** Rumor mongering of each update. */
  rumor: Partial<RumorConfig>;
  /** Anti-entropy (digest exchange) settings. */
  antiEntropy: Partial<AntiEntropyConfig>;
  /** Run one anti-entropy exchange every this many ticks. */
  antiEntropyEveryTicks: number;
  /** Digest buckets: more buckets mean smaller deltas and larger digests. */
  digestBuckets: number;
  /** Keys shipped in one anti-entropy delta at most (the rest follow in later rounds). */
  deltaKeysMax: number;
  hlc: Partial<HlcConfig>;
}

export const REPLICATED_MAP_DEFAULTS: ReplicatedMapConfig = {
  rumor: { mode: 'push-pull', stop: { kind: 'counter', k: 3 }, feedback: true },
  antiEntropy: { mode: 'push-pull' },
  antiEntropyEveryTicks: 5,
  digestBuckets: 64,
  deltaKeysMax: 256,
  hlc: {},
};

export interface ReplicatedMapStats {
  rumorsDelivered: number;
  antiEntropyKeysApplied: number;
  /** Remote stamps too far ahead of local time: merged, but the clock was not advanced. */
  driftRejected: number;
}

export class ReplicatedMap<V> {
  readonly self: NodeId;
  readonly config: ReplicatedMapConfig;
  readonly stats: ReplicatedMapStats = { rumorsDelivered: 0, antiEntropyKeysApplied: 0, driftRejected: 0 };
  /** Mutated in place, one key at a time (registers themselves are immutable); `snapshot()` copies. */
  private readonly state: Record<string, LwwRegister<LwwMapSlot<V>>> = {};
  private readonly hlc: HybridLogicalClock;
  private readonly rumor: RumorMonger<MapDelta<V>>;
  private readonly ae: AntiEntropy<MapDigest, MapDelta<V>>;
  private readonly bucketHash: (number | undefined)[];
  /** Keys per digest bucket, so a dirty bucket is rehashed without scanning the whole map. */
  private readonly bucketKeys: Set<string>[];
  private ticks = 0;
  private deltaCursor = 0;
  /** Physical time of the input being handled, for the HLC. */
  private nowMs = 0;

  constructor(opts: { self: NodeId; rng: Rng; peers: PeerSource; config?: Partial<ReplicatedMapConfig>;
    /** State recovered from disk after a restart; its stamps also advance the clock, so no stamp is reused. */
    initial?: LwwMap<V>;
    /** Physical time at construction (ms), for the clock. */
    nowMs?: number;
  }) {
    this.self = opts.self;
    this.config = { ...REPLICATED_MAP_DEFAULTS, ...opts.config };
    const c = this.config;
    if (!Number.isSafeInteger(c.digestBuckets) || c.digestBuckets < 1) throw new ConfigError(`digestBuckets must be an integer >= 1, got ${c.digestBuckets}`);
    if (!Number.isSafeInteger(c.deltaKeysMax) || c.deltaKeysMax < 1) throw new ConfigError(`deltaKeysMax must be an integer >= 1, got ${c.deltaKeysMax}`);
    if (!Number.isSafeInteger(c.antiEntropyEveryTicks) || c.antiEntropyEveryTicks < 1) {
      throw new ConfigError(`antiEntropyEveryTicks must be an integer >= 1, got ${c.antiEntropyEveryTicks}`);
    }
    this.hlc = new HybridLogicalClock(c.hlc);
    this.bucketHash = new Array<number | undefined>(c.digestBuckets).fill(undefined);
    this.bucketKeys = Array.from({ length: c.digestBuckets }, () => new Set<string>());
    this.rumor = new RumorMonger({ self: opts.self, rng: opts.rng.fork('rumor'), peers: opts.peers, config: c.rumor });
    this.ae = new AntiEntropy({ self: opts.self, rng: opts.rng.fork('anti-entropy'), peers: opts.peers, store: this.reconcilable(), config: c.antiEntropy });
    this.nowMs = opts.nowMs ?? 0;
    if (opts.initial !== undefined) this.applyDelta(Object.entries(opts.initial), true);
  }

  get(key: string): V | undefined {
    return lwwMapGet(this.state, key);
  }

  entries(): [string, V][] {
    return lwwMapEntries(this.state);
  }

  /** A copy of the CRDT state (for checkers, persistence and snapshots). */
  snapshot(): LwwMap<V> {
    return { ...this.state };
  }

  set(key: string, value: V, nowMs: number): void {
    this.nowMs = nowMs;
    this.setRegister(key, lwwSet<LwwMapSlot<V>>(this.state[key] ?? lwwEmpty(), { kind: 'value', value }, this.hlc.now(nowMs), this.self));
    this.localUpdate(key);
  }

  delete(key: string, nowMs: number): void {
    this.nowMs = nowMs;
    this.setRegister(key, lwwSet<LwwMapSlot<V>>(this.state[key] ?? lwwEmpty(), { kind: 'deleted' }, this.hlc.now(nowMs), this.self));
    this.localUpdate(key);
  }

  /** One gossip round; every `antiEntropyEveryTicks` rounds also one anti-entropy exchange. */
  tick(nowMs: number): void {
    this.nowMs = nowMs;
    this.ticks += 1;
    this.rumor.tick();
    if (this.ticks % this.config.antiEntropyEveryTicks === 0) this.ae.tick();
  }

  handleMessage(from: NodeId, msg: ReplicatedMapMessage<V>, nowMs: number): void {
    this.nowMs = nowMs;
    switch (msg.type) {
      case 'rumor-push':
      case 'rumor-pull':
      case 'rumor-reply':
      case 'rumor-feedback':
        this.rumor.handleMessage(from, msg);
        for (const r of this.rumor.pollDelivered()) {
          this.stats.rumorsDelivered += 1;
          this.applyDelta(r.payload, true);
        }
        break;
      case 'ae-digest':
      case 'ae-reply':
      case 'ae-delta':
        this.ae.handleMessage(from, msg);
        break;
      default:
        unreachable(msg, 'replicated map message');
    }
  }

  pollMessages(): Outgoing<ReplicatedMapMessage<V>>[] {
    return [...this.rumor.pollMessages(), ...this.ae.pollMessages()];
  }

  /** Digest of the whole map: equal digests mean (with high probability) equal states. */
  digest(): MapDigest {
    return this.bucketDigest();
  }

  private setRegister(key: string, reg: LwwRegister<LwwMapSlot<V>> | undefined): void {
    if (reg === undefined) return;
    this.state[key] = reg;
    const b = this.bucketOf(key);
    this.bucketHash[b] = undefined;
    this.bucketKeys[b]?.add(key);
  }

  private localUpdate(key: string): void {
    const reg = this.state[key];
    if (reg !== undefined) this.rumor.broadcast([[key, reg]]);
  }

  private applyDelta(delta: MapDelta<V>, advanceClock: boolean): void {
    for (const [key, reg] of delta) {
      if (advanceClock && reg.entry !== undefined) {
        try {
          this.hlc.receive(reg.entry.stamp, this.nowMs);
        } catch {
          this.stats.driftRejected += 1;
        }
      }
      const before = this.state[key];
      const merged = lwwMerge(before ?? { entry: undefined }, reg);
      if (merged !== before && merged.entry !== undefined) this.setRegister(key, merged);
    }
  }

  private bucketOf(key: string): number {
    return fnv1a32(key) % this.config.digestBuckets;
  }

  private bucketDigest(): number[] {
    const dirty: number[] = [];
    for (let b = 0; b < this.bucketHash.length; b++) if (this.bucketHash[b] === undefined) dirty.push(b);
    for (const b of dirty) {
      const parts: string[] = [];
      for (const key of [...(this.bucketKeys[b] ?? [])].sort()) {
        parts.push(`${key}\u0000${canonicalJson(this.state[key]?.entry?.stamp ?? null)}`);
      }
      this.bucketHash[b] = fnv1a32(parts.join('\u0001'));
    }
    return this.bucketHash.map((h) => h ?? 0);
  }

  private reconcilable(): Reconcilable<MapDigest, MapDelta<V>> {
    return {
      digest: () => this.bucketDigest(),
      deltaFor: (remote) => {
        const mine = this.bucketDigest();
        if (remote.length !== mine.length) return undefined; // a peer with another bucket count: no comparison possible
        const differing = new Set<number>();
        for (let b = 0; b < mine.length; b++) if (mine[b] !== remote[b]) differing.add(b);
        if (differing.size === 0) return undefined;
        const keys: string[] = [];
        for (const b of differing) for (const key of this.bucketKeys[b] ?? []) keys.push(key);
        keys.sort();
        // More differing keys than one delta may carry: a window that moves every exchange, so
        // every key is eventually shipped even when the first ones already agree.
        const start = keys.length > this.config.deltaKeysMax ? (this.deltaCursor++ * this.config.deltaKeysMax) % keys.length : 0;
        const out: [string, LwwRegister<LwwMapSlot<V>>][] = [];
        for (let i = 0; i < Math.min(keys.length, this.config.deltaKeysMax); i++) {
          const key = keys[(start + i) % keys.length] as string;
          out.push([key, this.state[key] as LwwRegister<LwwMapSlot<V>>]);
        }
        return out.length > 0 ? out : undefined;
      },
      apply: (delta) => {
        this.stats.antiEntropyKeysApplied += delta.length;
        this.applyDelta(delta, true);
      },
    };
  }
}
