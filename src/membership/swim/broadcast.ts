/**
 * Piggyback queue for membership updates (SWIM §4.1 "infection-style dissemination";
 * memberlist's TransmitLimitedQueue). One entry per member name: a newer update about a member
 * replaces the older one. Each packet takes the least-transmitted updates first (newest first
 * among equals) that fit its remaining bytes; an update is retired after
 * `retransmitMult · ceil(log10(n + 1))` transmissions. Bounded: beyond `queueMax` entries the
 * most-transmitted ones are dropped.
 */
import { jsonBytes } from './codec.ts';
import type { SwimUpdate } from './messages.ts';

interface Entry {
  update: SwimUpdate;
  bytes: number;
  transmits: number;
  /** Insertion order; larger is newer. */
  id: number;
}

export class BroadcastQueue {
  private readonly entries = new Map<string, Entry>();
  private nextId = 0;
  private readonly queueMax: number;
  dropped = 0;

  constructor(queueMax: number) {
    this.queueMax = queueMax;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Queues `update`, replacing any pending update about the same member. */
  enqueue(update: SwimUpdate): void {
    this.entries.delete(update.name);
    this.entries.set(update.name, { update, bytes: jsonBytes(update) + 1, transmits: 0, id: this.nextId++ });
    if (this.entries.size > this.queueMax) {
      let worst: [string, Entry] | undefined;
      for (const kv of this.entries) {
        const e = kv[1];
        if (worst === undefined || e.transmits > worst[1].transmits || (e.transmits === worst[1].transmits && e.id < worst[1].id)) {
          worst = kv;
        }
      }
      if (worst !== undefined) {
        this.entries.delete(worst[0]);
        this.dropped++;
      }
    }
  }

  /** Pending update about `name`, if any. */
  pending(name: string): SwimUpdate | undefined {
    return this.entries.get(name)?.update;
  }

  /**
   * Takes updates fitting in `bytesAvailable` (each costs its JSON size plus a separator),
   * counting one transmission each and retiring those that reach `limit`. `skip` names are
   * left alone (already in the packet).
   */
  take(bytesAvailable: number, limit: number, skip?: string): SwimUpdate[] {
    if (this.entries.size === 0 || bytesAvailable <= 0) return [];
    const sorted = [...this.entries.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: SwimUpdate[] = [];
    let left = bytesAvailable;
    for (const e of sorted) {
      if (e.update.name === skip) continue;
      if (e.bytes > left) continue;
      left -= e.bytes;
      out.push(e.update);
      e.transmits++;
      if (e.transmits >= limit) this.entries.delete(e.update.name);
      if (left < 16) break;
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
  }
}
