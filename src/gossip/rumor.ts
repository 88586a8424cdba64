/**
 * Rumor mongering, sans-IO (Demers et al. 1987, section 1.4 "complex epidemics"; Karp et al.
 * 2000 for push-pull). A node holding a hot rumor contacts `fanout` random peers every round
 * (`tick()`), and push, pull or push-pull moves the hot rumors across each contact; a stop rule
 * (counter, coin or age, with or without feedback) decides when a node loses interest. What a
 * node has learned is reported once through `pollDelivered()`; what it sends comes out of
 * `pollMessages()`. Peers come from a `PeerSource` the host supplies (a static list, SWIM's live
 * members, ...).
 *
 * Round semantics: with `serveFresh: false` a rumor learned during round t is served to pullers
 * from round t+1, so that in a round-synchronous run no information crosses two hops in one round
 * (the model of the papers); with the default `serveFresh: true` it is served at once.
 *
 * Leaves out: the residue is not repaired here (pair with `AntiEntropy`, as Demers suggests);
 * Karp et al.'s median-counter termination; connection limits (a node answers every contact).
 */
import { unreachable } from '../core/assert.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import { RUMOR_DEFAULTS, type RumorConfig, validateRumorConfig } from './config.ts';

export interface Rumor<P> {
  readonly id: string;
  readonly payload: P;
}

export type RumorMessage<P> =
  /** Caller's hot rumors; `pull` asks the callee to answer with its own (push-pull). */
  | { readonly type: 'rumor-push'; readonly rumors: readonly Rumor<P>[]; readonly pull: boolean }
  /** "Send me your hot rumors." */
  | { readonly type: 'rumor-pull' }
  /** Callee's hot rumors, plus feedback on the caller's push: ids the callee already knew. */
  | { readonly type: 'rumor-reply'; readonly rumors: readonly Rumor<P>[]; readonly known: readonly string[] }
  /** Feedback: ids of the rumors just received that the receiver already knew. */
  | { readonly type: 'rumor-feedback'; readonly known: readonly string[] };

export interface Outgoing<M> {
  readonly to: NodeId;
  readonly msg: M;
}

/** The nodes a gossiper may contact. May change between calls; may include `self` (it is skipped). */
export type PeerSource = () => readonly NodeId[];

export interface RumorStats {
  rounds: number;
  messagesSent: number;
  rumorsSent: number;
  delivered: number;
  /** Rumors received that were already known. */
  duplicates: number;
  /** Hot rumors dropped because `rumorsMax` was reached. */
  evicted: number;
}

interface HotRumor<P> {
  readonly rumor: Rumor<P>;
  /** Round (this node's tick count) in which it was learned. */
  readonly learnedRound: number;
  sends: number;
  /** Counted contacts for the counter rule. */
  strikes: number;
}

export interface RumorMongerOptions {
  self: NodeId;
  rng: Rng;
  peers: PeerSource;
  config?: Partial<RumorConfig>;
}

export class RumorMonger<P> {
  readonly self: NodeId;
  readonly config: RumorConfig;
  readonly stats: RumorStats = { rounds: 0, messagesSent: 0, rumorsSent: 0, delivered: 0, duplicates: 0, evicted: 0 };
  private readonly rng: Rng;
  private readonly peers: PeerSource;
  /** Known rumor ids in insertion order (FIFO eviction at knownMax). */
  private readonly known = new Set<string>();
  private readonly hot = new Map<string, HotRumor<P>>();
  private outbox: Outgoing<RumorMessage<P>>[] = [];
  private delivered: Rumor<P>[] = [];
  private round = 0;
  private nextSeq = 1;

  constructor(opts: RumorMongerOptions) {
    this.self = opts.self;
    this.rng = opts.rng;
    this.peers = opts.peers;
    this.config = validateRumorConfig({ ...RUMOR_DEFAULTS, ...opts.config });
  }

  /** Starts a rumor at this node. Not reported by `pollDelivered` here (the caller has it). Returns its id. */
  broadcast(payload: P, id = `${this.self}#${this.nextSeq++}`): string {
    if (!this.known.has(id)) this.learn({ id, payload }, false);
    return id;
  }

  /** Whether this node has heard of the rumor (within the last `knownMax` ids). */
  knows(id: string): boolean {
    return this.known.has(id);
  }

  /** Rumors this node is still spreading. */
  hotCount(): number {
    return this.hot.size;
  }

  /** One gossip round: age out rumors, then contact `fanout` random peers. */
  tick(): void {
    this.round += 1;
    this.stats.rounds += 1;
    const stop = this.config.stop;
    if (stop.kind === 'rounds') {
      for (const [id, h] of this.hot) if (this.round - h.learnedRound > stop.rounds) this.hot.delete(id);
    }
    const mode = this.config.mode;
    // Pull and push-pull contact every round even with nothing hot: that is how uninformed nodes learn.
    if (mode === 'push' && this.hot.size === 0) return;
    for (const to of this.pickPeers()) {
      switch (mode) {
        case 'push':
          this.send(to, { type: 'rumor-push', rumors: this.takeForSend(to, undefined), pull: false });
          break;
        case 'pull':
          this.send(to, { type: 'rumor-pull' });
          break;
        case 'push-pull':
          this.send(to, { type: 'rumor-push', rumors: this.takeForSend(to, undefined), pull: true });
          break;
        default:
          unreachable(mode, 'gossip mode');
      }
    }
  }

