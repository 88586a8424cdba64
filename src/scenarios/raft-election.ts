/**
 * `clusterkit sim raft-election`: reproduces Figure 16 of the Raft paper (Ongaro & Ousterhout
 * 2014, §9.3): the time to elect a new leader after the leader crashes, for several ranges of
 * randomized election timeouts, 5 servers, a broadcast time of about 15 ms, the leader crashed at
 * a uniformly random point of its heartbeat interval (half the minimum election timeout).
 *
 * Each trial is its own seeded simulation: elect a leader, let it heartbeat, crash it at a random
 * instant, and measure the virtual time until another server becomes leader. The core runs as
 * in the paper's experiment: no PreVote, no CheckQuorum. Ticks are `tickMs` long (0.25
 * ms by default), so timeouts are drawn on that grid rather than from a continuous range.
 *
 * Model of the paper's cluster: a LAN (one-way latency 0.1-0.5 ms) and a disk write of 8-16 ms
 * before each vote grant or append acknowledgement, so that a broadcast (the slowest of four
 * RPC rounds, each including the receiver's write to stable storage, §5.6) takes about 15 ms.
 * Heartbeats change nothing durable and need no write.
 *
 * Leaves out: the paper's exact hardware; the distributions above are our assumption.
 */
import type { NodeId } from '../core/ids.ts';
import type { Message } from '../consensus/raft/types.ts';
import { Raft } from '../consensus/raft/raft.ts';
import { MemoryStorage } from '../consensus/raft/storage.ts';
import { Simulator } from '../sim/simulator.ts';
import type { SimContext, SimNode } from '../sim/types.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';

export interface TimeoutRange {
  loMs: number;
  hiMs: number;
}

/** The two panels of Figure 16. */
export const FIGURE16_TOP: readonly TimeoutRange[] = [
  { loMs: 150, hiMs: 150 },
  { loMs: 150, hiMs: 151 },
  { loMs: 150, hiMs: 155 },
  { loMs: 150, hiMs: 175 },
  { loMs: 150, hiMs: 200 },
  { loMs: 150, hiMs: 300 },
];
export const FIGURE16_BOTTOM: readonly TimeoutRange[] = [
  { loMs: 12, hiMs: 24 },
  { loMs: 25, hiMs: 50 },
  { loMs: 50, hiMs: 100 },
  { loMs: 100, hiMs: 200 },
  { loMs: 150, hiMs: 300 },
];

/** One-way LAN latency, ms. */
export const LAN_LATENCY_MS = { min: 3, max: 6 };
/**
 * Disk write before a vote grant or an append acknowledgement, ms. The slowest of four
 * (LAN round trip + fsync) is then about 15 ms: the paper's broadcast time, which §5.6 defines
 * as an RPC round including the receiver's write to stable storage.
 */
export const FSYNC_LATENCY_MS = { min: 1, max: 4 };

class ElectionNode implements SimNode<Message> {
  raft!: Raft;
  private storage!: MemoryStorage;
  private ctx!: SimContext<Message>;
  constructor(
    private readonly voters: NodeId[],
    private readonly range: TimeoutRange,
    private readonly tickMs: number,
  ) {}
  start(ctx: SimContext<Message>): void {
    this.ctx = ctx;
    const ticks = (ms: number) => Math.max(1, Math.round(ms / this.tickMs));
    const lo = ticks(this.range.loMs);
    const hi = ticks(this.range.hiMs);
    this.storage = MemoryStorage.bootstrap({ voters: this.voters, learners: [], votersOutgoing: [], learnersNext: [] });
    this.raft = new Raft({
      id: ctx.id,
      storage: this.storage,
      rng: ctx.rng.fork('raft'),
      config: {
        electionTimeoutTicks: lo,
        electionTimeoutRandomTicks: hi - lo,
        heartbeatTicks: Math.max(1, Math.floor(lo / 2)),
        preVote: false,
        checkQuorum: false,
      },
    });
    // A random phase, so servers' tick grids are not aligned.
    this.ctx.setTimer(ctx.rng.float() * this.tickMs, () => this.tick());
  }
  private tick(): void {
    this.raft.tick();
    this.drain();
    this.ctx.setTimer(this.tickMs, () => this.tick());
  }
  onMessage(_from: NodeId, m: Message): void {
    this.raft.step(m);
    this.drain();
  }
  campaign(): void {
    this.raft.campaign();
    this.drain();
  }
  private syncing = false;
  private drain(): void {
    while (!this.syncing && this.raft.hasReady()) {
      const rd = this.raft.ready();
      this.storage.append(rd.entries);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      for (const om of rd.messages) if (!om.afterSync || !rd.mustSync) this.ctx.send(om.message.to, om.message);
      if (rd.mustSync) {
        // Term, vote and entries go to disk before the dependent messages (vote grants, acks) leave.
        this.syncing = true;
        this.ctx.disk.fsyncAllAsync(() => {
          this.syncing = false;
          for (const om of rd.messages) if (om.afterSync) this.ctx.send(om.message.to, om.message);
          this.raft.advance(rd);
          this.drain();
        });
        return;
      }
      this.raft.advance(rd);
    }
  }
}

