/**
 * A sans-IO SWIM member (Das, Gupta, Motivala, "SWIM: Scalable Weakly-consistent
 * Infection-style Process Group Membership Protocol", DSN 2002) with the Lifeguard extensions
 * (Dadgar, Phillips, Currey, "Lifeguard: Local Health Awareness for More Accurate Failure
 * Detection", 2018), structured after hashicorp/memberlist:
 *
 * - failure detection: round-robin probing over a shuffled member list (reshuffled each pass,
 *   new members inserted at random positions), ping/ack with sequence numbers, indirect
 *   ping-req through k members, suspicion with incarnation numbers and refutation, dead and
 *   left states, graceful leave;
 * - dissemination: updates piggybacked on every packet (least-sent first, retired after
 *   `retransmitMult · ceil(log10(n + 1))` sends, packed into `packetBytesMax`), periodic gossip
 *   to `gossipNodes` members, periodic push-pull full-state exchange (stream channel), join
 *   through seed addresses, and Serf's reconnect (a periodic push-pull to a member believed
 *   dead, so a cluster that fell apart in a long partition finds itself again);
 * - Lifeguard: local health multiplier scaling probe interval and timeout, dynamic suspicion
 *   timeout shrinking with independent confirmations, buddy system (a ping to a suspect carries
 *   the suspicion so it can refute at once), nacks from ping-req helpers.
 *
 * Inputs: `tick(nowMs)`, `handlePacket(from, bytes)`, `handleStream(from, bytes)` (returns the
 * reply), `join(seeds)`, `leave()`, `setMeta(meta)`. Outputs, drained by the host in this
 * order: `drainOutgoing()` (datagrams and stream messages to send), then `drainEvents()`.
 * `nextDeadlineMs()` says when the host must call `tick` next. No clock, timer, socket or
 * Math.random inside: time comes in as `nowMs`, randomness from the injected `Rng`.
 *
 * Leaves out memberlist's TCP fallback probe, its per-node protocol version negotiation, user
 * messages and delegates: the member is membership only; services layer on top.
 */
import { unreachable } from '../../core/assert.ts';
import { ConfigError } from '../../core/errors.ts';
import { isNodeId } from '../../core/ids.ts';
import type { Rng } from '../../core/rng.ts';
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast.ts';
import { type CodecLimits, decodePacket, encodePacket, encodedSize, type RejectReason, REJECT_REASONS, utf8Bytes } from './codec.ts';
import { pushPullIntervalFor, retransmitLimit, type SwimConfig, suspicionBoundsMs, validateSwimConfig } from './config.ts';
import type { MemberRecord, MemberState, SwimBody, SwimPacket, SwimUpdate } from './messages.ts';
import { Suspicion } from './suspicion.ts';

export interface MemberView {
  readonly name: string;
  readonly address: string;
  readonly meta: string;
  readonly incarnation: number;
  readonly state: MemberState;
  /** When this member last saw the state change, ms (host time). */
  readonly stateChangeMs: number;
}

export type SwimEventType = 'join' | 'update' | 'suspect' | 'alive' | 'fail' | 'leave';

/**
 * join: a member became known or came back from dead/left; update: its address or metadata
 * changed; suspect: it is suspected; alive: a suspicion was refuted; fail: declared dead;
 * leave: it left gracefully.
 */
export interface SwimEvent {
  readonly type: SwimEventType;
  readonly member: MemberView;
  readonly atMs: number;
  /**
   * The member whose report caused the change: the accuser for suspect and fail (the `from` of
   * the suspect/dead update), the member itself for join, update, alive and leave.
   */
  readonly source: string;
}

export type Channel = 'packet' | 'stream';

export interface Outgoing {
  readonly to: string;
  readonly channel: Channel;
  readonly packet: SwimPacket;
  readonly bytes: Uint8Array;
}

