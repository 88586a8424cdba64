/**
 * Client request de-duplication (Raft dissertation §6.3, "implementing linearizable
 * semantics"): each client tags a request with its id and a sequence number; the state machine
 * remembers, per client, the last sequence number applied and its result. A retry of that
 * request (same seq) gets the remembered result without being applied again; an older seq is
 * refused. The table is bounded: beyond `clientsMax` the least recently used client is evicted,
 * deterministically (every replica applies the same commands, so evicts the same client).
 *
 * Leaves out: several requests in flight per client id (a client that pipelines uses one id per
 * concurrent stream), and session expiry by time.
 */
export interface Session {
  seq: number;
  /** The encoded result of request `seq` (see codec.ts). */
  result: string;
}

export class SessionTable {
  /** Insertion order = recency order (least recent first). */
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly clientsMax: number) {}

  get size(): number {
    return this.sessions.size;
  }

  get(clientId: string): Session | undefined {
    return this.sessions.get(clientId);
  }

  /** Records the result of `seq` for the client, marks it most recent, evicts beyond the limit. */
  record(clientId: string, seq: number, result: string): void {
    this.sessions.delete(clientId);
    this.sessions.set(clientId, { seq, result });
    while (this.sessions.size > this.clientsMax) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
  }

  /** Sessions, least recent first (for snapshots). */
  entries(): [string, Session][] {
    return [...this.sessions.entries()];
  }

  load(entries: readonly [string, Session][]): void {
    this.sessions.clear();
    for (const [id, s] of entries) this.sessions.set(id, s);
  }
}