export interface TrialResult {
  /** Virtual ms from the crash to a new leader; Infinity when none within the cap. */
  electionMs: number;
}

/** One trial: elect, crash the leader at a random instant in its heartbeat interval, time the next election. */
export function electionTrial(seed: number, range: TimeoutRange, tickMs: number, capMs: number): TrialResult {
  const voters = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const sim = new Simulator<Message>({
    seed,
    network: { latencyMs: { kind: 'uniform', minMs: LAN_LATENCY_MS.min, maxMs: LAN_LATENCY_MS.max } },
    disk: { fsyncLatencyMs: FSYNC_LATENCY_MS },
    trace: 'off',
  });
  for (const id of voters) sim.addNode(id, () => new ElectionNode(voters, range, tickMs));
  const node = (id: NodeId) => sim.node(id) as ElectionNode | undefined;
  (node('n1') as ElectionNode).campaign();
  const leaderOf = () => voters.find((id) => node(id)?.raft.role === 'leader');
  if (!sim.runUntil(() => leaderOf() !== undefined, 60_000)) return { electionMs: Number.POSITIVE_INFINITY };
  // Let heartbeats settle every follower, then crash at a random point of the heartbeat interval.
  const heartbeatMs = Math.max(1, Math.floor(range.loMs / 2));
  sim.runFor(2 * heartbeatMs);
  let old: NodeId | undefined;
  for (let attempt = 0; attempt < 100 && old === undefined; attempt++) {
    // Short timeouts on a slow network can depose a leader spuriously: wait for a stable one.
    if (!sim.runUntil(() => leaderOf() !== undefined, 60_000)) return { electionMs: Number.POSITIVE_INFINITY };
    sim.runFor(sim.rng.float() * heartbeatMs);
    old = leaderOf();
  }
  if (old === undefined) return { electionMs: Number.POSITIVE_INFINITY };
  const oldTerm = (node(old) as ElectionNode).raft.term;
  sim.crash(old);
  const crashAt = sim.now();
  const elected = () => voters.some((id) => id !== old && node(id)?.raft.role === 'leader' && (node(id) as ElectionNode).raft.term > oldTerm);
  if (!sim.runUntil(elected, capMs)) return { electionMs: Number.POSITIVE_INFINITY };
  return { electionMs: sim.now() - crashAt };
}

