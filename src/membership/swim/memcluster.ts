/**
 * An in-memory, deterministic cluster of SWIM members on virtual time: a seeded event queue,
 * per-packet latency and loss, one-way link blocks and partitions, crash/restart and pause
 * (a CPU-starved member: it runs no timers and handles nothing until resumed, then drains the
 * packets that queued up). Shipped beside the UDP runtime like memberlist's in-memory transport,
 * for unit tests and the SWIM measurements. Addresses are member names. It models no bandwidth,
 * no reordering beyond random latency, and no disk (SWIM keeps no durable state).
 */
import { assert } from '../../core/assert.ts';
import { createRng, type Rng } from '../../core/rng.ts';
import type { SwimConfig } from './config.ts';
import { type SwimEvent, SwimMember } from './member.ts';

export interface MemClusterOptions {
  seed: number;
  config: SwimConfig;
  /** One-way latency, uniform in [min, max] ms. */
  latencyMs?: { min: number; max: number };
  /** Probability that a datagram is lost. Stream messages (TCP) are never lost, only blocked. */
  lossRate?: number;
  /** Limit on queued events (packets in flight + timers). */
  queueMax?: number;
}

export interface ObservedEvent extends SwimEvent {
  /** The member that emitted the event. */
  readonly observer: string;
}

type QueueItem =
  | { kind: 'tick'; atMs: number; order: number; node: string; generation: number }
  | { kind: 'deliver'; atMs: number; order: number; to: string; from: string; stream: boolean; bytes: Uint8Array; replyable: boolean };

interface Host {
  member: SwimMember;
  up: boolean;
  paused: boolean;
  /** Packets that arrived while paused, handled on resume (bounded). */
  backlog: QueueItem[];
  tickAtMs: number;
  generation: number;
  rng: Rng;
}

const BACKLOG_MAX = 10_000;

/** A binary min-heap on (atMs, order). */
class Heap {
  private readonly items: QueueItem[] = [];
  get size(): number {
    return this.items.length;
  }
  push(item: QueueItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i] as QueueItem, a[p] as QueueItem)) break;
      [a[i], a[p]] = [a[p] as QueueItem, a[i] as QueueItem];
      i = p;
    }
  }
  peek(): QueueItem | undefined {
    return this.items[0];
  }
  pop(): QueueItem | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l] as QueueItem, a[m] as QueueItem)) m = l;
        if (r < a.length && less(a[r] as QueueItem, a[m] as QueueItem)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as QueueItem, a[i] as QueueItem];
        i = m;
      }
    }
    return top;
  }
}

function less(a: QueueItem, b: QueueItem): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}

export class MemCluster {
  readonly config: SwimConfig;
  /** Every event emitted by every member, in order. Bounded by `eventsMax`; oldest dropped. */
  readonly events: ObservedEvent[] = [];
  eventsMax = 200_000;
  /** Datagrams dropped by loss, blocks or down members. */
  dropped = 0;
  private readonly hosts = new Map<string, Host>();
  private readonly queue = new Heap();
  private readonly rng: Rng;
  private nowMs = 0;
  private order = 0;
  private lossRate: number;
  private readonly latency: { min: number; max: number };
  private readonly blocked = new Set<string>();
  private readonly queueMax: number;
  private readonly listeners: ((e: ObservedEvent) => void)[] = [];

  constructor(opts: MemClusterOptions) {
    this.config = opts.config;
    this.rng = createRng(opts.seed);
    this.lossRate = opts.lossRate ?? 0;
    this.latency = opts.latencyMs ?? { min: 1, max: 5 };
    this.queueMax = opts.queueMax ?? 2_000_000;
  }

