/**
 * The client side of the replicated KV registers in the simulator (Raft, Paxos): a client node
 * sends each request to its guess of the leader, follows redirects (with a little jitter, at most
 * `ATTEMPTS_MAX` times), and hands the reply to the workload. A request that never gets an answer
 * is left to the workload's timeout, which records it as `info`.
 */
import type { NodeId } from '../core/ids.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { KvClientDriver, KvOp, KvOutcome } from '../sim/workload.ts';

/** The client protocol shared by the simulated KV registers. */
export type KvClientMsg =
  | { type: 'req'; client: NodeId; id: number; op: KvOp }
  | { type: 'res'; id: number; outcome: KvOutcome }
  | { type: 'redirect'; id: number; leader: NodeId };

export class LeaderKvClient implements SimNode<KvClientMsg> {
  private ctx!: SimContext<KvClientMsg>;
  private nextId = 1;
  private leaderGuess: NodeId;
  private readonly servers: readonly NodeId[];
  private readonly waiting = new Map<number, { op: KvOp; done: (o: KvOutcome) => void; attempts: number }>();
  static readonly ATTEMPTS_MAX = 30;

  constructor(servers: readonly NodeId[]) {
    this.servers = servers;
    this.leaderGuess = servers[0] as NodeId;
  }

  start(ctx: SimContext<KvClientMsg>): void {
    this.ctx = ctx;
  }

  request(op: KvOp, done: (o: KvOutcome) => void): void {
    const id = this.nextId++;
    this.waiting.set(id, { op, done, attempts: 0 });
    this.ctx.send(this.leaderGuess, { type: 'req', client: this.ctx.id, id, op });
  }

  onMessage(_from: NodeId, msg: KvClientMsg | { type: string }): void {
    const m = msg as KvClientMsg;
    if (m.type === 'res') {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      w.done(m.outcome);
      return;
    }
    if (m.type !== 'redirect') return;
    const w = this.waiting.get(m.id);
    if (!w) return;
    w.attempts++;
    if (w.attempts > LeaderKvClient.ATTEMPTS_MAX) return; // the workload's timeout records it as info
    this.leaderGuess = m.leader !== '' ? m.leader : this.ctx.rng.pick(this.servers);
    const id = m.id;
    this.ctx.setTimer(5 + this.ctx.rng.float() * 10, () => {
      if (this.waiting.has(id)) this.ctx.send(this.leaderGuess, { type: 'req', client: this.ctx.id, id, op: w.op });
    });
  }
}

/** Routes workload process p to the client node `clientOf(p)`; a crashed client fails definitely. */
export function leaderKvDriver(clientOf: (process: number) => LeaderKvClient | undefined): KvClientDriver {
  return {
    invoke(process, op, done) {
      const c = clientOf(process);
      if (!c) {
        done({ type: 'fail', error: 'client node is down' });
        return;
      }
      c.request(op, done);
    },
  };
}
