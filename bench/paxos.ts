/**
 * Paxos message complexity and latency, beside the seed's "O(n²) worst case" (04.6.5).
 *
 * Part 1, single-decree Paxos with k duelling proposers: n acceptors that are also the learners
 * (the textbook set-up, every acceptor tells every learner), k proposers started at the same
 * time, one-way delay uniform in 1..8 ms. A proposer refused by a nack retries with a ballot
 * above the promise it was told about, either at once ("no backoff": the livelock of
 * "Paxos Made Simple" §2.4) or after a random backoff that grows per attempt. Messages and
 * phase-1 rounds until every proposer is done, capped at 200 rounds per proposer.
 *
 * Part 2, Multi-Paxos steady state against Raft in the same simulator: the replicated KV
 * register of `clusterkit sim paxos` and `clusterkit sim raft` with no faults, the same
 * workload (3 clients, 3 keys, think time 10 ms), the same network (1..8 ms) and disk
 * (fsync 0.5..4 ms), n = 3, 5, 7, 9. Protocol messages (not client requests) per committed
 * command, replication messages only (Paxos accept + accepted, Raft append + append-response),
 * and client-visible commit latency of writes; Paxos / Raft as a ratio.
 *
 *   node --import tsx bench/paxos.ts [--ops 300] [--seeds 3]
 */
import type { NodeId } from '../src/core/ids.ts';
import { createRng } from '../src/core/rng.ts';
import { Acceptor, Learner, Proposer, type SingleMsg } from '../src/consensus/paxos/single.ts';
import type { RaftConfig } from '../src/consensus/raft/config.ts';
import { PaxosChecker, PaxosKvClient, type PaxosKvMsg, PaxosKvServer, paxosKvDriver } from '../src/scenarios/paxos-kv.ts';
import { RaftChecker, RaftKvClient, type RaftKvMsg, RaftKvServer, raftKvDriver } from '../src/scenarios/raft-kv.ts';
import { EventHeap } from '../src/sim/heap.ts';
import type { History } from '../src/sim/history.ts';
import { Simulator } from '../src/sim/simulator.ts';
import type { SimContext, SimNode } from '../src/sim/types.ts';
import { KvWorkload } from '../src/sim/workload.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer`);
    process.exit(2);
  }
  return v;
}

const OPS = flag('--ops', 300);
const SEEDS = flag('--seeds', 3);

// ---- part 1: single decree, duelling proposers ---------------------------------------------

interface DuelResult {
  messages: number;
  rounds: number;
  decided: boolean;
  decideMs: number;
}