  now(): number {
    return this.nowMs;
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  member(name: string): SwimMember {
    const h = this.hosts.get(name);
    assert(h !== undefined, `no member ${name}`);
    return h.member;
  }

  isUp(name: string): boolean {
    return this.hosts.get(name)?.up === true;
  }

  onEvent(listener: (e: ObservedEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Adds (or restarts) a member and has it join through `seeds`. */
  add(name: string, seeds: readonly string[] = [], config: SwimConfig = this.config): SwimMember {
    const prev = this.hosts.get(name);
    const rng = this.rng.fork(`${name}#${prev === undefined ? 0 : prev.generation + 1}`);
    const member = new SwimMember({ name, address: name, config, rng, nowMs: this.nowMs });
    const host: Host = { member, up: true, paused: false, backlog: [], tickAtMs: Number.POSITIVE_INFINITY, generation: (prev?.generation ?? 0) + 1, rng };
    this.hosts.set(name, host);
    member.join(seeds);
    this.after(host);
    return member;
  }

  /** Crash: the member stops; packets to it are lost. */
  kill(name: string): void {
    const h = this.hosts.get(name);
    if (h === undefined) return;
    h.up = false;
    h.backlog = [];
    h.generation++;
  }

  pause(name: string): void {
    const h = this.hosts.get(name);
    if (h?.up) h.paused = true;
  }

  resume(name: string): void {
    const h = this.hosts.get(name);
    if (h === undefined || !h.up || !h.paused) return;
    h.paused = false;
    const backlog = h.backlog;
    h.backlog = [];
    h.member.tick(this.nowMs);
    for (const item of backlog) if (item.kind === 'deliver') this.deliver(h, item);
    this.after(h);
  }

  isPaused(name: string): boolean {
    return this.hosts.get(name)?.paused === true;
  }

  setLossRate(p: number): void {
    this.lossRate = p;
  }

  /** Drops datagrams and streams from `from` to `to`. */
  blockLink(from: string, to: string): void {
    this.blocked.add(`${from}\u0000${to}`);
  }

  /** Cuts every link between different groups. */
  partition(groups: readonly (readonly string[])[]): void {
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) this.blockLink(a, b);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Runs events until `untilMs` (virtual time). */
  runUntilTime(untilMs: number): void {
    for (;;) {
      const top = this.queue.peek();
      if (top === undefined || top.atMs > untilMs) break;
      this.step();
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  runFor(ms: number): void {
    this.runUntilTime(this.nowMs + ms);
  }

  /** Runs until `cond()` holds (checked after every event) or `maxMs` passes; returns whether it held. */
  runUntil(cond: () => boolean, maxMs: number): boolean {
    const end = this.nowMs + maxMs;
    if (cond()) return true;
    for (;;) {
      const top = this.queue.peek();
      if (top === undefined || top.atMs > end) {
        this.nowMs = Math.max(this.nowMs, end);
        return cond();
      }
      this.step();
      if (cond()) return true;
    }
  }

  /** True when every up member sees exactly `expected` as alive (plus no other alive or suspect member). */
  converged(expected: readonly string[]): boolean {
    const want = new Set(expected);
    for (const name of expected) {
      const h = this.hosts.get(name);
      if (h === undefined || !h.up) return false;
      let live = 0;
      for (const m of h.member.membersView()) {
        if (m.state === 'alive' && want.has(m.name)) live++;
        else if (m.state === 'alive' || m.state === 'suspect') return false;
      }
      if (live !== want.size) return false;
    }
    return true;
  }

  /** True when every up member other than `name` sees it in `state` (or has forgotten it, for dead/left). */
  allSee(name: string, state: 'alive' | 'dead' | 'left'): boolean {
    for (const [n, h] of this.hosts) {
      if (n === name || !h.up) continue;
      const m = h.member.member(name);
      if (m === undefined) {
        if (state === 'alive') return false;
        continue;
      }
      if (m.state !== state) return false;
    }
    return true;
  }

  private step(): void {
    const item = this.queue.pop();
    if (item === undefined) return;
    this.nowMs = Math.max(this.nowMs, item.atMs);
    if (item.kind === 'tick') {
      const h = this.hosts.get(item.node);
      if (h === undefined || !h.up || h.generation !== item.generation || h.tickAtMs !== item.atMs) return;
      h.tickAtMs = Number.POSITIVE_INFINITY;
      if (h.paused) return;
      h.member.tick(this.nowMs);
      this.after(h);
      return;
    }
    const h = this.hosts.get(item.to);
    if (h === undefined || !h.up) {
      this.dropped++;
      return;
    }
    if (h.paused) {
      if (h.backlog.length < BACKLOG_MAX) h.backlog.push(item);
      else this.dropped++;
      return;
    }
    this.deliver(h, item);
    this.after(h);
  }

  private deliver(h: Host, item: Extract<QueueItem, { kind: 'deliver' }>): void {
    h.member.tick(this.nowMs);
    if (!item.stream) {
      h.member.handlePacket(item.from, item.bytes);
      return;
    }
    const reply = h.member.handleStream(item.from, item.bytes);
    if (reply !== undefined && item.replyable) this.send(h.member.name, item.from, reply, true, false);
  }

  /** Drains a member's outputs and schedules its next tick. */
  private after(h: Host): void {
    const name = h.member.name;
    for (const out of h.member.drainOutgoing()) this.send(name, out.to, out.bytes, out.channel === 'stream', true);
    for (const e of h.member.drainEvents()) {
      const ev: ObservedEvent = { ...e, observer: name };
      if (this.events.length >= this.eventsMax) this.events.shift();
      this.events.push(ev);
      for (const l of this.listeners) l(ev);
    }
    const next = h.member.nextDeadlineMs();
    if (next < h.tickAtMs && Number.isFinite(next)) {
      h.tickAtMs = Math.max(next, this.nowMs);
      this.push({ kind: 'tick', atMs: h.tickAtMs, order: this.order++, node: name, generation: h.generation });
    }
  }

  private send(from: string, to: string, bytes: Uint8Array, stream: boolean, replyable: boolean): void {
    if (this.blocked.has(`${from}\u0000${to}`)) {
      this.dropped++;
      return;
    }
    if (!stream && this.rng.chance(this.lossRate)) {
      this.dropped++;
      return;
    }
    const latency = this.latency.min + this.rng.float() * (this.latency.max - this.latency.min);
    this.push({ kind: 'deliver', atMs: this.nowMs + latency, order: this.order++, to, from, stream, bytes, replyable });
  }

  private push(item: QueueItem): void {
    if (this.queue.size >= this.queueMax) {
      this.dropped++;
      return;
    }
    this.queue.push(item);
  }
}
