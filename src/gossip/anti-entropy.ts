/**
 * Anti-entropy, sans-IO (Demers et al. 1987, section 1.3): every round a node picks a random peer
 * and the two reconcile their whole replicas, so every update eventually reaches everyone, with
 * probability 1, whatever rumor mongering left behind. To keep exchanges small the replicas swap
 * a digest first (a checksum list, a version vector, a Merkle level: whatever the store chooses)
 * and then only the difference; a store whose digest is its full state gives the plain "full
 * exchange" variant.
 *
 * Exchange per mode, initiator A and partner B:
 *   push:      A -> B ae-digest(A); B -> A ae-reply(digest(B)); A -> B ae-delta (what B lacks)
 *   pull:      A -> B ae-digest(A); B -> A ae-reply(delta B has and A lacks)
 *   push-pull: A -> B ae-digest(A); B -> A ae-reply(delta, digest(B)); A -> B ae-delta
 * Leaves out: connection limits and hunting (Demers section 1.5); peers are sampled uniformly.
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { GossipMode } from './config.ts';
import type { Outgoing, PeerSource } from './rumor.ts';

/** A replica that can summarize itself, compute what another replica lacks, and absorb a delta. */
export interface Reconcilable<D, X> {
  digest(): D;
  /** What a replica with digest `remote` is missing from this one; undefined when nothing. */
  deltaFor(remote: D): X | undefined;
  /** Merges a delta from a peer (must be idempotent and commutative: a CRDT join). */
  apply(delta: X, from: NodeId): void;
}

export type AntiEntropyMessage<D, X> =
  | { readonly type: 'ae-digest'; readonly digest: D; readonly mode: GossipMode }
  | { readonly type: 'ae-reply'; readonly delta: X | undefined; readonly digest: D | undefined }
  | { readonly type: 'ae-delta'; readonly delta: X };

export interface AntiEntropyConfig {
  mode: GossipMode;
  /** Partners contacted per round. */
  fanout: number;
  /** Round length for hosts that drive `tick()` from a timer (ms). */
  intervalMs: number;
}

export const ANTI_ENTROPY_DEFAULTS: AntiEntropyConfig = { mode: 'push-pull', fanout: 1, intervalMs: 1000 };

export interface AntiEntropyStats {
  rounds: number;
  messagesSent: number;
  deltasSent: number;
  deltasApplied: number;
}

export class AntiEntropy<D, X> {
  readonly self: NodeId;
  readonly config: AntiEntropyConfig;
  readonly stats: AntiEntropyStats = { rounds: 0, messagesSent: 0, deltasSent: 0, deltasApplied: 0 };
  private readonly rng: Rng;
  private readonly peers: PeerSource;
  private readonly store: Reconcilable<D, X>;
  private outbox: Outgoing<AntiEntropyMessage<D, X>>[] = [];

  constructor(opts: { self: NodeId; rng: Rng; peers: PeerSource; store: Reconcilable<D, X>; config?: Partial<AntiEntropyConfig> }) {
    this.self = opts.self;
    this.rng = opts.rng;
    this.peers = opts.peers;
    this.store = opts.store;
    this.config = { ...ANTI_ENTROPY_DEFAULTS, ...opts.config };
    if (!Number.isSafeInteger(this.config.fanout) || this.config.fanout < 1) {
      throw new ConfigError(`anti-entropy fanout must be an integer >= 1, got ${this.config.fanout}`);
    }
    if (!(this.config.intervalMs > 0)) throw new ConfigError(`anti-entropy intervalMs must be > 0 ms, got ${this.config.intervalMs}`);
  }

  /** One anti-entropy round: start an exchange with `fanout` random peers. */
  tick(): void {
    this.stats.rounds += 1;
    const others = this.peers().filter((p) => p !== this.self);
    const chosen = this.rng.shuffle(others).slice(0, this.config.fanout);
    for (const to of chosen) this.send(to, { type: 'ae-digest', digest: this.store.digest(), mode: this.config.mode });
  }

  handleMessage(from: NodeId, msg: AntiEntropyMessage<D, X>): void {
    switch (msg.type) {
      case 'ae-digest': {
        const wantsPull = msg.mode !== 'push';
        const wantsPush = msg.mode !== 'pull';
        const delta = wantsPull ? this.store.deltaFor(msg.digest) : undefined;
        if (delta !== undefined) this.stats.deltasSent += 1;
        if (delta !== undefined || wantsPush) {
          this.send(from, { type: 'ae-reply', delta, digest: wantsPush ? this.store.digest() : undefined });
        }
        break;
      }
      case 'ae-reply': {
        if (msg.delta !== undefined) this.applyDelta(msg.delta, from);
        if (msg.digest !== undefined) {
          const delta = this.store.deltaFor(msg.digest);
          if (delta !== undefined) {
            this.stats.deltasSent += 1;
            this.send(from, { type: 'ae-delta', delta });
          }
        }
        break;
      }
      case 'ae-delta':
        this.applyDelta(msg.delta, from);
        break;
      default:
        unreachable(msg, 'anti-entropy message');
    }
  }

  pollMessages(): Outgoing<AntiEntropyMessage<D, X>>[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  private applyDelta(delta: X, from: NodeId): void {
    this.stats.deltasApplied += 1;
    this.store.apply(delta, from);
  }

  private send(to: NodeId, msg: AntiEntropyMessage<D, X>): void {
    this.stats.messagesSent += 1;
    this.outbox.push({ to, msg });
  }
}
