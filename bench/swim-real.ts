/**
 * SWIM failure detection over real UDP/TCP on loopback (in-process agents, real time) beside the
 * same measurement in the simulator with the same preset and cluster size: how far the simulated
 * figures are from a real host. A "crash" closes an agent's sockets without a leave; it restarts
 * on the same address before the next trial.
 *
 * Run: node --import tsx bench/swim-real.ts [--n 8] [--trials 10]
 */
import { fastConfig } from '../src/membership/swim/config.ts';
import type { SwimEvent } from '../src/membership/swim/member.ts';
import { MemCluster } from '../src/membership/swim/memcluster.ts';
import { SwimAgent } from '../src/runtime/swim/agent.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const n = flag('--n', 8);
const trials = flag('--trials', 10);
const config = fastConfig();
const T = config.probeIntervalMs;

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

interface Trial {
  firstSuspectT: number;
  allDeadT: number;
}

async function realTrials(): Promise<Trial[]> {
  const agents: SwimAgent[] = [];
  const log: { observer: string; e: SwimEvent; atMs: number }[] = [];
  const wait = async (cond: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const end = performance.now() + timeoutMs;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const start = async (name: string, bind: string): Promise<SwimAgent> => {
    const a = await SwimAgent.start({ name, bind, config });
    a.onEvent((e) => log.push({ observer: name, e, atMs: performance.now() }));
    return a;
  };
  for (let i = 0; i < n; i++) {
    const a = await start(`r${i + 1}`, '127.0.0.1:0');
    agents.push(a);
    if (i > 0) await a.join([(agents[0] as SwimAgent).address]);
  }
  const allAlive = (): boolean => agents.every((a) => a.members().filter((m) => m.state === 'alive').length === n);
  await wait(allAlive, 30_000, 'initial convergence');
  const out: Trial[] = [];
  for (let t = 0; t < trials; t++) {
    const idx = 1 + (t % (n - 1));
    const victim = agents[idx] as SwimAgent;
    const name = victim.member.name;
    const address = victim.address;
    const from = log.length;
    await new Promise((r) => setTimeout(r, Math.random() * 2 * T));
    const crashedAt = performance.now();
    await victim.close();
    const others = agents.filter((a) => a !== victim);
    const seenBy = (type: SwimEvent['type']) => {
      const who = new Map<string, number>();
      for (let i = from; i < log.length; i++) {
        const l = log[i];
        if (l !== undefined && l.e.type === type && l.e.member.name === name && !who.has(l.observer)) who.set(l.observer, l.atMs);
      }
      return who;
    };
    await wait(() => seenBy('fail').size >= others.length, 60_000, `${name} declared dead by all`);
    const suspects = [...seenBy('suspect').values()];
    const deaths = [...seenBy('fail').values()];
    out.push({ firstSuspectT: (Math.min(...suspects) - crashedAt) / T, allDeadT: (Math.max(...deaths) - crashedAt) / T });
    const again = await start(name, address);
    agents[idx] = again;
    await again.join([(agents[0] as SwimAgent).address]);
    await wait(allAlive, 30_000, `${name} rejoin`);
  }
  await Promise.all(agents.map((a) => a.close()));
  return out;
}

function simTrials(count: number): Trial[] {
  const c = new MemCluster({ seed: 7, config, latencyMs: { min: 0.05, max: 0.3 } });
  const names = Array.from({ length: n }, (_, i) => `r${i + 1}`);
  c.add('r1');
  for (const name of names.slice(1)) c.add(name, ['r1']);
  if (!c.runUntil(() => c.converged(names), 60_000)) throw new Error('sim: no convergence');
  const out: Trial[] = [];
  for (let t = 0; t < count; t++) {
    const victim = names[1 + (t % (n - 1))] as string;
    c.runFor(((t * 7919) % 1000) / 500 * T);
    const from = c.events.length;
    const crashedAt = c.now();
    c.kill(victim);
    const ev = () => c.events.slice(from).filter((e) => e.member.name === victim);
    if (!c.runUntil(() => c.allSee(victim, 'dead'), 120_000)) throw new Error('sim: not detected');
    const s = ev().filter((e) => e.type === 'suspect');
    const d = ev().filter((e) => e.type === 'fail');
    out.push({ firstSuspectT: (Math.min(...s.map((e) => e.atMs)) - crashedAt) / T, allDeadT: (Math.max(...d.map((e) => e.atMs)) - crashedAt) / T });
    c.add(victim, ['r1']);
    if (!c.runUntil(() => c.converged(names), 120_000)) throw new Error('sim: no rejoin');
  }
  return out;
}

const t0 = performance.now();
const real = await realTrials();
const wallReal = (performance.now() - t0) / 1000;
const sim = simTrials(200);
console.log(`# SWIM over real UDP on loopback vs the in-memory simulation (fast preset, T = ${T} ms, n = ${n})\n`);
console.log('| host | trials | first suspicion, mean (T) | every member declares it dead, mean (T) |');
console.log('|---|---|---|---|');
console.log(`| real UDP/TCP, loopback, in-process agents | ${real.length} | ${mean(real.map((r) => r.firstSuspectT)).toFixed(2)} | ${mean(real.map((r) => r.allDeadT)).toFixed(2)} |`);
console.log(`| MemCluster (virtual time, latency 0.05-0.3 ms) | ${sim.length} | ${mean(sim.map((r) => r.firstSuspectT)).toFixed(2)} | ${mean(sim.map((r) => r.allDeadT)).toFixed(2)} |`);
console.log(
  `\nratio real / simulated: first suspicion ${(mean(real.map((r) => r.firstSuspectT)) / mean(sim.map((r) => r.firstSuspectT))).toFixed(2)}, all dead ${(mean(real.map((r) => r.allDeadT)) / mean(sim.map((r) => r.allDeadT))).toFixed(2)}`,
);
console.log(`(real part: ${wallReal.toFixed(1)} s wall)`);