export interface SwimStats {
  packetsIn: number;
  packetsOut: number;
  bytesOut: number;
  streamsIn: number;
  streamsOut: number;
  /** Packets and stream messages rejected by the codec, by reason. */
  rejected: Record<RejectReason, number>;
  /** Pings addressed to another name (stale address), dropped. */
  misdirected: number;
  probes: number;
  probeFailures: number;
  indirectProbes: number;
  nacksReceived: number;
  suspicionsRaised: number;
  refutations: number;
  deathsDeclared: number;
  outboxDropped: number;
  eventsDropped: number;
  forwardsDropped: number;
  /** Push-pulls started because a datagram came from an unknown or dead member. */
  contactPushPulls: number;
  /** Suspect/dead reports about this member at an incarnation it had already refuted (answered by re-sending its alive). */
  staleAccusations: number;
}

export interface SwimMemberOptions {
  name: string;
  /** The address other members use to reach this one (as understood by the host). */
  address: string;
  meta?: string;
  config: SwimConfig;
  rng: Rng;
  nowMs: number;
}

interface Member {
  name: string;
  address: string;
  meta: string;
  incarnation: number;
  state: MemberState;
  stateChangeMs: number;
}

interface Probe {
  seq: number;
  target: string;
  ackDeadlineMs: number;
  endMs: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Forward {
  requester: string;
  origSeq: number;
  deadlineMs: number;
}

/** A member is sent a learn-on-contact push-pull at most once per this many protocol periods. */
const CONTACT_RETRY_PERIODS = 10;

/** Limits on host-facing queues. */
const OUTBOX_MAX = 4096;
const EVENTS_MAX = 4096;

export class SwimMember {
  readonly name: string;
  readonly config: SwimConfig;
  readonly stats: SwimStats;
  private readonly rng: Rng;
  private nowMs: number;
  private readonly members = new Map<string, Member>();
  private readonly self: Member;
  private probeOrder: string[] = [];
  private probeIndex = 0;
  private probe: Probe | undefined;
  private readonly forwards = new Map<number, Forward>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly awareness: Awareness;
  private readonly broadcasts: BroadcastQueue;
  private seq = 0;
  private nextProbeMs: number;
  private nextGossipMs: number;
  private nextPushPullMs: number;
  private nextReconnectMs: number;
  /** Members forgotten after being declared dead: address kept for reconnect attempts (bounded by membersMax). */
  private readonly failed = new Map<string, { address: string; sinceMs: number }>();
  /** Last learn-on-contact push-pull per member name (bounded by indirectForwardsMax). */
  private readonly contacts = new Map<string, number>();
  private leaving = false;
  private outbox: Outgoing[] = [];
  private events: SwimEvent[] = [];
  private readonly packetLimits: CodecLimits;
  private readonly streamLimits: CodecLimits;

  constructor(opts: SwimMemberOptions) {
    validateSwimConfig(opts.config);
    if (!isNodeId(opts.name)) throw new ConfigError(`swim member name ${JSON.stringify(opts.name)} is not a valid node id`);
    const meta = opts.meta ?? '';
    this.checkMeta(meta, opts.config);
    this.name = opts.name;
    this.config = opts.config;
    this.rng = opts.rng;
    this.nowMs = opts.nowMs;
    this.awareness = new Awareness(opts.config.lifeguard ? opts.config.awarenessMaxMultiplier : 1);
    this.broadcasts = new BroadcastQueue(opts.config.broadcastQueueMax);
    this.self = { name: opts.name, address: opts.address, meta, incarnation: 0, state: 'alive', stateChangeMs: opts.nowMs };
    this.members.set(this.name, this.self);
    this.packetLimits = { bytesMax: opts.config.packetBytesMax, metaBytesMax: opts.config.metaBytesMax, membersMax: opts.config.membersMax };
    this.streamLimits = { ...this.packetLimits, bytesMax: opts.config.streamBytesMax };
    this.stats = {
      packetsIn: 0,
      packetsOut: 0,
      bytesOut: 0,
      streamsIn: 0,
      streamsOut: 0,
      rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
      misdirected: 0,
      probes: 0,
      probeFailures: 0,
      indirectProbes: 0,
      nacksReceived: 0,
      suspicionsRaised: 0,
      refutations: 0,
      deathsDeclared: 0,
      outboxDropped: 0,
      eventsDropped: 0,
      forwardsDropped: 0,
      contactPushPulls: 0,
      staleAccusations: 0,
    };
    const c = opts.config;
    // Random phases so members started together do not probe in lockstep.
    this.nextProbeMs = opts.nowMs + this.rng.int(c.probeIntervalMs);
    this.nextGossipMs = c.gossipIntervalMs > 0 ? opts.nowMs + this.rng.int(c.gossipIntervalMs) + 1 : Number.POSITIVE_INFINITY;
    this.nextPushPullMs = c.pushPullIntervalMs > 0 ? opts.nowMs + c.pushPullIntervalMs + this.rng.int(c.pushPullIntervalMs) : Number.POSITIVE_INFINITY;
    this.nextReconnectMs = c.reconnectIntervalMs > 0 ? opts.nowMs + c.reconnectIntervalMs + this.rng.int(c.reconnectIntervalMs) : Number.POSITIVE_INFINITY;
  }