  handleMessage(from: NodeId, msg: RumorMessage<P>): void {
    switch (msg.type) {
      case 'rumor-push': {
        const known = this.receive(msg.rumors);
        if (msg.pull) {
          const skip = new Set(msg.rumors.map((r) => r.id));
          const rumors = this.takeForSend(from, skip);
          const feedback = this.config.feedback ? known : [];
          if (rumors.length > 0 || feedback.length > 0) this.send(from, { type: 'rumor-reply', rumors, known: feedback });
        } else if (this.config.feedback && known.length > 0) {
          this.send(from, { type: 'rumor-feedback', known });
        }
        break;
      }
      case 'rumor-pull': {
        const rumors = this.takeForSend(from, undefined);
        if (rumors.length > 0) this.send(from, { type: 'rumor-reply', rumors, known: [] });
        break;
      }
      case 'rumor-reply': {
        this.onFeedback(msg.known);
        const known = this.receive(msg.rumors);
        if (this.config.feedback && known.length > 0) this.send(from, { type: 'rumor-feedback', known });
        break;
      }
      case 'rumor-feedback':
        this.onFeedback(msg.known);
        break;
      default:
        unreachable(msg, 'rumor message');
    }
  }

  /** Messages to send, in order; drains the outbox. */
  pollMessages(): Outgoing<RumorMessage<P>>[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** Rumors learned from peers since the last call, in the order they were learned. */
  pollDelivered(): Rumor<P>[] {
    const out = this.delivered;
    this.delivered = [];
    return out;
  }

  private send(to: NodeId, msg: RumorMessage<P>): void {
    this.stats.messagesSent += 1;
    this.outbox.push({ to, msg });
  }

  /** Learns new rumors; returns the ids that were already known (for feedback). */
  private receive(rumors: readonly Rumor<P>[]): string[] {
    const known: string[] = [];
    for (const r of rumors) {
      if (this.known.has(r.id)) {
        known.push(r.id);
        this.stats.duplicates += 1;
      } else {
        this.learn(r, true);
      }
    }
    return known;
  }

  private learn(rumor: Rumor<P>, deliver: boolean): void {
    this.known.add(rumor.id);
    while (this.known.size > this.config.knownMax) {
      const oldest = this.known.values().next().value as string;
      this.known.delete(oldest);
      this.hot.delete(oldest);
    }
    if (this.hot.size >= this.config.rumorsMax) {
      const oldest = this.hot.keys().next().value as string;
      this.hot.delete(oldest);
      this.stats.evicted += 1;
    }
    this.hot.set(rumor.id, { rumor, learnedRound: this.round, sends: 0, strikes: 0 });
    if (deliver) {
      this.delivered.push(rumor);
      this.stats.delivered += 1;
    }
  }

  /**
   * Hot rumors to carry in one message (least-sent first, at most rumorsPerMessageMax), skipping
   * rumors learned in the current round and those in `skip`. Applies the blind stop rule.
   */
  private takeForSend(_to: NodeId, skip: ReadonlySet<string> | undefined): Rumor<P>[] {
    const candidates: HotRumor<P>[] = [];
    for (const h of this.hot.values()) {
      if (!this.config.serveFresh && h.learnedRound >= this.round) continue; // fresh: served from the next round
      if (skip?.has(h.rumor.id)) continue;
      candidates.push(h);
    }
    if (candidates.length > this.config.rumorsPerMessageMax) {
      candidates.sort((a, b) => a.sends - b.sends);
      candidates.length = this.config.rumorsPerMessageMax;
    }
    const out: Rumor<P>[] = [];
    for (const h of candidates) {
      h.sends += 1;
      this.stats.rumorsSent += 1;
      out.push(h.rumor);
      if (!this.config.feedback) this.countContact(h);
    }
    return out;
  }

  private onFeedback(known: readonly string[]): void {
    if (!this.config.feedback) return;
    for (const id of known) {
      const h = this.hot.get(id);
      if (h !== undefined) this.countContact(h);
    }
  }

  /** One counted contact (unnecessary with feedback, any without) for the counter and coin rules. */
  private countContact(h: HotRumor<P>): void {
    const stop = this.config.stop;
    switch (stop.kind) {
      case 'counter':
        h.strikes += 1;
        if (h.strikes >= stop.k) this.hot.delete(h.rumor.id);
        break;
      case 'coin':
        if (this.rng.int(stop.k) === 0) this.hot.delete(h.rumor.id);
        break;
      case 'rounds':
        break;
      default:
        unreachable(stop, 'stop rule');
    }
  }

  /** `fanout` distinct random peers other than self; O(fanout) expected for large peer lists. */
  private pickPeers(): NodeId[] {
    return samplePeers(this.rng, this.peers(), this.self, this.config.fanout);
  }
}

/**
 * Up to `k` distinct elements of `all` other than `self`, uniformly. Rejection sampling keeps a
 * round O(k) on large lists (no copy of the list per round); short lists fall back to a partial
 * Fisher–Yates shuffle of a filtered copy.
 */
export function samplePeers(rng: Rng, all: readonly NodeId[], self: NodeId, k: number): NodeId[] {
  if (all.length === 0 || k <= 0) return [];
  if (all.length >= 4 * (k + 1)) {
    const picked = new Set<NodeId>();
    for (let attempts = 0; attempts < 8 * k + 16 && picked.size < k; attempts++) {
      const p = all[rng.int(all.length)] as NodeId;
      if (p !== self) picked.add(p);
    }
    if (picked.size === k) return [...picked];
  }
  const pool = all.filter((p) => p !== self);
  const m = Math.min(k, pool.length);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(pool.length - i);
    const tmp = pool[i] as NodeId;
    pool[i] = pool[j] as NodeId;
    pool[j] = tmp;
  }
  return pool.slice(0, m);
}
