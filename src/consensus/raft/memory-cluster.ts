/**
 * An in-memory Raft cluster for tests: each node is a `Raft` core over a `MemoryStorage`, the
 * "network" is a FIFO queue of messages that tests deliver, drop or filter by hand. Hosts the
 * core exactly as the Ready contract says (persist, send, apply, advance). Used by the paper
 * unit tests and the transcript tests; deterministic for a given seed.
 *
 * Leaves out: time and faults beyond message control (the simulator adapter covers those).
 */
import type { NodeId } from '../../core/ids.ts';
import { createRng } from '../../core/rng.ts';
import type { RaftConfig } from './config.ts';
import { Raft, type Ready } from './raft.ts';
import { MemoryStorage } from './storage.ts';
import type { ConfState, Entry, Message, ReadState } from './types.ts';

export interface MemoryNode {
  id: NodeId;
  raft: Raft;
  storage: MemoryStorage;
  /** Every entry applied, in order (a snapshot restore appends nothing). */
  applied: Entry[];
  readStates: ReadState[];
  /** Application data applied, as strings (empty entries skipped). */
  values: string[];
  /** Index of the snapshot last restored (0: none) and its values. */
  restoredFrom: number;
  restoredValues: string[];
}

export class MemoryCluster {
  readonly nodes = new Map<NodeId, MemoryNode>();
  /** Messages in flight, in send order. */
  queue: Message[] = [];
  /** Directed links that drop everything: "from>to". */
  readonly cut = new Set<string>();
  readonly config: Partial<RaftConfig>;
  private readonly seed: number;
  /** The last Ready each node processed (for tests that inspect it). */
  readonly lastReady = new Map<NodeId, Ready>();
  /** Messages for which this returns true are dropped at delivery. */
  drop: ((m: Message) => boolean) | undefined;
  /** Optional observer of every message as it is delivered. */
  onDeliver: ((m: Message) => void) | undefined;

  constructor(ids: readonly NodeId[], config: Partial<RaftConfig> = {}, seed = 1) {
    this.config = config;
    this.seed = seed;
    const cs: ConfState = { voters: [...ids], learners: [], votersOutgoing: [], learnersNext: [] };
    for (const id of ids) this.addNode(id, cs);
  }

  addNode(id: NodeId, cs: ConfState): MemoryNode {
    const storage = MemoryStorage.bootstrap(cs);
    const raft = new Raft({ id, storage, rng: createRng(this.seed).fork(id), config: this.config });
    const node: MemoryNode = { id, raft, storage, applied: [], readStates: [], values: [], restoredFrom: 0, restoredValues: [] };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): MemoryNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Drains one node's Ready following the documented order. Returns whether there was one. */
  process(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.raft.hasReady()) return false;
    const rd = n.raft.ready();
    this.lastReady.set(id, rd);
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.restoredFrom = rd.snapshot.metadata.index;
      n.restoredValues = new TextDecoder().decode(rd.snapshot.data).split('\n').filter((s) => s !== '');
      n.values = [...n.restoredValues];
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const om of rd.messages) this.enqueue(om.message);
    for (const e of rd.committedEntries) {
      n.applied.push(e);
      if (e.type === 'normal' && e.data.byteLength > 0) n.values.push(new TextDecoder().decode(e.data));
    }
    for (const r of rd.readStates) n.readStates.push(r);
    n.raft.advance(rd);
    return true;
  }

  processAll(): boolean {
    let any = false;
    for (const id of this.nodes.keys()) if (this.process(id)) any = true;
    return any;
  }

  enqueue(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`)) return;
    this.queue.push(m);
  }

  /** Delivers queued messages (optionally only those matching), returning what was delivered. */
  deliver(filter: (m: Message) => boolean = () => true, drop: (m: Message) => boolean = () => false): Message[] {
    const take: Message[] = [];
    const keep: Message[] = [];
    for (const m of this.queue) (filter(m) ? take : keep).push(m);
    this.queue = keep;
    const delivered: Message[] = [];
    for (const m of take) {
      if (drop(m) || this.drop?.(m) || this.cut.has(`${m.from}>${m.to}`)) continue;
      const n = this.nodes.get(m.to);
      if (!n) continue;
      this.onDeliver?.(m);
      n.raft.step(m);
      delivered.push(m);
    }
    return delivered;
  }

  /** Processes and delivers until nothing is left to do (bounded). */
  stabilize(roundsMax = 1000): number {
    let rounds = 0;
    for (; rounds < roundsMax; rounds++) {
      const a = this.processAll();
      if (this.queue.length === 0 && !a) break;
      this.deliver();
    }
    return rounds;
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).raft.tick();
  }

  /** Ticks every node n times, round-robin (one tick each per round). */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const id of this.nodes.keys()) this.tick(id);
  }

  /** Cuts every link between the groups (and keeps links inside a group). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.cut.clear();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      for (const id of g) groupOf.set(id, i);
    });
    for (const a of this.nodes.keys()) {
      for (const b of this.nodes.keys()) {
        if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.cut.add(`${a}>${b}`);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  isolate(id: NodeId): void {
    for (const b of this.nodes.keys()) {
      if (b === id) continue;
      this.cut.add(`${id}>${b}`);
      this.cut.add(`${b}>${id}`);
    }
  }

  leader(): NodeId | undefined {
    let best: MemoryNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.raft.role === 'leader' && (!best || n.raft.term > best.raft.term)) best = n;
    }
    return best?.id;
  }

  /** Elects `id` by campaigning and stabilizing. */
  elect(id: NodeId): void {
    this.node(id).raft.campaign();
    this.stabilize();
  }

  /** Compacts a node's log: snapshot at `index` with its applied values as data. */
  compact(id: NodeId, index: number): void {
    const n = this.node(id);
    const values: string[] = [...n.restoredValues];
    for (const e of n.applied) if (e.index > n.restoredFrom && e.index <= index && e.type === 'normal' && e.data.byteLength > 0) values.push(new TextDecoder().decode(e.data));
    const data = new TextEncoder().encode(`${values.join('\n')}\n`);
    n.storage.createSnapshot(index, n.raft.confState(), data);
    n.storage.compact(index);
  }
}

export function encodeText(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