  // ---------------------------------------------------------------- queries

  get address(): string {
    return this.self.address;
  }

  get incarnation(): number {
    return this.self.incarnation;
  }

  /** Lifeguard's local health multiplier score (0 = healthy). */
  get healthScore(): number {
    return this.awareness.score;
  }

  get isLeaving(): boolean {
    return this.leaving;
  }

  /** Updates dropped because the piggyback queue was full. */
  get broadcastsDropped(): number {
    return this.broadcasts.dropped;
  }

  /** Pending piggyback updates. */
  get broadcastQueueSize(): number {
    return this.broadcasts.size;
  }

  /** Every known member including this one, sorted by name. */
  membersView(): MemberView[] {
    return [...this.members.values()].map(view).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  member(name: string): MemberView | undefined {
    const m = this.members.get(name);
    return m === undefined ? undefined : view(m);
  }

  /** Members currently alive or suspect (SWIM counts a suspect as a member). */
  liveCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === 'alive' || m.state === 'suspect') n++;
    return n;
  }

  /** When `tick` must next be called, ms (host time). */
  nextDeadlineMs(): number {
    let t = this.leaving ? Number.POSITIVE_INFINITY : Math.min(this.nextProbeMs, this.nextPushPullMs, this.nextReconnectMs);
    t = Math.min(t, this.nextGossipMs);
    if (this.probe !== undefined) t = Math.min(t, this.probe.indirectSent ? this.probe.endMs : this.probe.ackDeadlineMs);
    for (const f of this.forwards.values()) t = Math.min(t, f.deadlineMs);
    for (const s of this.suspicions.values()) t = Math.min(t, s.deadlineMs());
    return t;
  }

  // ---------------------------------------------------------------- outputs

