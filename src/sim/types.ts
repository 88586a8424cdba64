/**
 * The simulator's host interface: what a node running inside the simulator sees. A protocol
 * core is sans-IO; a small adapter (a `SimNode`) owns the core, feeds it messages and timer
 * ticks from its `SimContext`, persists its output on the simulated disk and sends its messages
 * through the simulated network. The real runtime offers the same shape over sockets and files.
 */
import type { TimerHandle } from '../core/clock.ts';
import type { NodeId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';

/** Durable storage of one simulated node. Files are byte arrays; nothing is durable until synced. */
export interface SimDisk {
  /** File names, sorted. */
  list(): string[];
  /** Current content as the node sees it (includes writes not yet synced), or undefined. */
  read(file: string): Uint8Array | undefined;
  /** Appends bytes to a file (created if absent). Not durable until `fsync`. */
  append(file: string, data: Uint8Array): void;
  /** Replaces a file's content atomically (like write-temp-then-rename). Not durable until `fsync`. */
  write(file: string, data: Uint8Array): void;
  /** Removes a file. Not durable until `fsync`. */
  delete(file: string): void;
  /** Makes every earlier write to `file` durable, immediately (zero virtual time). */
  fsync(file: string): void;
  /** Makes every earlier write to every file durable, immediately. */
  fsyncAll(): void;
  /**
   * Asynchronous fsync of all files: `done` runs after the simulated disk latency. A crash
   * before then loses the unsynced writes (subject to the crash model) and `done` never runs.
   */
  fsyncAllAsync(done: () => void): void;
}

/** What a simulated node can do. Everything is deterministic given the simulator's seed. */
export interface SimContext<M> {
  readonly id: NodeId;
  /** Virtual time, milliseconds. */
  now(): number;
  /** This node's random stream (a fresh fork on every restart). */
  readonly rng: Rng;
  /** Sends a message through the simulated network (may be lost, delayed, duplicated, reordered). */
  send(to: NodeId, msg: M): void;
  /** Runs `callback` after `delayMs` of virtual time, unless the node crashes first. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  readonly disk: SimDisk;
  /** Adds a line to the trace (and to the trace hash). */
  trace(event: string): void;
}

/** A node inside the simulator. Built by a factory at start and at every restart. */
export interface SimNode<M> {
  /** Called once when the node boots (first start or restart); durable state is on ctx.disk. */
  start(ctx: SimContext<M>): void;
  /** Called for every delivered message. */
  onMessage(from: NodeId, msg: M): void;
}

export type SimNodeFactory<M> = (id: NodeId) => SimNode<M>;
