/**
 * Throughput of the Raft core alone inside the simulator: committed entries per wall-clock
 * second and per simulated second, and simulated seconds per wall second, for 3 and 5 servers
 * with proposal batching on and off. Storage is in memory and fsync takes 0.2-0.5 ms of virtual
 * time; the network is a LAN (0.2-0.6 ms one way). A closed-loop load keeps up to 512 proposals
 * of 64 bytes outstanding at the leader, topped up every 0.5 ms of virtual time.
 *
 *   node --import tsx bench/raft-core.ts [--virtual-ms 2000]
 */
import type { NodeId } from '../src/core/ids.ts';
import { Raft } from '../src/consensus/raft/raft.ts';
import { MemoryStorage } from '../src/consensus/raft/storage.ts';
import type { Message } from '../src/consensus/raft/types.ts';
import { Simulator } from '../src/sim/simulator.ts';
import type { SimContext, SimNode } from '../src/sim/types.ts';

class BenchNode implements SimNode<Message> {
  raft!: Raft;
  applied = 0;
  private storage!: MemoryStorage;
  private ctx!: SimContext<Message>;
  private syncing = false;
  constructor(
    private readonly voters: NodeId[],
    private readonly batch: boolean,
  ) {}
  start(ctx: SimContext<Message>): void {
    this.ctx = ctx;
    this.storage = MemoryStorage.bootstrap({ voters: this.voters, learners: [], votersOutgoing: [], learnersNext: [] });
    this.raft = new Raft({
      id: ctx.id,
      storage: this.storage,
      rng: ctx.rng.fork('raft'),
      config: { electionTimeoutTicks: 10, heartbeatTicks: 1, batchAppends: this.batch, maxInflightMsgs: 256, maxSizePerMsgBytes: 64 * 1024 },
    });
    this.ctx.setTimer(10, () => this.tick());
  }
  private tick(): void {
    this.raft.tick();
    this.drain();
    this.ctx.setTimer(10, () => this.tick());
  }
  onMessage(_from: NodeId, m: Message): void {
    this.raft.step(m);
    this.drain();
  }
  act(f: (r: Raft) => void): void {
    f(this.raft);
    this.drain();
  }
  drain(): void {
    while (!this.syncing && this.raft.hasReady()) {
      const rd = this.raft.ready();
      this.storage.append(rd.entries);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      for (const om of rd.messages) if (!om.afterSync) this.ctx.send(om.message.to, om.message);
      const finish = () => {
        for (const om of rd.messages) if (om.afterSync) this.ctx.send(om.message.to, om.message);
        this.applied += rd.committedEntries.length;
        this.raft.advance(rd);
      };
      if (rd.mustSync) {
        this.syncing = true;
        this.ctx.disk.fsyncAllAsync(() => {
          this.syncing = false;
          finish();
          this.drain();
        });
        return;
      }
      finish();
    }
  }
}

interface Row {
  nodes: number;
  batching: boolean;
  committed: number;
  wallMs: number;
  virtualMs: number;
}

function run(nodes: number, batching: boolean, virtualMs: number): Row {
  const voters = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const sim = new Simulator<Message>({
    seed: 1,
    network: { latencyMs: { kind: 'uniform', minMs: 0.2, maxMs: 0.6 } },
    disk: { fsyncLatencyMs: { min: 0.2, max: 0.5 } },
    trace: 'off',
  });
  for (const id of voters) sim.addNode(id, () => new BenchNode(voters, batching));
  const n1 = sim.node('n1') as BenchNode;
  n1.act((r) => r.campaign());
  sim.runUntil(() => n1.raft.role === 'leader', 10_000);
  const payload = new Uint8Array(64);
  const outstandingMax = 512;
  const load = () => {
    const r = n1.raft;
    const room = outstandingMax - (r.log.lastIndex() - r.log.committed);
    if (room > 0) n1.act((raft) => {
      for (let i = 0; i < room; i++) raft.propose(payload);
    });
    sim.schedule(0.5, load);
  };
  load();
  const startApplied = n1.applied;
  const startVirtual = sim.now();
  const t0 = performance.now();
  sim.runFor(virtualMs);
  const wallMs = performance.now() - t0;
  return { nodes, batching, committed: n1.applied - startApplied, wallMs, virtualMs: sim.now() - startVirtual };
}

const argIdx = process.argv.indexOf('--virtual-ms');
const virtualMs = argIdx > 0 ? Number(process.argv[argIdx + 1]) : 2000;
run(3, true, 200); // warm-up (JIT)
const rows: Row[] = [];
for (const nodes of [3, 5]) for (const batching of [true, false]) rows.push(run(nodes, batching, virtualMs));
const base = rows[0] as Row;
const baseRate = base.committed / (base.wallMs / 1000);
console.log('nodes  batching  committed  entries/wall-s  entries/sim-s  sim-s/wall-s  vs 3 nodes batching');
for (const r of rows) {
  const perWall = r.committed / (r.wallMs / 1000);
  const perSim = r.committed / (r.virtualMs / 1000);
  console.log(
    `${String(r.nodes).padEnd(5)}  ${String(r.batching).padEnd(8)}  ${String(r.committed).padEnd(9)}  ${perWall.toFixed(0).padEnd(14)}  ${perSim.toFixed(0).padEnd(13)}  ${(r.virtualMs / r.wallMs).toFixed(3).padEnd(12)}  ${(perWall / baseRate).toFixed(2)}x`,
  );
}