  drainOutgoing(): Outgoing[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  drainEvents(): SwimEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  // ---------------------------------------------------------------- commands

  /** Sends a join (push-pull with `join: true`) to each seed address. Replies arrive through `handleStream`. */
  join(seeds: readonly string[]): void {
    for (const seed of seeds) {
      if (seed === this.self.address) continue;
      this.sendStream(seed, { type: 'push-pull', join: true, fromAddress: this.self.address, states: this.records() });
    }
  }

  /** Graceful leave: broadcasts `left` about itself and stops probing. The host keeps ticking briefly so it spreads. */
  leave(): void {
    if (this.leaving) return;
    this.leaving = true;
    this.probe = undefined;
    const u: SwimUpdate = { type: 'left', name: this.name, incarnation: this.self.incarnation };
    this.self.state = 'left';
    this.self.stateChangeMs = this.nowMs;
    this.broadcasts.enqueue(u);
    this.gossipRound();
  }

  /** Changes this member's metadata; spreads as an alive update with a new incarnation. */
  setMeta(meta: string): void {
    this.checkMeta(meta, this.config);
    this.self.meta = meta;
    this.self.incarnation++;
    this.broadcastSelfAlive();
  }

  // ---------------------------------------------------------------- inputs

  /** Advances time to `nowMs` and runs every timer due. */
  tick(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    const now = this.nowMs;
    const c = this.config;
    const p = this.probe;
    if (p !== undefined && !p.indirectSent && now >= p.ackDeadlineMs) this.sendIndirect(p);
    if (p !== undefined && now >= p.endMs) this.finishProbe(p);
    if (!this.leaving && now >= this.nextProbeMs) {
      this.startProbe();
      this.nextProbeMs = now + this.awareness.scaleMs(c.probeIntervalMs);
    }
    for (const [seq, f] of this.forwards) {
      if (now >= f.deadlineMs) {
        this.forwards.delete(seq);
        if (c.lifeguard) this.sendPacket(f.requester, { type: 'nack', seq: f.origSeq });
      }
    }
    for (const [name, s] of this.suspicions) {
      if (now >= s.deadlineMs()) {
        this.suspicions.delete(name);
        const m = this.members.get(name);
        if (m !== undefined && m.state === 'suspect') {
          this.stats.deathsDeclared++;
          this.applyUpdate({ type: 'dead', name, incarnation: m.incarnation, from: this.name });
        }
      }
    }
    if (now >= this.nextGossipMs) {
      this.gossipRound();
      this.nextGossipMs = now + c.gossipIntervalMs;
    }
    if (!this.leaving && now >= this.nextPushPullMs) {
      this.pushPullRound();
      this.nextPushPullMs = now + pushPullIntervalFor(c.pushPullIntervalMs, this.liveCount());
    }
    if (!this.leaving && now >= this.nextReconnectMs) {
      this.reconnectRound();
      this.nextReconnectMs = now + c.reconnectIntervalMs;
    }
  }

  /** A datagram from `from` (the sender's address). Never throws on bad input: it is counted and dropped. */
  handlePacket(from: string, bytes: Uint8Array): void {
    const decoded = decodePacket(bytes, this.packetLimits);
    if (!decoded.ok) {
      this.stats.rejected[decoded.reason]++;
      return;
    }
    this.stats.packetsIn++;
    const packet = decoded.packet;
    for (const u of packet.updates) this.applyUpdate(u);
    this.learnOnContact(packet.from, from);
    this.handleBody(from, packet);
  }

  /**
   * A datagram from a member we do not know, or believe dead, means our view and its view
   * differ: exchange full state with it at once (rate-limited per name) instead of waiting for
   * the periodic push-pull. This repairs a join rumour that retired before reaching everyone,
   * and lets a member wrongly declared dead learn it and refute.
   */
  private learnOnContact(name: string, address: string): void {
    if (name === this.name || this.leaving) return;
    const m = this.members.get(name);
    if (m !== undefined && m.state !== 'dead') return;
    const last = this.contacts.get(name);
    if (last !== undefined && this.nowMs - last < CONTACT_RETRY_PERIODS * this.config.probeIntervalMs) return;
    this.contacts.delete(name);
    this.contacts.set(name, this.nowMs);
    if (this.contacts.size > this.config.indirectForwardsMax) {
      const oldest = this.contacts.keys().next();
      if (oldest.done !== true) this.contacts.delete(oldest.value);
    }
    this.stats.contactPushPulls++;
    this.sendStream(address, { type: 'push-pull', join: false, fromAddress: this.self.address, states: this.records() });
  }

  /**
   * A stream message (push-pull or join) from `from`. Returns the encoded reply to send back on
   * the same stream, if any. Never throws on bad input.
   */
  handleStream(from: string, bytes: Uint8Array): Uint8Array | undefined {
    const decoded = decodePacket(bytes, this.streamLimits);
    if (!decoded.ok) {
      this.stats.rejected[decoded.reason]++;
      return undefined;
    }
    this.stats.streamsIn++;
    const packet = decoded.packet;
    const body = packet.body;
    switch (body.type) {
      case 'push-pull': {
        // Reply with our state as it was before merging theirs (memberlist does the same).
        const reply: SwimPacket = { from: this.name, body: { type: 'push-pull-reply', states: this.records() }, updates: [] };
        this.mergeRemote(packet.from, body.states);
        const bytesOut = encodePacket(reply);
        if (bytesOut.length > this.config.streamBytesMax) return undefined;
        this.stats.streamsOut++;
        return bytesOut;
      }
      case 'push-pull-reply':
        this.mergeRemote(packet.from, body.states);
        return undefined;
      case 'ping':
      case 'ack':
      case 'nack':
      case 'ping-req':
      case 'gossip':
        // Datagram messages over a stream: accept them as datagrams from the same sender.
        for (const u of packet.updates) this.applyUpdate(u);
        this.handleBody(from, packet);
        return undefined;
      default:
        return unreachable(body, 'swim body');
    }
  }

  // ---------------------------------------------------------------- probing

  private handleBody(from: string, packet: SwimPacket): void {
    const body = packet.body;
    switch (body.type) {
      case 'ping':
        if (body.target !== this.name) {
          this.stats.misdirected++;
          return;
        }
        // A leaving member still answers, with its departure first, so a prober that missed
        // the rumour learns it now.
        this.sendPacket(from, { type: 'ack', seq: body.seq }, this.leaving ? { type: 'left', name: this.name, incarnation: this.self.incarnation } : undefined);
        return;
      case 'ack': {
        const p = this.probe;
        if (p !== undefined && p.seq === body.seq) {
          // A direct ack within the timeout is evidence of our own health (Lifeguard).
          if (!p.indirectSent) this.awareness.applyDelta(-1);
          this.probe = undefined;
          return;
        }
        const f = this.forwards.get(body.seq);
        if (f !== undefined) {
          this.forwards.delete(body.seq);
          this.sendPacket(f.requester, { type: 'ack', seq: f.origSeq });
        }
        return;
      }
      case 'nack':
        if (this.probe !== undefined && this.probe.seq === body.seq) {
          this.probe.nacks++;
          this.stats.nacksReceived++;
        }
        return;
      case 'ping-req': {
        if (this.forwards.size >= this.config.indirectForwardsMax) {
          this.stats.forwardsDropped++;
          return;
        }
        const seq = this.nextSeq();
        // Lifeguard §IV-C: the nack goes out at 80% of the probe timeout so it reaches the
        // requester before its probe period ends.
        const nackAfterMs = Math.max(1, Math.floor(this.config.probeTimeoutMs * 0.8));
        this.forwards.set(seq, { requester: from, origSeq: body.seq, deadlineMs: this.nowMs + nackAfterMs });
        this.sendPing(body.targetAddress, body.target, seq);
        return;
      }
      case 'gossip':
        return;
      case 'push-pull':
      case 'push-pull-reply':
        // Full-state exchanges belong on the stream channel; a datagram carrying one is ignored.
        return;
      default:
        unreachable(body, 'swim body');
    }
  }

  private nextSeq(): number {
    this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 0 : this.seq + 1;
    return this.seq;
  }

  private startProbe(): void {
    const target = this.nextProbeTarget();
    if (target === undefined) return;
    const c = this.config;
    const seq = this.nextSeq();
    this.stats.probes++;
    this.probe = {
      seq,
      target: target.name,
      ackDeadlineMs: this.nowMs + this.awareness.scaleMs(c.probeTimeoutMs),
      endMs: this.nowMs + this.awareness.scaleMs(c.probeIntervalMs),
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
    };
    this.sendPing(target.address, target.name, seq);
  }

  /** Round-robin over a shuffled list; a new pass reshuffles it and forgets long-dead members. */
  private nextProbeTarget(): Member | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.probeIndex < this.probeOrder.length) {
        const name = this.probeOrder[this.probeIndex++] as string;
        const m = this.members.get(name);
        if (m === undefined || name === this.name) continue;
        if (m.state === 'alive' || m.state === 'suspect') return m;
      }
      this.reshuffle();
    }
    return undefined;
  }

  private reshuffle(): void {
    for (const [name, m] of this.members) {
      if (name === this.name) continue;
      if ((m.state === 'dead' || m.state === 'left') && this.nowMs - m.stateChangeMs > this.config.gossipToTheDeadMs) {
        this.members.delete(name);
        this.suspicions.delete(name);
        if (m.state === 'dead' && this.config.reconnectIntervalMs > 0) this.rememberFailed(m);
      }
    }
    this.probeOrder = this.rng.shuffle([...this.members.keys()].filter((n) => n !== this.name));
    this.probeIndex = 0;
  }

  private sendPing(address: string, target: string, seq: number): void {
    const m = this.members.get(target);
    // Buddy system: a suspect learns of its suspicion from the probe itself and can refute at once.
    const first: SwimUpdate | undefined =
      this.config.lifeguard && m !== undefined && m.state === 'suspect' ? { type: 'suspect', name: target, incarnation: m.incarnation, from: this.name } : undefined;
    this.sendPacket(address, { type: 'ping', seq, target }, first);
  }

  private sendIndirect(p: Probe): void {
    p.indirectSent = true;
    const target = this.members.get(p.target);
    if (target === undefined) return;
    const helpers = this.randomMembers(this.config.indirectChecks, (m) => m.state === 'alive' && m.name !== p.target);
    this.stats.indirectProbes += helpers.length;
    if (this.config.lifeguard) p.expectedNacks = helpers.length;
    for (const h of helpers) {
      this.sendPacket(h.address, { type: 'ping-req', seq: p.seq, target: p.target, targetAddress: target.address });
    }
  }

  private finishProbe(p: Probe): void {
    this.probe = undefined;
    this.stats.probeFailures++;
    // Lifeguard: missing nacks mean our own links or CPU are the likelier culprit.
    if (this.config.lifeguard) {
      if (p.expectedNacks > 0) {
        if (p.nacks < p.expectedNacks) this.awareness.applyDelta(p.expectedNacks - p.nacks);
      } else {
        this.awareness.applyDelta(1);
      }
    }
    const m = this.members.get(p.target);
    if (m === undefined || (m.state !== 'alive' && m.state !== 'suspect')) return;
    this.applyUpdate({ type: 'suspect', name: m.name, incarnation: m.incarnation, from: this.name });
  }

  // ---------------------------------------------------------------- dissemination

  private gossipRound(): void {
    if (this.broadcasts.size === 0) return;
    const now = this.nowMs;
    const peers = this.randomMembers(this.config.gossipNodes, (m) => {
      if (m.state === 'alive' || m.state === 'suspect') return true;
      return now - m.stateChangeMs <= this.config.gossipToTheDeadMs;
    });
    for (const peer of peers) {
      if (this.broadcasts.size === 0) break;
      this.sendPacket(peer.address, { type: 'gossip' });
    }
  }

  private pushPullRound(): void {
    const peers = this.randomMembers(1, (m) => m.state === 'alive');
    const peer = peers[0];
    if (peer === undefined) return;
    this.sendStream(peer.address, { type: 'push-pull', join: false, fromAddress: this.self.address, states: this.records() });
  }

  private rememberFailed(m: Member): void {
    this.failed.delete(m.name);
    this.failed.set(m.name, { address: m.address, sinceMs: m.stateChangeMs });
    if (this.failed.size > this.config.membersMax) {
      const oldest = this.failed.keys().next();
      if (oldest.done !== true) this.failed.delete(oldest.value);
    }
  }

  /** Serf's reconnect: a push-pull to one random member we believe dead, in case it is not. */
  private reconnectRound(): void {
    for (const [name, f] of this.failed) {
      if (this.nowMs - f.sinceMs > this.config.reconnectTimeoutMs) this.failed.delete(name);
    }
    const candidates: string[] = [];
    for (const m of this.members.values()) if (m.state === 'dead') candidates.push(m.address);
    for (const f of this.failed.values()) candidates.push(f.address);
    if (candidates.length === 0) return;
    const to = this.rng.pick(candidates);
    this.sendStream(to, { type: 'push-pull', join: false, fromAddress: this.self.address, states: this.records() });
  }

  private records(): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const m of this.members.values()) {
      out.push({ name: m.name, address: m.address, meta: m.meta, incarnation: m.incarnation, state: m.state });
      if (out.length >= this.config.membersMax) break;
    }
    return out;
  }

  /** memberlist mergeState: a remote `dead` only makes us suspect, so a wrongly-dead member can refute. */
  private mergeRemote(from: string, states: readonly MemberRecord[]): void {
    for (const r of states) {
      switch (r.state) {
        case 'alive':
          this.applyUpdate({ type: 'alive', name: r.name, address: r.address, meta: r.meta, incarnation: r.incarnation });
          break;
        case 'left':
          this.applyUpdate({ type: 'left', name: r.name, incarnation: r.incarnation });
          break;
        case 'dead':
        case 'suspect':
          if (!this.members.has(r.name)) {
            // Learn of the member first so the suspicion has something to apply to.
            this.applyUpdate({ type: 'alive', name: r.name, address: r.address, meta: r.meta, incarnation: r.incarnation });
          }
          this.applyUpdate({ type: 'suspect', name: r.name, incarnation: r.incarnation, from });
          break;
        default:
          unreachable(r.state, 'member state');
      }
    }
  }

  private sendPacket(to: string, body: SwimBody, first?: SwimUpdate): void {
    const packet: SwimPacket = { from: this.name, body, updates: [] };
    let size = encodedSize(packet);
    if (first !== undefined) {
      packet.updates.push(first);
      size = encodedSize(packet);
    }
    const limit = retransmitLimit(this.config.retransmitMult, this.members.size);
    const extra = this.broadcasts.take(this.config.packetBytesMax - size - 1, limit, first?.name);
    for (const u of extra) packet.updates.push(u);
    this.emit(to, 'packet', packet);
  }

  private sendStream(to: string, body: SwimBody): void {
    this.emit(to, 'stream', { from: this.name, body, updates: [] });
  }

  private emit(to: string, channel: Channel, packet: SwimPacket): void {
    if (this.outbox.length >= OUTBOX_MAX) {
      this.stats.outboxDropped++;
      return;
    }
    const bytes = encodePacket(packet);
    const max = channel === 'packet' ? this.config.packetBytesMax : this.config.streamBytesMax;
    if (bytes.length > max) {
      this.stats.outboxDropped++;
      return;
    }
    if (channel === 'packet') {
      this.stats.packetsOut++;
      this.stats.bytesOut += bytes.length;
    } else {
      this.stats.streamsOut++;
    }
    this.outbox.push({ to, channel, packet, bytes });
  }

  private randomMembers(k: number, accept: (m: Member) => boolean): Member[] {
    if (k <= 0) return [];
    const candidates: Member[] = [];
    for (const m of this.members.values()) if (m.name !== this.name && accept(m)) candidates.push(m);
    if (candidates.length <= k) return this.rng.shuffle(candidates);
    // Partial Fisher–Yates: k draws.
    for (let i = 0; i < k; i++) {
      const j = i + this.rng.int(candidates.length - i);
      const t = candidates[i] as Member;
      candidates[i] = candidates[j] as Member;
      candidates[j] = t;
    }
    return candidates.slice(0, k);
  }

  // ---------------------------------------------------------------- membership state machine

  private applyUpdate(u: SwimUpdate): void {
    switch (u.type) {
      case 'alive':
        this.onAlive(u);
        return;
      case 'suspect':
        this.onSuspect(u);
        return;
      case 'dead':
      case 'left':
        this.onDeadOrLeft(u);
        return;
      default:
        unreachable(u, 'swim update');
    }
  }

  private onAlive(u: Extract<SwimUpdate, { type: 'alive' }>): void {
    if (u.name === this.name) {
      // Someone holds a newer (or conflicting) view of us: out-incarnate it.
      if (this.leaving) return;
      const conflicting = u.incarnation === this.self.incarnation && (u.address !== this.self.address || u.meta !== this.self.meta);
      if (u.incarnation > this.self.incarnation || conflicting) this.refute(u.incarnation);
      return;
    }
    const m = this.members.get(u.name);
    if (m === undefined) {
      if (this.members.size >= this.config.membersMax) return;
      const fresh: Member = { name: u.name, address: u.address, meta: u.meta, incarnation: u.incarnation, state: 'alive', stateChangeMs: this.nowMs };
      this.failed.delete(u.name);
      this.members.set(u.name, fresh);
      this.probeOrder.splice(this.probeIndex + this.rng.int(this.probeOrder.length - this.probeIndex + 1), 0, u.name);
      this.broadcasts.enqueue(u);
      this.event('join', fresh);
      return;
    }
    if (u.incarnation <= m.incarnation) return;
    const prev = m.state;
    const changed = m.address !== u.address || m.meta !== u.meta;
    m.address = u.address;
    m.meta = u.meta;
    m.incarnation = u.incarnation;
    if (prev !== 'alive') {
      m.state = 'alive';
      m.stateChangeMs = this.nowMs;
    }
    this.suspicions.delete(u.name);
    this.broadcasts.enqueue(u);
    if (prev === 'dead' || prev === 'left') {
      if (!this.probeOrder.includes(u.name)) this.probeOrder.splice(this.probeIndex + this.rng.int(this.probeOrder.length - this.probeIndex + 1), 0, u.name);
      this.event('join', m);
    } else if (prev === 'suspect') {
      this.event('alive', m);
      if (changed) this.event('update', m);
    } else if (changed) {
      this.event('update', m);
    }
  }

  private onSuspect(u: Extract<SwimUpdate, { type: 'suspect' }>): void {
    if (this.staleAccusationOfSelf(u)) return;
    const m = this.members.get(u.name);
    if (m === undefined || u.incarnation < m.incarnation) return;
    const existing = this.suspicions.get(u.name);
    if (existing !== undefined && m.state === 'suspect' && u.incarnation === m.incarnation) {
      // Lifeguard: an independent confirmation shortens the timeout; pass it on so others count it too.
      if (existing.confirm(u.from)) this.broadcasts.enqueue(u);
      return;
    }
    if (m.state !== 'alive' && m.state !== 'suspect') return;
    if (u.name === this.name) {
      if (!this.leaving) {
        this.refute(u.incarnation);
        this.awareness.applyDelta(1);
      }
      return;
    }
    if (m.state === 'suspect' && u.incarnation === m.incarnation) return;
    m.incarnation = u.incarnation;
    m.state = 'suspect';
    m.stateChangeMs = this.nowMs;
    if (u.from === this.name) this.stats.suspicionsRaised++;
    this.broadcasts.enqueue(u);
    const b = suspicionBoundsMs(this.config, this.liveCount());
    this.suspicions.set(u.name, new Suspicion(u.from, this.nowMs, b.minMs, b.maxMs, b.expectedConfirmations));
    this.event('suspect', m, u.from);
  }

  private onDeadOrLeft(u: Extract<SwimUpdate, { type: 'dead' | 'left' }>): void {
    if (this.staleAccusationOfSelf(u)) return;
    const m = this.members.get(u.name);
    if (m === undefined || u.incarnation < m.incarnation) return;
    if (m.state === 'dead' || m.state === 'left') return;
    if (u.name === this.name) {
      if (!this.leaving) this.refute(u.incarnation);
      return;
    }
    m.incarnation = u.incarnation;
    m.state = u.type === 'left' ? 'left' : 'dead';
    m.stateChangeMs = this.nowMs;
    this.suspicions.delete(u.name);
    this.broadcasts.enqueue(u);
    this.event(u.type === 'left' ? 'leave' : 'fail', m, u.type === 'dead' ? u.from : u.name);
  }

  /**
   * An accusation about us at an incarnation we already refuted means its sender missed the
   * refutation (the rumour retired before reaching it). memberlist ignores it; we queue our
   * current alive again so the very reply (the ack to a buddy-system ping) carries it, instead
   * of leaving the sender to declare us dead when its suspicion times out.
   */
  private staleAccusationOfSelf(u: SwimUpdate): boolean {
    if (u.name !== this.name || u.incarnation >= this.self.incarnation) return false;
    if (!this.leaving && u.type !== 'alive') {
      this.stats.staleAccusations++;
      this.broadcastSelfAlive();
    }
    return true;
  }

  /** SWIM §4.2: a member suspected (or declared dead) at incarnation i answers with alive at i + 1 or more. */
  private refute(incarnation: number): void {
    this.stats.refutations++;
    this.self.incarnation = Math.max(this.self.incarnation, incarnation) + 1;
    this.broadcastSelfAlive();
  }

  private broadcastSelfAlive(): void {
    this.broadcasts.enqueue({ type: 'alive', name: this.name, address: this.self.address, meta: this.self.meta, incarnation: this.self.incarnation });
  }

  private event(type: SwimEventType, m: Member, source: string = m.name): void {
    if (this.events.length >= EVENTS_MAX) {
      this.events.shift();
      this.stats.eventsDropped++;
    }
    this.events.push({ type, member: view(m), atMs: this.nowMs, source });
  }

  private checkMeta(meta: string, cfg: SwimConfig): void {
    const bytes = utf8Bytes(meta);
    if (bytes > cfg.metaBytesMax) throw new ConfigError(`swim member metadata is ${bytes} bytes; the limit (metaBytesMax) is ${cfg.metaBytesMax}`);
  }
}

function view(m: Member): MemberView {
  return { name: m.name, address: m.address, meta: m.meta, incarnation: m.incarnation, state: m.state, stateChangeMs: m.stateChangeMs };
}
