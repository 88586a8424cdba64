/**
 * SWIM measurements in the deterministic simulator (virtual time; figures do not depend on the
 * machine). Prints markdown tables:
 *
 * 1. failure detection: time from a crash to the first suspicion (first detection) and to the
 *    moment every member has declared it dead (full dissemination), in protocol periods T,
 *    beside SWIM's predicted mean first detection e/(e−1) ≈ 1.582 T;
 * 2. false positives per member per hour with 10% packet loss and with CPU-starved (paused)
 *    members, Lifeguard on vs off;
 * 3. messages per member per protocol period as n grows (SWIM: constant).
 *
 * Run: node --import tsx bench/swim.ts [--quick] [--seed N] [--fp-seeds N] [--fp-modes loss,pause,slow]
 *      [--sections detect,fp,msgs]
 */
import type { NodeId } from '../src/core/ids.ts';
import { lanConfig, type SwimConfig } from '../src/membership/swim/config.ts';
import type { SwimEvent } from '../src/membership/swim/member.ts';
import { type SwimSimMsg, SwimSimNode } from '../src/membership/swim/sim.ts';
import { Simulator } from '../src/sim/simulator.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seedArg = args.indexOf('--seed');
const baseSeed = seedArg >= 0 ? Number(args[seedArg + 1]) : 1;
function listArg(name: string, dflt: string[]): string[] {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? '').split(',') : dflt;
}
const sections = new Set(listArg('--sections', ['detect', 'fp', 'msgs']));
const fpSeedsArg = args.indexOf('--fp-seeds');

interface Cluster {
  sim: Simulator<SwimSimMsg>;
  ids: NodeId[];
  events: { observer: NodeId; event: SwimEvent; atMs: number }[];
  node(id: NodeId): SwimSimNode | undefined;
}

function cluster(n: number, seed: number, config: SwimConfig, lossRate = 0): Cluster {
  const sim = new Simulator<SwimSimMsg>({ seed, network: { latencyMs: { min: 1, max: 5 }, lossRate: 0 }, trace: 'off' });
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const events: Cluster['events'] = [];
  for (const id of ids) {
    sim.addNode(id, () => new SwimSimNode({ config, seeds: ids.slice(0, 2), onEvent: (observer, event) => events.push({ observer, event, atMs: sim.now() }) }));
  }
  const c: Cluster = { sim, ids, events, node: (id) => sim.node(id) as SwimSimNode | undefined };
  const ok = sim.runUntil(() => allAlive(c), 120_000);
  if (!ok) throw new Error(`cluster of ${n} did not converge`);
  sim.setLossRate(lossRate);
  return c;
}

