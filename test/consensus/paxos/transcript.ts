/**
 * A transcript language for the Multi-Paxos core (after etcd-io/raft's datadriven tests).
 * Commands, one per block, each followed by `----` and the expected output:
 *
 *   add-nodes N [q1=A q2=B]   a group n1..nN (majority, or Flexible Paxos quorums)
 *   campaign nX               nX starts phase 1 now
 *   propose nX cmd...         queue commands at nX (prints the error when refused)
 *   read nX ctx               a linearizable read at nX
 *   tick nX|all [times]       logical clock ticks (messages stay queued)
 *   stabilize                 deliver every queued message (FIFO) until quiet, printing each
 *   deliver nX                deliver the messages now queued to nX (not their replies)
 *   drop nX|all               drop the messages queued to nX (or all)
 *   isolate nX / heal         cut nX off from everyone / restore every link
 *   status                    one line per node
 *
 * Output lines: `nA->nB type ...` for each delivered message (`(dropped)` when cut), `nA: role
 * ballot` on a role change, `nA: apply slot value`, `nA: read ctx @slot`, `nA: dropped cmd`.
 */
import type { NodeId } from '../../../src/core/ids.ts';
import { createRng } from '../../../src/core/rng.ts';
import { ballotString } from '../../../src/consensus/paxos/ballot.ts';
import { MultiPaxos, type PaxosMsg, type PaxosValue, type SlotValue } from '../../../src/consensus/paxos/multi.ts';

function fmtValue(v: PaxosValue): string {
  return v.kind === 'noop' ? 'noop' : v.cmds.join('+');
}

function fmtEntries(es: readonly SlotValue[]): string {
  return `[${es.map((e) => `${e.slot}:${fmtValue(e.value)}`).join(' ')}]`;
}

export function fmtPaxosMessage(m: PaxosMsg): string {
  switch (m.type) {
    case 'prepare':
      return `prepare ${ballotString(m.ballot)} from=${m.fromSlot}`;
    case 'promise':
      return `promise ${ballotString(m.ballot)} [${m.accepted.map((a) => `${a.slot}:${fmtValue(a.value)}@${a.ballot.round === Number.MAX_SAFE_INTEGER ? 'chosen' : ballotString(a.ballot)}`).join(' ')}]`;
    case 'nack':
      return `nack ${ballotString(m.ballot)} promised=${ballotString(m.promised)}`;
    case 'accept':
      return `accept ${ballotString(m.ballot)} ${fmtEntries(m.entries)} chosen<${m.chosenBelow}`;
    case 'accepted':
      return `accepted ${ballotString(m.ballot)} [${m.slots.join(' ')}]`;
    case 'heartbeat':
      return `heartbeat ${ballotString(m.ballot)} chosen<${m.chosenBelow} seq=${m.seq}`;
    case 'heartbeat-ack':
      return `heartbeat-ack ${ballotString(m.ballot)} seq=${m.seq}`;
    case 'catchup-req':
      return `catchup-req from=${m.fromSlot}`;
    case 'catchup':
      return `catchup ${fmtEntries(m.entries)}`;
  }
}

export class PaxosTranscriptRunner {
  private nodes = new Map<NodeId, MultiPaxos>();
  private queue: { from: NodeId; to: NodeId; msg: PaxosMsg }[] = [];
  private readonly isolated = new Set<NodeId>();
  private roles = new Map<NodeId, string>();
  private out: string[] = [];

