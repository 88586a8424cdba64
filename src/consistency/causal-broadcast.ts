/**
 * Causal broadcast with vector clocks (Birman, Schiper, Stephenson 1991, "Lightweight causal and
 * atomic group multicast"), seed 04.6.3: o_i ≺ o_j ⇒ order(o_i) < order(o_j) at every member.
 * A message m broadcast by j carries VC_m (j's clock after counting m). Member i delivers m when
 *   VC_m[j] = local[j] + 1  and  VC_m[k] <= local[k] for every k != j,
 * and otherwise holds it in a bounded buffer. The network may lose, duplicate and reorder, so
 * members also run anti-entropy: every round one random peer gets my clock (`cb-sync`) and answers
 * with the delivered messages I lack from its retention log; a sync also acknowledges, and a
 * message every member has acknowledged is stable and leaves the log.
 *
 * Drain order for hosts: persist the records from `pollDelivered()` (and fsync the node's own
 * broadcasts) before sending `pollMessages()`, so a crash never reuses a sequence number. A
 * restarted member passes what it recovered to the constructor.
 * Leaves out: dynamic groups (the group is fixed at construction), total order (see Raft).
 */
import { unreachable } from '../core/assert.ts';
import { ConfigError, DefiniteError } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { Outgoing } from '../gossip/rumor.ts';
import { type VectorClock, vcGet } from './vector-clock.ts';

export interface CausalMessage<P> {
  readonly origin: NodeId;
  /** = vc[origin]: the origin's broadcast count including this one. */
  readonly seq: number;
  readonly vc: VectorClock;
  readonly payload: P;
}

export type CausalBroadcastMessage<P> =
  | { readonly type: 'cb-data'; readonly msgs: readonly CausalMessage<P>[] }
  /** My delivered clock: "send me what I lack" (and, when `reply` is false, "tell me yours"). */
  | { readonly type: 'cb-sync'; readonly vc: VectorClock; readonly reply: boolean };

export interface CausalBroadcastConfig {
  /** Messages received early (not yet deliverable) held at most; beyond this they are dropped and repaired later. */
  bufferMax: number;
  /** Delivered messages retained for repair at most (own broadcasts are refused when it is full of unstable ones). */
  logMax: number;
  /** Messages in one repair reply at most. */
  repairBatchMax: number;
  /** Round length for hosts that drive `tick()` from a timer (ms). */
  syncIntervalMs: number;
}

export const CAUSAL_BROADCAST_DEFAULTS: CausalBroadcastConfig = { bufferMax: 1024, logMax: 4096, repairBatchMax: 64, syncIntervalMs: 100 };

export interface CausalBroadcastStats {
  delivered: number;
  duplicates: number;
  bufferDropped: number;
  notLogged: number;
  repairsSent: number;
}

export interface Delivery<P> {
  readonly msg: CausalMessage<P>;
  /** True for this member's own broadcast (fsync before sending it). */
  readonly own: boolean;
}

function key(origin: NodeId, seq: number): string {
  return `${origin}#${seq}`;
}

export class CausalBroadcast<P> {
  readonly self: NodeId;
  readonly config: CausalBroadcastConfig;
  readonly stats: CausalBroadcastStats = { delivered: 0, duplicates: 0, bufferDropped: 0, notLogged: 0, repairsSent: 0 };
  private readonly group: readonly NodeId[];
  private readonly rng: Rng;
  private local: Record<NodeId, number> = {};
  private readonly buffer = new Map<string, CausalMessage<P>>();
  /**
   * Delivered messages in this member's delivery order (a causal order), minus stable ones.
   * Repairs are cut from it in that order, so every repair batch is causally closed given what the
   * requester has: its first message is always deliverable there, and so on down the batch.
   */
  private log: CausalMessage<P>[] = [];
  /** The latest clock each peer told us it has delivered. */
  private readonly peerVc = new Map<NodeId, VectorClock>();
  private outbox: Outgoing<CausalBroadcastMessage<P>>[] = [];
  private delivered: Delivery<P>[] = [];

  constructor(opts: {
    self: NodeId;
    group: readonly NodeId[];
    rng: Rng;
    config?: Partial<CausalBroadcastConfig>;
    /** Messages this member had delivered before a restart, in delivery order. Not re-reported. */
    recovered?: readonly CausalMessage<P>[];
  }) {
    this.self = opts.self;
    this.group = [...opts.group];
    this.rng = opts.rng;
    this.config = { ...CAUSAL_BROADCAST_DEFAULTS, ...opts.config };
    for (const [name, v] of Object.entries(this.config)) {
      if (!(typeof v === 'number' && v >= 1 && Number.isFinite(v))) throw new ConfigError(`causal broadcast ${name} must be >= 1, got ${v}`);
    }
    if (!this.group.includes(this.self)) throw new ConfigError(`causal broadcast group must include self (${this.self})`);
    for (const m of opts.recovered ?? []) {
      if (m.seq !== vcGet(this.local, m.origin) + 1) continue; // a duplicate record
      this.local[m.origin] = m.seq;
      this.retain(m, m.origin === this.self);
    }
  }

  /** What this member has delivered: entry j = number of j's broadcasts delivered. */
  clock(): VectorClock {
    return { ...this.local };
  }

