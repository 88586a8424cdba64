/**
 * Eventual registry store on the gossip CRDT map (seed 04.6.2 and 04.6.6; Consul's agent-side
 * gossip view): every registry node holds a full LWW-map replica of the records, spreads its
 * writes by rumor mongering and repairs the rest by anti-entropy. Reads and writes are local, so
 * each side of a partition keeps answering (with what it knows) and the sides converge when the
 * partition heals. The index is a local counter that moves whenever this replica's content
 * changes (indexes are not comparable across nodes, as Consul's agent-local indexes).
 * Transports: `GossipHub` (in-process, with partitions, for tests and benchmarks) and
 * `HttpGossipTransport` (JSON over HTTP POST between registry processes).
 * Leaves out: tombstone collection (inherited from the map), membership (static peer list or
 * a `PeerSource` from SWIM), encryption.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeId } from '../core/ids.ts';
import { createRng } from '../core/rng.ts';
import { ReplicatedMap, type ReplicatedMapConfig, type ReplicatedMapMessage } from '../consistency/replicated-map.ts';
import type { RegistryStore, StoreSnapshot } from './store.ts';
import type { InstanceRecord } from './types.ts';

export type GossipRecordMessage = ReplicatedMapMessage<InstanceRecord>;

export interface GossipTransport {
  send(to: NodeId, msg: GossipRecordMessage): void;
  /** Registers the receiver; one per transport. */
  onMessage(handler: (from: NodeId, msg: GossipRecordMessage) => void): void;
  close(): Promise<void>;
}

export interface GossipStoreOptions {
  readonly self: NodeId;
  readonly peers: () => readonly NodeId[];
  readonly transport: GossipTransport;
  /** Gossip round period. Default 100 ms. */
  readonly tickMs?: number;
  readonly seed?: number;
  readonly map?: Partial<ReplicatedMapConfig>;
}

export class GossipStore implements RegistryStore {
  readonly kind = 'gossip';
  readonly map: ReplicatedMap<InstanceRecord>;
  private index = 0;
  private digestKey = '';
  private readonly listeners = new Set<() => void>();
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly options: GossipStoreOptions) {
    this.map = new ReplicatedMap<InstanceRecord>({
      self: options.self,
      rng: createRng(options.seed ?? 1).fork(options.self),
      peers: options.peers,
      nowMs: Date.now(),
      ...(options.map === undefined ? {} : { config: options.map }),
    });
    options.transport.onMessage((from, msg) => {
      if (this.closed) return;
      this.map.handleMessage(from, msg, Date.now());
      this.flush();
    });
    this.timer = setInterval(() => {
      this.map.tick(Date.now());
      this.flush();
    }, options.tickMs ?? 100);
    this.timer.unref();
  }

  async put(record: InstanceRecord): Promise<void> {
    this.checkOpen();
    this.map.set(record.id, record, Date.now());
    this.flush();
  }

  async remove(id: string): Promise<boolean> {
    this.checkOpen();
    if (this.map.get(id) === undefined) return false;
    this.map.delete(id, Date.now());
    this.flush();
    return true;
  }

  async snapshot(): Promise<StoreSnapshot> {
    this.checkOpen();
    return { index: this.index, records: this.map.entries().map(([, v]) => v) };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.listeners.clear();
    await this.options.transport.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('gossip store is closed');
  }

  /** Sends pending messages; bumps the index and tells listeners when the replica changed. */
  private flush(): void {
    for (const out of this.map.pollMessages()) this.options.transport.send(out.to, out.msg);
    const d = this.map.digest().join(',');
    if (d !== this.digestKey) {
      this.digestKey = d;
      this.index++;
      for (const l of [...this.listeners]) l();
    }
  }
}

/** In-process transport between gossip stores, with partitions. Delivery is asynchronous (a macrotask later). */
export class GossipHub {
  private readonly handlers = new Map<NodeId, (from: NodeId, msg: GossipRecordMessage) => void>();
  private readonly groupOf = new Map<NodeId, number>();
  delivered = 0;
  dropped = 0;

  transport(self: NodeId): GossipTransport {
    return {
      send: (to, msg) => {
        if ((this.groupOf.get(self) ?? 0) !== (this.groupOf.get(to) ?? 0)) {
          this.dropped++;
          return;
        }
        const copy = JSON.parse(JSON.stringify(msg)) as GossipRecordMessage;
        setImmediate(() => {
          if ((this.groupOf.get(self) ?? 0) !== (this.groupOf.get(to) ?? 0)) {
            this.dropped++;
            return;
          }
          const h = this.handlers.get(to);
          if (h === undefined) return;
          this.delivered++;
          h(self, copy);
        });
      },
      onMessage: (handler) => {
        this.handlers.set(self, handler);
      },
      close: async () => {
        this.handlers.delete(self);
      },
    };
  }

  /** Splits the nodes into groups that cannot reach each other. */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    this.groupOf.clear();
    groups.forEach((g, i) => {
      for (const n of g) this.groupOf.set(n, i + 1);
    });
  }

  heal(): void {
    this.groupOf.clear();
  }
}

const GOSSIP_BODY_BYTES_MAX = 4 * 1024 * 1024;

/** JSON over HTTP POST `/gossip` between registry processes; peers given as `name=host:port`. */
export class HttpGossipTransport implements GossipTransport {
  private readonly server: http.Server;
  private handler: ((from: NodeId, msg: GossipRecordMessage) => void) | undefined;
  private inFlight = 0;
  private readonly inFlightMax = 256;

  constructor(
    private readonly self: NodeId,
    private readonly peerAddresses: ReadonlyMap<NodeId, string>,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= GOSSIP_BODY_BYTES_MAX) chunks.push(c);
      });
      req.on('end', () => {
        res.writeHead(size > GOSSIP_BODY_BYTES_MAX ? 413 : 204).end();
        if (size > GOSSIP_BODY_BYTES_MAX) return;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { from: NodeId; msg: GossipRecordMessage };
          this.handler?.(body.from, body.msg);
        } catch {
          // malformed gossip: dropped
        }
      });
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  send(to: NodeId, msg: GossipRecordMessage): void {
    const addr = this.peerAddresses.get(to);
    if (addr === undefined || this.inFlight >= this.inFlightMax) return;
    this.inFlight++;
    fetch(`http://${addr}/gossip`, { method: 'POST', body: JSON.stringify({ from: this.self, msg }), signal: AbortSignal.timeout(2000) })
      .then((r) => r.body?.cancel())
      .catch(() => {})
      .finally(() => {
        this.inFlight--;
      });
  }

  onMessage(handler: (from: NodeId, msg: GossipRecordMessage) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