function allAlive(c: Cluster): boolean {
  for (const id of c.ids) {
    if (!c.sim.isUp(id)) continue;
    const m = c.node(id)?.member;
    if (m === undefined) return false;
    for (const other of c.ids) if (c.sim.isUp(other) && m.member(other)?.state !== 'alive') return false;
  }
  return true;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

function f(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

// ------------------------------------------------------------------ 1. detection

function detection(n: number, trials: number, seed: number): { first: number[]; firstPing: number[]; allSuspect: number[]; allDead: number[] } {
  const config = lanConfig();
  const T = config.probeIntervalMs;
  const c = cluster(n, seed, config);
  const rng = c.sim.rng.fork('bench-detection');
  const out = { first: [] as number[], firstPing: [] as number[], allSuspect: [] as number[], allDead: [] as number[] };
  for (let t = 0; t < trials; t++) {
    c.sim.runFor(rng.float() * 5 * T);
    const victim = c.ids[rng.int(c.ids.length)] as NodeId;
    const from = c.events.length;
    const crashedAt = c.sim.now();
    c.sim.crash(victim);
    const others = c.ids.filter((id) => id !== victim);
    const seen = (type: SwimEvent['type']) => {
      const who = new Set<NodeId>();
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      for (let i = from; i < c.events.length; i++) {
        const e = c.events[i];
        if (e === undefined || e.event.type !== type || e.event.member.name !== victim) continue;
        if (!who.has(e.observer)) {
          who.add(e.observer);
          first = Math.min(first, e.atMs);
          last = Math.max(last, e.atMs);
        }
      }
      return { count: who.size, first, last };
    };
    const done = c.sim.runUntil(() => seen('fail').count >= others.length, 600_000);
    if (!done) throw new Error(`n=${n}: crash of ${victim} not fully disseminated`);
    const s = seen('suspect');
    const d = seen('fail');
    out.first.push((s.first - crashedAt) / T);
    // The suspicion is raised when the failed probe's period ends (one T after its ping).
    out.firstPing.push((s.first - crashedAt) / T - 1);
    out.allSuspect.push((s.last - crashedAt) / T);
    out.allDead.push((d.last - crashedAt) / T);
    c.sim.restart(victim);
    if (!c.sim.runUntil(() => allAlive(c), 600_000)) throw new Error(`n=${n}: ${victim} did not rejoin`);
  }
  return out;
}

// ------------------------------------------------------------------ 2. false positives

interface FpResult {
  /** Distinct incidents: a healthy member declared dead by at least one member (until it rejoins). */
  incidents: number;
  /** Every (observer, healthy member) dead declaration. */
  declarations: number;
  /** Declarations about the starved members themselves (they were unresponsive: not counted as false). */
  starvedDeclared: number;
  suspicions: number;
  memberHours: number;
}

type FpMode = 'loss' | 'pause' | 'slow';

const SLOW_MEAN_MS = Number(process.env.SLOW_MEAN_MS ?? 1000);
const SLOW_CAP_MS = Number(process.env.SLOW_CAP_MS ?? 8000);

const FP_MODES: Record<FpMode, string> = {
  loss: '10% packet loss',
  pause: '2 members paused exp(2 s) every exp(2 s)',
  slow: `2 starved members: inbound datagrams wait 1 ms + exp(${SLOW_MEAN_MS} ms) (cap ${SLOW_CAP_MS} ms)`,
};

function falsePositives(n: number, hours: number, seed: number, lifeguard: boolean, mode: FpMode): FpResult {
  const config = { ...lanConfig(), lifeguard };
  const c = cluster(n, seed, config, mode === 'loss' ? 0.1 : 0);
  const starved = new Set<NodeId>();
  if (mode === 'slow') {
    // A CPU-starved member reads its socket late: every datagram to it waits before handling.
    for (const id of c.ids.slice(-2)) {
      starved.add(id);
      for (const other of c.ids) if (other !== id) c.sim.setLinkLatency(other, id, { kind: 'exponential', minMs: 1, meanExtraMs: SLOW_MEAN_MS, maxMs: SLOW_CAP_MS });
    }
  }
  if (mode === 'pause') {
    // 2 of n members are stopped (SIGSTOP-like) for exp(mean 2 s) every exp(mean 2 s).
    const rng = c.sim.rng.fork('bench-starve');
    for (const id of c.ids.slice(-2)) {
      starved.add(id);
      const cycle = (): void => {
        c.sim.schedule(rng.exponential(2000), () => {
          c.sim.pause(id);
          c.sim.schedule(rng.exponential(2000), () => {
            c.sim.resume(id);
            cycle();
          });
        });
      };
      cycle();
    }
  }
  const from = c.events.length;
  c.sim.runFor(hours * 3_600_000);
  const open = new Set<NodeId>();
  const r: FpResult = { incidents: 0, declarations: 0, starvedDeclared: 0, suspicions: 0, memberHours: (n - starved.size) * hours };
  for (let i = from; i < c.events.length; i++) {
    const e = c.events[i];
    if (e === undefined) continue;
    const who = e.event.member.name;
    if (e.event.type === 'suspect' && !starved.has(who)) r.suspicions++;
    if (e.event.type === 'fail') {
      if (starved.has(who)) {
        r.starvedDeclared++;
        continue;
      }
      r.declarations++;
      if (!open.has(who)) {
        open.add(who);
        r.incidents++;
      }
    }
    if (e.event.type === 'join') open.delete(who);
  }
  return r;
}

// ------------------------------------------------------------------ 3. messages per member per period

function messagesPerPeriod(n: number, seed: number, periods: number): { packets: number; bytes: number; streams: number } {
  const config = lanConfig();
  const c = cluster(n, seed, config);
  // Warm-up: let the join updates finish their retransmissions before counting.
  c.sim.runFor(60 * config.probeIntervalMs);
  const before = c.ids.map((id) => ({ ...(c.node(id)?.member?.stats ?? { packetsOut: 0, bytesOut: 0, streamsOut: 0 }) }));
  c.sim.runFor(periods * config.probeIntervalMs);
  let packets = 0;
  let bytes = 0;
  let streams = 0;
  c.ids.forEach((id, i) => {
    const s = c.node(id)?.member?.stats;
    const b = before[i];
    if (s === undefined || b === undefined) return;
    packets += s.packetsOut - b.packetsOut;
    bytes += s.bytesOut - b.bytesOut;
    streams += s.streamsOut - b.streamsOut;
  });
  const per = n * periods;
  return { packets: packets / per, bytes: bytes / per, streams: streams / per };
}

// ------------------------------------------------------------------ main

const started = performance.now();
const predicted = Math.E / (Math.E - 1);

function reportDetection(): void {
  console.log('## Failure detection (LAN preset, T = 1000 ms, latency 1-5 ms, no loss)\n');
  console.log(`SWIM's predicted mean time to first detection: e/(e-1) = ${predicted.toFixed(3)} T.\n`);
  console.log('| n | trials | first ping of the dead member, mean (T) | first suspicion, mean / p99 (T) | all members suspect, mean (T) | all members declare dead, mean / p99 (T) |');
  console.log('|---|---|---|---|---|---|');
  for (const n of quick ? [8, 32] : [8, 16, 32, 64]) {
    const trials = quick ? 10 : 40;
    const d = detection(n, trials, baseSeed + n);
    console.log(
      `| ${n} | ${trials} | ${f(mean(d.firstPing))} | ${f(mean(d.first))} / ${f(quantile(d.first, 0.99))} | ${f(mean(d.allSuspect))} | ${f(mean(d.allDead))} / ${f(quantile(d.allDead, 0.99))} |`,
    );
  }
}

function reportFalsePositives(): void {
  console.log('\n## False positives (healthy members declared dead), LAN preset\n');
  const fpN = 16;
  const hours = quick ? 0.25 : 1;
  const fpSeeds = fpSeedsArg >= 0 ? Number(args[fpSeedsArg + 1]) : quick ? 1 : 4;
  const fpModes = listArg('--fp-modes', ['loss', 'pause', 'slow']) as FpMode[];
  console.log(`n = ${fpN}, ${fpSeeds} run(s) of ${hours} h of virtual time per row (seeds ${baseSeed + 100}..${baseSeed + 99 + fpSeeds}), totals.\n`);
  console.log(
    '| condition | Lifeguard | suspicions of healthy members | FP incidents | FP declarations | FP declarations per member per hour | FP incidents per member per hour | starved members declared dead |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const fpRows: [string, boolean, FpResult][] = [];
  for (const mode of fpModes) {
    for (const lifeguard of [false, true]) {
      const r: FpResult = { incidents: 0, declarations: 0, starvedDeclared: 0, suspicions: 0, memberHours: 0 };
      for (let k = 0; k < fpSeeds; k++) {
        const one = falsePositives(fpN, hours, baseSeed + 100 + k, lifeguard, mode);
        r.incidents += one.incidents;
        r.declarations += one.declarations;
        r.starvedDeclared += one.starvedDeclared;
        r.suspicions += one.suspicions;
        r.memberHours += one.memberHours;
      }
      fpRows.push([mode, lifeguard, r]);
      console.log(
        `| ${FP_MODES[mode]} | ${lifeguard ? 'on' : 'off'} | ${r.suspicions} | ${r.incidents} | ${r.declarations} | ${f(r.declarations / r.memberHours, 3)} | ${f(r.incidents / r.memberHours, 4)} | ${mode === 'loss' ? '-' : r.starvedDeclared} |`,
      );
    }
  }
  const ratio = (a: number, b: number): string => (b === 0 ? (a === 0 ? 'both 0' : `>= ${a}x (Lifeguard: 0)`) : `${f(a / b, 1)}x`);
  for (const mode of fpModes) {
    const off = fpRows.find((x) => x[0] === mode && !x[1])?.[2];
    const on = fpRows.find((x) => x[0] === mode && x[1])?.[2];
    if (off && on) {
      console.log(
        `\n${FP_MODES[mode]}: Lifeguard off / on: FP declarations ${ratio(off.declarations, on.declarations)}, FP incidents ${ratio(off.incidents, on.incidents)}, suspicions ${ratio(off.suspicions, on.suspicions)}`,
      );
    }
  }
}

function reportMessages(): void {
  console.log('\n## Messages per member per protocol period (LAN preset, steady state after 60 T of warm-up, no faults)\n');
  console.log('| n | datagrams sent / member / T | bytes sent / member / T | push-pull streams / member / T |');
  console.log('|---|---|---|---|');
  for (const n of quick ? [8, 32, 64] : [8, 16, 32, 64, 128]) {
    const m = messagesPerPeriod(n, baseSeed + 200 + n, quick ? 60 : 120);
    console.log(`| ${n} | ${f(m.packets, 3)} | ${f(m.bytes, 1)} | ${f(m.streams, 4)} |`);
  }
}

console.log(`# SWIM measurements (simulator, seed ${baseSeed}${quick ? ', --quick' : ''})\n`);
if (sections.has('detect')) reportDetection();
if (sections.has('fp')) reportFalsePositives();
if (sections.has('msgs')) reportMessages();
console.log(`\n(wall time ${((performance.now() - started) / 1000).toFixed(1)} s)`);