  bufferedCount(): number {
    return this.buffer.size;
  }

  /**
   * Broadcasts to the group and delivers locally at once. Throws an `overloaded` DefiniteError
   * when the retention log is full of messages not yet acknowledged by every member.
   */
  broadcast(payload: P): CausalMessage<P> {
    this.collectStable();
    if (this.log.length >= this.config.logMax) {
      throw new DefiniteError('overloaded', `causal broadcast log is full (${this.config.logMax} unacknowledged messages); retry when peers catch up`);
    }
    const seq = vcGet(this.local, this.self) + 1;
    this.local[this.self] = seq;
    const msg: CausalMessage<P> = { origin: this.self, seq, vc: { ...this.local }, payload };
    this.retain(msg, true);
    this.stats.delivered += 1;
    this.delivered.push({ msg, own: true });
    for (const to of this.group) if (to !== this.self) this.send(to, { type: 'cb-data', msgs: [msg] });
    return msg;
  }

  /** One anti-entropy round: tell a random peer my clock. */
  tick(): void {
    this.collectStable();
    const peers = this.group.filter((p) => p !== this.self);
    if (peers.length === 0) return;
    this.send(this.rng.pick(peers), { type: 'cb-sync', vc: this.clock(), reply: false });
  }

  handleMessage(from: NodeId, msg: CausalBroadcastMessage<P>): void {
    switch (msg.type) {
      case 'cb-data':
        for (const m of msg.msgs) this.receive(m);
        this.deliverReady();
        break;
      case 'cb-sync': {
        this.peerVc.set(from, msg.vc);
        const missing = this.missingFor(msg.vc);
        if (missing.length > 0) {
          this.stats.repairsSent += 1;
          this.send(from, { type: 'cb-data', msgs: missing });
        }
        if (!msg.reply) {
          const behind = Object.entries(msg.vc).some(([node, n]) => n > vcGet(this.local, node));
          if (behind) this.send(from, { type: 'cb-sync', vc: this.clock(), reply: true });
        }
        break;
      }
      default:
        unreachable(msg, 'causal broadcast message');
    }
  }

  pollMessages(): Outgoing<CausalBroadcastMessage<P>>[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** Messages delivered since the last call, in causal delivery order (own broadcasts included). */
  pollDelivered(): Delivery<P>[] {
    const out = this.delivered;
    this.delivered = [];
    return out;
  }

  private send(to: NodeId, msg: CausalBroadcastMessage<P>): void {
    this.outbox.push({ to, msg });
  }

  private receive(m: CausalMessage<P>): void {
    const k = key(m.origin, m.seq);
    if (m.seq <= vcGet(this.local, m.origin) || this.buffer.has(k)) {
      this.stats.duplicates += 1;
      return;
    }
    if (this.deliverable(m)) {
      // Deliverable now: never buffered, so a full buffer cannot block progress.
      this.deliver(m);
      return;
    }
    if (this.buffer.size >= this.config.bufferMax) {
      this.stats.bufferDropped += 1; // anti-entropy brings it back later
      return;
    }
    this.buffer.set(k, m);
  }

  private deliver(m: CausalMessage<P>): void {
    this.local[m.origin] = m.seq;
    this.retain(m, false);
    this.stats.delivered += 1;
    this.delivered.push({ msg: m, own: false });
  }

  private deliverable(m: CausalMessage<P>): boolean {
    if (m.seq !== vcGet(this.local, m.origin) + 1) return false;
    for (const [node, n] of Object.entries(m.vc)) if (node !== m.origin && n > vcGet(this.local, node)) return false;
    return true;
  }

  private deliverReady(): void {
    let progress = true;
    while (progress && this.buffer.size > 0) {
      progress = false;
      for (const origin of this.group) {
        const next = this.buffer.get(key(origin, vcGet(this.local, origin) + 1));
        if (next !== undefined && this.deliverable(next)) {
          this.buffer.delete(key(origin, next.seq));
          this.deliver(next);
          progress = true;
        }
      }
    }
  }

  private retain(m: CausalMessage<P>, own: boolean): void {
    if (!own && this.log.length >= this.config.logMax) {
      this.stats.notLogged += 1;
      return;
    }
    this.log.push(m);
  }

  /** What a member with clock `remote` lacks, in this member's delivery order, at most repairBatchMax. */
  private missingFor(remote: VectorClock): CausalMessage<P>[] {
    const out: CausalMessage<P>[] = [];
    for (const m of this.log) {
      if (m.seq <= vcGet(remote, m.origin)) continue;
      out.push(m);
      if (out.length >= this.config.repairBatchMax) break;
    }
    return out;
  }

  /** Drops messages every member has acknowledged (delivered, per its last sync). */
  private collectStable(): void {
    if (this.log.length === 0) return;
    const stable: Record<NodeId, number> = {};
    for (const origin of this.group) {
      let n = vcGet(this.local, origin);
      for (const p of this.group) if (p !== this.self) n = Math.min(n, vcGet(this.peerVc.get(p) ?? {}, origin));
      stable[origin] = n;
    }
    const kept = this.log.filter((m) => m.seq > (stable[m.origin] ?? 0));
    if (kept.length !== this.log.length) this.log = kept;
  }
}
