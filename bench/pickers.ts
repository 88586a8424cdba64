/**
 * Pickers in a small seeded discrete-event queueing model (issue 7 "Measure"): Poisson
 * arrivals, five backends, each with `workers` servers and a FIFO queue; exponential service
 * times. b4 is slow (5× mean service time), b5 is failing (half its requests fail fast, in
 * 1 ms). Every policy sees the same arrival stream (same seed) through the health-aware
 * `Balancer` (outlier detection on, Envoy defaults but 5 s base ejection), driven by a
 * ManualClock at simulated time. Reports p50/p99 latency of successful requests, error rate
 * and the share of requests per backend, next to the seed 04.7.4 model share where one exists:
 * RR 1/n, WRR / EDF / weighted random W_j / ΣW, consistent hash W_j / ΣW (ring points ∝ weight,
 * uniform keys).
 *
 * usage: node --import tsx bench/pickers.ts [--requests 200000] [--seed 1] [--load 0.7]
 */
import { parseArgs } from 'node:util';
import { Balancer, type BalancedEndpoint } from '../src/balancing/balancer.ts';
import { createPicker } from '../src/balancing/create-picker.ts';
import { POLICIES, type Policy } from '../src/balancing/types.ts';
import { ManualClock } from '../src/core/clock.ts';
import { createRng, type Rng } from '../src/core/rng.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '1' },
    load: { type: 'string', default: '0.7' },
  },
});
const REQUESTS = Number(values.requests);
const SEED = Number(values.seed);
const LOAD = Number(values.load);

interface BackendModel {
  readonly id: string;
  readonly meanServiceMs: number;
  readonly failureRate: number;
  readonly weight: number;
}

const WORKERS = 4;
const QUEUE_MAX = 10_000;
const BACKENDS: readonly BackendModel[] = [
  { id: 'b1', meanServiceMs: 10, failureRate: 0, weight: 3 },
  { id: 'b2', meanServiceMs: 10, failureRate: 0, weight: 3 },
  { id: 'b3', meanServiceMs: 10, failureRate: 0, weight: 3 },
  { id: 'b4-slow', meanServiceMs: 50, failureRate: 0, weight: 1 },
  { id: 'b5-failing', meanServiceMs: 10, failureRate: 0.5, weight: 3 },
];
// Capacity in requests/ms with the failing backend counted at its full rate.
const CAPACITY = BACKENDS.reduce((s, b) => s + WORKERS / b.meanServiceMs, 0);
const ARRIVAL_MEAN_MS = 1 / (LOAD * CAPACITY);

interface Job {
  readonly arrivalMs: number;
  readonly backend: number;
  readonly ep: BalancedEndpoint<number>;
}

/** Binary min-heap of events keyed by time, then sequence (deterministic). */
class EventQueue {
  private readonly t: number[] = [];
  private readonly seq: number[] = [];
  private readonly fn: (() => void)[] = [];
  private n = 0;
  private s = 0;
  push(time: number, f: () => void): void {
    let i = this.n++;
    const sq = this.s++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.t[p] as number;
      if (pt < time || (pt === time && (this.seq[p] as number) < sq)) break;
      this.t[i] = pt;
      this.seq[i] = this.seq[p] as number;
      this.fn[i] = this.fn[p] as () => void;
      i = p;
    }
    this.t[i] = time;
    this.seq[i] = sq;
    this.fn[i] = f;
  }
  pop(): [number, () => void] | undefined {
    if (this.n === 0) return undefined;
    const time = this.t[0] as number;
    const f = this.fn[0] as () => void;
    this.n--;
    const lt = this.t[this.n] as number;
    const ls = this.seq[this.n] as number;
    const lf = this.fn[this.n] as () => void;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      let c = l;
      const r = l + 1;
      if (r < this.n && ((this.t[r] as number) < (this.t[l] as number) || ((this.t[r] as number) === (this.t[l] as number) && (this.seq[r] as number) < (this.seq[l] as number)))) c = r;
      const ct = this.t[c] as number;
      if (ct > lt || (ct === lt && (this.seq[c] as number) > ls)) break;
      this.t[i] = ct;
      this.seq[i] = this.seq[c] as number;
      this.fn[i] = this.fn[c] as () => void;
      i = c;
    }
    this.t[i] = lt;
    this.seq[i] = ls;
    this.fn[i] = lf;
    return [time, f];
  }
}