export interface RangeSummary {
  range: TimeoutRange;
  trials: number;
  times: number[];
  meanMs: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Trials without a leader within the cap. */
  censored: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export function runElectionRange(seed: number, range: TimeoutRange, trials: number, tickMs: number, capMs: number): RangeSummary {
  const times: number[] = [];
  let censored = 0;
  for (let t = 0; t < trials; t++) {
    const r = electionTrial(seed * 1_000_003 + t * 7919 + range.loMs * 1000 + range.hiMs, range, tickMs, capMs);
    if (Number.isFinite(r.electionMs)) times.push(r.electionMs);
    else censored++;
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, x) => s + x, 0) / Math.max(1, times.length);
  return {
    range,
    trials,
    times,
    meanMs: mean,
    medianMs: quantile(times, 0.5),
    p90Ms: quantile(times, 0.9),
    p99Ms: quantile(times, 0.99),
    maxMs: times[times.length - 1] ?? Number.NaN,
    censored,
  };
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** Two-panel CDF chart in the layout of Figure 16 (cumulative percent vs. ms without a leader). */
export function figure16Svg(top: readonly RangeSummary[], bottom: readonly RangeSummary[]): string {
  const W = 640;
  const H = 260;
  const pad = { l: 50, r: 150, t: 20, b: 40 };
  const panel = (rows: readonly RangeSummary[], y0: number, xMaxMs: number, title: string): string => {
    const pw = W - pad.l - pad.r;
    const ph = H - pad.t - pad.b;
    const x = (ms: number) => pad.l + (Math.min(ms, xMaxMs) / xMaxMs) * pw;
    const y = (p: number) => y0 + pad.t + ph - p * ph;
    let s = `<text x="${pad.l}" y="${y0 + 14}" font-size="12">${title}</text>`;
    s += `<line x1="${pad.l}" y1="${y(0)}" x2="${pad.l + pw}" y2="${y(0)}" stroke="#000"/><line x1="${pad.l}" y1="${y(0)}" x2="${pad.l}" y2="${y(1)}" stroke="#000"/>`;
    for (let i = 0; i <= 5; i++) {
      const ms = (xMaxMs * i) / 5;
      s += `<text x="${x(ms)}" y="${y(0) + 14}" font-size="10" text-anchor="middle">${Math.round(ms)}</text>`;
    }
    for (const p of [0, 0.25, 0.5, 0.75, 1]) s += `<text x="${pad.l - 6}" y="${y(p) + 3}" font-size="10" text-anchor="end">${p * 100}%</text>`;
    s += `<text x="${pad.l + pw / 2}" y="${y(0) + 30}" font-size="11" text-anchor="middle">time without leader (ms)</text>`;
    rows.forEach((r, i) => {
      const color = COLORS[i % COLORS.length] as string;
      const n = r.trials;
      const pts: string[] = [`${x(0)},${y(0)}`];
      r.times.forEach((t, k) => {
        pts.push(`${x(t)},${y(k / n)}`, `${x(t)},${y((k + 1) / n)}`);
      });
      if (r.times.length > 0) pts.push(`${x(xMaxMs)},${y(r.times.length / n)}`);
      s += `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
      s += `<text x="${pad.l + pw + 10}" y="${y0 + pad.t + 14 + i * 16}" font-size="11" fill="${color}">${r.range.loMs}-${r.range.hiMs} ms</text>`;
    });
    return s;
  };
  const body = panel(top, 0, 600, 'Figure 16 (top): randomness in the election timeout') + panel(bottom, H, 600, 'Figure 16 (bottom): scaling the minimum timeout');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H}" font-family="sans-serif">${body}</svg>\n`;
}

function parseRanges(text: string): TimeoutRange[] {
  return text.split(',').map((r) => {
    const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(r.trim());
    if (!m) throw new Error(`--set ranges: expected lo-hi[,lo-hi...] in ms, got ${JSON.stringify(r)}`);
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (!(lo > 0 && hi >= lo)) throw new Error(`--set ranges: need 0 < lo <= hi, got ${r}`);
    return { loMs: lo, hiMs: hi };
  });
}

export const raftElectionScenario: Scenario = {
  name: 'raft-election',
  description: 'Figure 16 of the Raft paper: time to elect a new leader after a leader crash, per election-timeout range (5 servers).',
  defaults: { nodes: 5, durationMs: 10_000, ops: 1000, faults: [] },
  run(options: ScenarioOptions): ScenarioResult {
    const trials = Number(options.params.trials ?? 1000);
    const tickMs = Number(options.params.tick ?? 0.25);
    if (!Number.isInteger(trials) || trials < 1) throw new Error('--set trials must be a positive integer');
    if (!(tickMs > 0 && tickMs <= 10)) throw new Error('--set tick must be in (0, 10] ms');
    const capMs = options.durationMs;
    const custom = options.params.ranges !== undefined ? parseRanges(options.params.ranges) : undefined;
    const top = (custom ?? FIGURE16_TOP).map((r) => runElectionRange(options.seed, r, trials, tickMs, capMs));
    const bottom = custom ? [] : FIGURE16_BOTTOM.map((r) => runElectionRange(options.seed, r, trials, tickMs, capMs));
    const rows = [...top, ...bottom];
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
    const details = [
      'range (ms)    trials  mean   median  p90    p99    max    no leader within cap',
      ...rows.map(
        (r) =>
          `${`${r.range.loMs}-${r.range.hiMs}`.padEnd(12)}  ${String(r.trials).padEnd(6)}  ${fmt(r.meanMs).padEnd(5)}  ${fmt(r.medianMs).padEnd(6)}  ${fmt(r.p90Ms).padEnd(5)}  ${fmt(r.p99Ms).padEnd(5)}  ${fmt(r.maxMs).padEnd(5)}  ${r.censored}`,
      ),
    ];
    const summary: Record<string, number | string | boolean> = { trials, tickMs, capMs };
    for (const r of rows) {
      const k = `${r.range.loMs}-${r.range.hiMs}`;
      summary[`${k} median ms`] = Number(fmt(r.medianMs));
      summary[`${k} max ms`] = Number(fmt(r.maxMs));
    }
    return {
      ok: rows.every((r) => r.censored === 0),
      seed: options.seed,
      headline: `raft-election: ${rows.length} timeout ranges x ${trials} trials (5 servers, LAN ${LAN_LATENCY_MS.min}-${LAN_LATENCY_MS.max} ms one way, fsync ${FSYNC_LATENCY_MS.min}-${FSYNC_LATENCY_MS.max} ms, tick ${tickMs} ms)`,
      summary,
      details,
      svg: figure16Svg(top, bottom),
    };
  },
};