  run(command: string): string {
    this.out = [];
    const [cmd, ...args] = command.trim().split(/\s+/);
    switch (cmd) {
      case 'add-nodes': {
        const n = Number(args[0]);
        const kv = Object.fromEntries(args.slice(1).map((a) => a.split('=') as [string, string]));
        const ids: NodeId[] = [];
        for (let i = 1; i <= n; i++) ids.push(`n${i}`);
        const quorum = kv.q1 !== undefined ? { kind: 'flexible' as const, q1: Number(kv.q1), q2: Number(kv.q2) } : { kind: 'majority' as const };
        for (const id of ids) {
          const p = new MultiPaxos({ id, config: { nodes: ids, quorum }, rng: createRng(ids.indexOf(id) + 1) });
          this.nodes.set(id, p);
          this.roles.set(id, `${p.role} ${ballotString(p.ballot)}`);
        }
        const any = this.node('n1');
        this.out.push(`nodes ${ids.join(',')} q1=${any.q1} q2=${any.q2}`);
        break;
      }
      case 'campaign':
        this.node(args[0]).campaign();
        this.drain();
        break;
      case 'propose':
        try {
          for (const c of args.slice(1)) this.node(args[0]).propose(c);
        } catch (err) {
          this.out.push(`error: ${(err as Error).message}`);
        }
        this.drain();
        break;
      case 'read':
        try {
          this.node(args[0]).read(args[1] ?? 'r');
        } catch (err) {
          this.out.push(`error: ${(err as Error).message}`);
        }
        this.drain();
        break;
      case 'tick': {
        const times = Number(args[1] ?? 1);
        const who = args[0] === 'all' ? [...this.nodes.keys()] : [args[0] as string];
        for (let i = 0; i < times; i++) {
          for (const id of who) this.node(id).tick();
          this.drain();
        }
        break;
      }
      case 'stabilize':
        this.stabilize();
        break;
      case 'deliver': {
        const mine = this.queue.filter((m) => m.to === args[0]);
        this.queue = this.queue.filter((m) => m.to !== args[0]);
        for (const { from, to, msg } of mine) this.deliverOne(from, to, msg);
        break;
      }
      case 'drop': {
        const before = this.queue.length;
        this.queue = args[0] === 'all' ? [] : this.queue.filter((m) => m.to !== args[0]);
        this.out.push(`dropped ${before - this.queue.length} messages`);
        break;
      }
      case 'isolate':
        this.isolated.add(args[0] as string);
        this.out.push('ok');
        break;
      case 'heal':
        this.isolated.clear();
        this.out.push('ok');
        break;
      case 'status':
        for (const [id, p] of this.nodes) {
          this.out.push(`${id}: ${p.role} ballot=${ballotString(p.ballot)} promised=${ballotString(p.promised)} leader=${p.leader || '-'} chosen<${p.chosenBelow}`);
        }
        break;
      default:
        throw new Error(`unknown transcript command ${JSON.stringify(cmd)}`);
    }
    return this.out.length > 0 ? this.out.join('\n') : 'ok';
  }

  private node(id: string | undefined): MultiPaxos {
    const p = this.nodes.get(id ?? '');
    if (!p) throw new Error(`unknown node ${id}`);
    return p;
  }

  /** Drains every node's Ready (fsync assumed instant): queues messages, prints applies. */
  private drain(): void {
    for (const [id, p] of this.nodes) {
      while (p.hasReady()) {
        const rd = p.ready();
        for (const m of [...rd.messages, ...rd.afterSync]) this.queue.push({ from: id, to: m.to, msg: m.msg });
        for (const c of rd.committed) this.out.push(`${id}: apply ${c.slot} ${fmtValue(c.value)}`);
        for (const r of rd.reads) this.out.push(`${id}: read ${r.context} @${r.slot}`);
        for (const d of rd.dropped) this.out.push(`${id}: dropped ${d}`);
      }
      const role = `${p.role} ${ballotString(p.ballot)}`;
      if (role !== this.roles.get(id)) {
        this.out.push(`${id}: ${role}`);
        this.roles.set(id, role);
      }
    }
  }

  private stabilize(): void {
    this.drain();
    while (this.queue.length > 0) {
      const { from, to, msg } = this.queue.shift() as { from: NodeId; to: NodeId; msg: PaxosMsg };
      this.deliverOne(from, to, msg);
    }
  }

  private deliverOne(from: NodeId, to: NodeId, msg: PaxosMsg): void {
    const cut = from !== to && (this.isolated.has(from) || this.isolated.has(to));
    if (from !== to) this.out.push(`${from}->${to} ${fmtPaxosMessage(msg)}${cut ? ' (dropped)' : ''}`);
    if (!cut) this.node(to).handle(from, msg);
    this.drain();
  }
}