interface Result {
  policy: Policy;
  p50: number;
  p99: number;
  errorRate: number;
  share: number[];
  ejections: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

type Scenario = 'heterogeneous' | 'formula-check';

function run(policy: Policy, scenario: Scenario): Result {
  const formulaCheck = scenario === 'formula-check';
  const rngArrivals = createRng(SEED).fork('arrivals');
  const rngService: Rng[] = BACKENDS.map((b) => createRng(SEED).fork(`service-${b.id}`));
  const clock = new ManualClock(0);
  let ejections = 0;
  const balancer = new Balancer<number>(
    BACKENDS.map((b, i) => ({ id: b.id, weight: b.weight, data: i })),
    {
      picker: createPicker(policy, { rng: createRng(SEED).fork('picker'), clock }),
      clock,
      outlier: formulaCheck ? false : { consecutiveFailuresMax: 5, baseEjectionMs: 5000, maxEjectionMs: 60_000 },
      onEvent: (e) => {
        if (e.type === 'ejected') ejections++;
      },
    },
  );
  const events = new EventQueue();
  const busy = new Array<number>(BACKENDS.length).fill(0);
  const queues: Job[][] = BACKENDS.map(() => []);
  const sent = new Array<number>(BACKENDS.length).fill(0);
  const latencies = new Float64Array(REQUESTS);
  let ok = 0;
  let failed = 0;
  let now = 0;

  const finish = (job: Job, success: boolean) => {
    const lat = now - job.arrivalMs;
    balancer.end(job.ep, success ? 'success' : 'failure', lat);
    if (success) latencies[ok++] = lat;
    else failed++;
  };
  const startService = (j: number, job: Job) => {
    busy[j] = (busy[j] ?? 0) + 1;
    const b = BACKENDS[j] as BackendModel;
    const r = rngService[j] as Rng;
    const fails = !formulaCheck && r.chance(b.failureRate);
    const service = fails ? 1 : r.exponential(b.meanServiceMs);
    events.push(now + service, () => {
      busy[j] = (busy[j] ?? 0) - 1;
      finish(job, !fails);
      const next = (queues[j] as Job[]).shift();
      if (next !== undefined) startService(j, next);
    });
  };
  let arrivals = 0;
  const arrive = () => {
    const ep = balancer.pick({ key: `user-${rngArrivals.int(1_000_000)}` });
    if (ep === undefined) {
      failed++;
    } else {
      const j = ep.data;
      sent[j] = (sent[j] ?? 0) + 1;
      balancer.begin(ep);
      const job: Job = { arrivalMs: now, backend: j, ep };
      if ((busy[j] ?? 0) < WORKERS) startService(j, job);
      else if ((queues[j] as Job[]).length < QUEUE_MAX) (queues[j] as Job[]).push(job);
      else finish(job, false);
    }
    if (++arrivals < REQUESTS) events.push(now + rngArrivals.exponential(ARRIVAL_MEAN_MS), arrive);
  };
  events.push(0, arrive);
  for (let e = events.pop(); e !== undefined; e = events.pop()) {
    now = e[0];
    clock.set(now);
    e[1]();
  }
  const sorted = latencies.slice(0, ok).sort();
  return {
    policy,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    errorRate: failed / REQUESTS,
    share: sent.map((s) => s / REQUESTS),
    ejections,
  };
}

function modelShare(policy: Policy): number[] | undefined {
  const n = BACKENDS.length;
  const sumW = BACKENDS.reduce((s, b) => s + b.weight, 0);
  switch (policy) {
    case 'round-robin':
      return BACKENDS.map(() => 1 / n);
    case 'weighted-round-robin':
    case 'edf':
    case 'random':
    case 'consistent-hash': // ring points are proportional to weight
      return BACKENDS.map((b) => b.weight / sumW);
    default:
      return undefined;
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
process.stdout.write(
  `${REQUESTS} requests, seed ${SEED}, offered load ${LOAD} of capacity, ${WORKERS} workers per backend; ` +
    `backends ${BACKENDS.map((b) => `${b.id}(mean ${b.meanServiceMs} ms${b.failureRate > 0 ? `, ${pct(b.failureRate)} fail fast` : ''}, w=${b.weight})`).join(', ')}\n`,
);
for (const scenario of ['heterogeneous', 'formula-check'] as const) {
  process.stdout.write(
    scenario === 'heterogeneous'
      ? '\n### Heterogeneous backends (one slow, one failing; outlier detection on)\n\n'
      : '\n### Formula check (no failures, outlier detection off: every backend stays in rotation)\n\n',
  );
  process.stdout.write(
    `| policy | p50 ms | p99 ms | errors | ejections | ${BACKENDS.map((b) => b.id).join(' | ')} | seed model share | max abs deviation |\n`,
  );
  process.stdout.write(`|---|---:|---:|---:|---:|${BACKENDS.map(() => '---:').join('|')}|---|---:|\n`);
  for (const policy of POLICIES) {
    const r = run(policy, scenario);
    const m = modelShare(policy);
    // With failures on, ejections take backends out of rotation, so no formula applies.
    const dev = m === undefined || scenario === 'heterogeneous' ? '' : pct(Math.max(...m.map((x, i) => Math.abs(x - (r.share[i] ?? 0)))));
    process.stdout.write(
      `| ${policy} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${pct(r.errorRate)} | ${r.ejections} | ${r.share.map(pct).join(' | ')} | ${m === undefined ? 'none (load-adaptive)' : m.map(pct).join(' / ')} | ${dev} |\n`,
    );
  }
}
