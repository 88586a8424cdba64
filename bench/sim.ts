/**
 * Simulator throughput: simulated events per wall second and simulated seconds per wall
 * second, for a 5-node all-to-all heartbeat protocol (every node sends to every other node
 * every 10 ms of virtual time; 1-5 ms latency), with and without the nemesis, and for the
 * register scenario with 5 clients.
 *
 *   node --import tsx bench/sim.ts [--virtual-seconds 60]
 */
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../src/core/ids.ts';
import { runRegister } from '../src/scenarios/register-scenario.ts';
import { ALL_FAULTS, Nemesis } from '../src/sim/nemesis.ts';
import { Simulator, type TraceLevel } from '../src/sim/simulator.ts';
import type { SimContext, SimNode } from '../src/sim/types.ts';

type Msg = { type: 'hb'; n: number };

class Heartbeat implements SimNode<Msg> {
  private ctx!: SimContext<Msg>;
  private n = 0;
  received = 0;
  constructor(private readonly peers: readonly NodeId[]) {}
  start(ctx: SimContext<Msg>): void {
    this.ctx = ctx;
    this.loop();
  }
  private loop(): void {
    this.ctx.setTimer(10, () => {
      this.n++;
      for (const p of this.peers) if (p !== this.ctx.id) this.ctx.send(p, { type: 'hb', n: this.n });
      this.loop();
    });
  }
  onMessage(): void {
    this.received++;
  }
}

function heartbeat(virtualSeconds: number, withNemesis: boolean, trace: TraceLevel) {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const sim = new Simulator<Msg>({ seed: 1, trace });
  for (const id of ids) sim.addNode(id, () => new Heartbeat(ids));
  if (withNemesis) new Nemesis(sim, { faults: ALL_FAULTS, meanIntervalMs: 200, durationMs: { min: 50, max: 500 } }).start();
  const t0 = performance.now();
  sim.runFor(virtualSeconds * 1000);
  const wallS = (performance.now() - t0) / 1000;
  return { events: sim.stats.events, wallS, eventsPerS: sim.stats.events / wallS, simSPerWallS: virtualSeconds / wallS };
}

const arg = process.argv.indexOf('--virtual-seconds');
const virtualSeconds = arg > 0 ? Number(process.argv[arg + 1]) : 60;

const rows: [string, number, number, number, number][] = [];
for (const [name, nem, trace] of [
  ['heartbeat 5 nodes, no faults, trace events', false, 'events'],
  ['heartbeat 5 nodes, no faults, trace off', false, 'off'],
  ['heartbeat 5 nodes, nemesis, trace events', true, 'events'],
] as const) {
  const r = heartbeat(virtualSeconds, nem, trace);
  rows.push([name, r.events, r.wallS, r.eventsPerS, r.simSPerWallS]);
}
{
  const t0 = performance.now();
  const run = runRegister({ seed: 1, nodes: 5, durationMs: virtualSeconds * 1000, ops: virtualSeconds * 100, faults: ALL_FAULTS, params: {} });
  const wallS = (performance.now() - t0) / 1000;
  rows.push(['register, 5 clients, nemesis', run.sim.stats.events, wallS, run.sim.stats.events / wallS, run.sim.now() / 1000 / wallS]);
}
console.log(`| scenario (${virtualSeconds} virtual s) | events | wall s | events / wall s | simulated s / wall s |`);
console.log('|---|---:|---:|---:|---:|');
for (const [name, ev, wall, eps, ratio] of rows) {
  console.log(`| ${name} | ${ev} | ${wall.toFixed(2)} | ${Math.round(eps).toLocaleString('en-US')} | ${ratio.toFixed(1)} |`);
}