function duel(n: number, k: number, backoff: boolean, seed: number): DuelResult {
  const rng = createRng(seed);
  const ids: NodeId[] = [];
  for (let i = 1; i <= n; i++) ids.push(`a${i}`);
  const q = Math.floor(n / 2) + 1;
  const acceptors = new Map(ids.map((id) => [id, new Acceptor(id, ids)]));
  const learners = new Map(ids.map((id) => [id, new Learner(q)]));
  const proposers = new Map<NodeId, Proposer>();
  for (let i = 0; i < k; i++) proposers.set(`p${i + 1}`, new Proposer(`p${i + 1}`, ids, q, q));
  type Ev = { time: number; seq: number; kind: 'msg'; from: NodeId; to: NodeId; msg: SingleMsg } | { time: number; seq: number; kind: 'retry'; p: NodeId; ballotRound: number };
  const heap = new EventHeap<Ev>();
  let seq = 0;
  let now = 0;
  let messages = 0;
  let decideMs = -1;
  const roundsMax = 200;
  const attempts = new Map<NodeId, number>();
  const pump = () => {
    for (const [id, p] of proposers) {
      for (const o of p.poll()) {
        messages++;
        heap.push({ time: now + 1 + rng.float() * 7, seq: seq++, kind: 'msg', from: id, to: o.to, msg: o.msg });
      }
    }
    for (const [id, a] of acceptors) {
      for (const o of a.poll().messages) {
        messages++;
        heap.push({ time: now + 1 + rng.float() * 7, seq: seq++, kind: 'msg', from: id, to: o.to, msg: o.msg });
      }
    }
  };
  for (const [id, p] of proposers) p.propose(`value-of-${id}`);
  pump();
  for (;;) {
    const ev = heap.pop();
    if (!ev) break;
    now = ev.time;
    if (ev.kind === 'retry') {
      const p = proposers.get(ev.p);
      if (p && p.phase === 'idle' && p.ballot.round === ev.ballotRound && p.rounds < roundsMax) p.retry();
    } else {
      acceptors.get(ev.to)?.handle(ev.from, ev.msg);
      const l = learners.get(ev.to);
      if (l) {
        l.handle(ev.from, ev.msg);
        if (l.chosen !== undefined && decideMs < 0) decideMs = now;
      }
      const p = proposers.get(ev.to);
      if (p) {
        const before = p.phase;
        p.handle(ev.from, ev.msg);
        if (before !== 'idle' && p.phase === 'idle') {
          // Refused: retry above the promise we were told about.
          const a = (attempts.get(ev.to) ?? 0) + 1;
          attempts.set(ev.to, a);
          const wait = backoff ? rng.float() * 10 * Math.min(a, 8) : 0;
          heap.push({ time: now + wait, seq: seq++, kind: 'retry', p: ev.to, ballotRound: p.ballot.round });
        }
      }
    }
    pump();
  }
  let rounds = 0;
  for (const p of proposers.values()) rounds += p.rounds;
  // Safety check: every learner that learned agrees.
  let chosen: string | undefined;
  for (const l of learners.values()) {
    if (l.chosen === undefined) continue;
    if (chosen !== undefined && chosen !== l.chosen) throw new Error('two values chosen');
    chosen = l.chosen;
  }
  return { messages, rounds, decided: chosen !== undefined, decideMs };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

console.log('## Single-decree Paxos: messages per decision (n acceptors = n learners, k proposers)');
console.log(`mean of 20 seeds; formula for k = 1 without conflicts: 4n + n² (prepare, promise, accept: 3n; accepted from n acceptors to the proposer and to n learners: n + n²)\n`);
console.log('| n | k | backoff | messages | 4n+n² | rounds (all proposers) | undecided runs | time to decide ms |');
console.log('|---|---|---|---|---|---|---|---|');
for (const n of [3, 5, 7, 9]) {
  for (const k of [1, 2, 3]) {
    for (const backoff of k === 1 ? [true] : [false, true]) {
      const rs = Array.from({ length: 20 }, (_, s) => duel(n, k, backoff, 1000 * n + 100 * k + s));
      const decided = rs.filter((r) => r.decided);
      console.log(
        `| ${n} | ${k} | ${k === 1 ? '-' : backoff ? 'random' : 'none'} | ${mean(rs.map((r) => r.messages)).toFixed(1)} | ${4 * n + n * n} | ${mean(rs.map((r) => r.rounds)).toFixed(1)} | ${rs.length - decided.length} | ${decided.length > 0 ? mean(decided.map((r) => r.decideMs)).toFixed(1) : '-'} |`,
      );
    }
  }
}

// ---- part 2: Multi-Paxos vs Raft in the same simulator --------------------------------------

interface Counter {
  protocol: number;
  replication: number;
}

/** Wraps a node so that every message it sends is counted. */
function counted<M>(inner: SimNode<M>, count: (msg: M) => void): SimNode<M> {
  return {
    start(ctx: SimContext<M>) {
      inner.start({
        id: ctx.id,
        now: () => ctx.now(),
        rng: ctx.rng,
        send: (to, msg) => {
          count(msg);
          ctx.send(to, msg);
        },
        setTimer: (d, cb) => ctx.setTimer(d, cb),
        clearTimer: (h) => ctx.clearTimer(h),
        disk: ctx.disk,
        trace: (e) => ctx.trace(e),
      });
    },
    onMessage: (from, msg) => inner.onMessage(from, msg),
  };
}

interface KvFigures {
  protocolPerCmd: number;
  replicationPerCmd: number;
  writeLatencyMeanMs: number;
  writeLatencyP99Ms: number;
  committed: number;
}

function latencies(h: History): { committed: number; lat: number[] } {
  const open = new Map<number, number>();
  const lat: number[] = [];
  let committed = 0;
  for (const e of h) {
    if (e.type === 'invoke') open.set(e.process, e.time);
    else {
      const t0 = open.get(e.process);
      open.delete(e.process);
      if (e.f === 'read' || e.type === 'info' || t0 === undefined) continue;
      committed++; // ok write/cas, or a cas that failed its compare (both went through the log)
      if (e.type === 'ok') lat.push((e.time - t0) / 1e6);
    }
  }
  return { committed, lat: lat.sort((a, b) => a - b) };
}

function simFor<M>(seed: number): Simulator<M> {
  return new Simulator<M>({
    seed,
    network: { latencyMs: { kind: 'uniform', minMs: 1, maxMs: 8 } },
    disk: { fsyncLatencyMs: { min: 0.5, max: 4 }, tornWrites: true, corruptTailRate: 0 },
  });
}

const WORKLOAD = { clients: 3, keys: 3, thinkMeanMs: 10, opTimeoutMs: 600 };

function figures(h: History, c: Counter): KvFigures {
  const { committed, lat } = latencies(h);
  return {
    protocolPerCmd: c.protocol / committed,
    replicationPerCmd: c.replication / committed,
    writeLatencyMeanMs: mean(lat),
    writeLatencyP99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? 0,
    committed,
  };
}

function runPaxosKv(n: number, seed: number): KvFigures {
  const sim = simFor<PaxosKvMsg>(seed);
  const servers: NodeId[] = [];
  for (let i = 1; i <= n; i++) servers.push(`n${i}`);
  const checker = new PaxosChecker(Math.floor(n / 2) + 1);
  const c: Counter = { protocol: 0, replication: 0 };
  const config = { nodes: servers, heartbeatTicks: 2, leaderTimeoutTicks: 10, prepareRetryTicks: 6, inflightSlotsMax: 4, batchCommandsMax: 8 };
  for (const id of servers) {
    sim.addNode(id, () =>
      counted(new PaxosKvServer({ config, tickMs: 10, checker }), (m: PaxosKvMsg) => {
        if (m.type !== 'paxos') return;
        c.protocol++;
        if (m.m.type === 'accept' || m.m.type === 'accepted') c.replication++;
      }),
    );
  }
  const clients: NodeId[] = [];
  for (let i = 1; i <= WORKLOAD.clients; i++) {
    clients.push(`c${i}`);
    sim.addNode(`c${i}`, () => new PaxosKvClient(servers));
  }
  const w = new KvWorkload(sim, paxosKvDriver((p) => sim.node(clients[p % clients.length] as string) as PaxosKvClient | undefined), { ...WORKLOAD, opsMax: OPS });
  w.start();
  sim.runUntil(() => w.finished, 60_000);
  if (checker.violation) throw new Error(checker.violation);
  return figures(w.history(), c);
}

function runRaftKv(n: number, seed: number): KvFigures {
  const sim = simFor<RaftKvMsg>(seed);
  const voters: NodeId[] = [];
  for (let i = 1; i <= n; i++) voters.push(`n${i}`);
  const checker = new RaftChecker();
  const c: Counter = { protocol: 0, replication: 0 };
  const config: Partial<RaftConfig> = { electionTimeoutTicks: 10, heartbeatTicks: 2, readOnlyOption: 'safe', maxSizePerMsgBytes: 512, maxInflightMsgs: 4, batchAppends: true };
  const bootstrap = { voters, learners: [], votersOutgoing: [], learnersNext: [] };
  for (const id of voters) {
    sim.addNode(id, () =>
      counted(new RaftKvServer({ bootstrap, config, tickMs: 10, checker, snapshotEveryEntries: 0, compactionLagEntries: 0 }), (m: RaftKvMsg) => {
        if (m.type !== 'raft') return;
        c.protocol++;
        if (m.m.type === 'append' || m.m.type === 'append-response') c.replication++;
      }),
    );
  }
  const clients: NodeId[] = [];
  for (let i = 1; i <= WORKLOAD.clients; i++) {
    clients.push(`c${i}`);
    sim.addNode(`c${i}`, () => new RaftKvClient(voters));
  }
  const w = new KvWorkload(sim, raftKvDriver((p) => sim.node(clients[p % clients.length] as string) as RaftKvClient | undefined), { ...WORKLOAD, opsMax: OPS });
  w.start();
  sim.runUntil(() => w.finished, 60_000);
  if (checker.violation) throw new Error(checker.violation);
  return figures(w.history(), c);
}

function avg(fs: KvFigures[]): KvFigures {
  return {
    protocolPerCmd: mean(fs.map((f) => f.protocolPerCmd)),
    replicationPerCmd: mean(fs.map((f) => f.replicationPerCmd)),
    writeLatencyMeanMs: mean(fs.map((f) => f.writeLatencyMeanMs)),
    writeLatencyP99Ms: mean(fs.map((f) => f.writeLatencyP99Ms)),
    committed: mean(fs.map((f) => f.committed)),
  };
}

console.log(`\n## Multi-Paxos vs Raft, same simulator, no faults (${OPS} ops, ${SEEDS} seeds each, mean)`);
console.log('formula for one phase-2 round: 2(n-1) messages per slot (accept out, accepted back), divided by commands per slot\n');
console.log('| n | 2(n-1) | Paxos protocol msgs/cmd | Raft protocol msgs/cmd | ratio | Paxos replication msgs/cmd | Raft replication msgs/cmd | Paxos write ms mean / p99 | Raft write ms mean / p99 | latency ratio |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const n of [3, 5, 7, 9]) {
  const seeds = Array.from({ length: SEEDS }, (_, i) => 500 + i);
  const p = avg(seeds.map((s) => runPaxosKv(n, s)));
  const r = avg(seeds.map((s) => runRaftKv(n, s)));
  console.log(
    `| ${n} | ${2 * (n - 1)} | ${p.protocolPerCmd.toFixed(2)} | ${r.protocolPerCmd.toFixed(2)} | ${(p.protocolPerCmd / r.protocolPerCmd).toFixed(2)} | ${p.replicationPerCmd.toFixed(2)} | ${r.replicationPerCmd.toFixed(2)} | ${p.writeLatencyMeanMs.toFixed(1)} / ${p.writeLatencyP99Ms.toFixed(1)} | ${r.writeLatencyMeanMs.toFixed(1)} / ${r.writeLatencyP99Ms.toFixed(1)} | ${(p.writeLatencyMeanMs / r.writeLatencyMeanMs).toFixed(2)} |`,
  );
}
