/**
 * `clusterkit model availability|connectivity|discovery|gossip|quorum|lb` and `clusterkit advise`:
 * the seed's formulas (04.2–04.8) and the quorum-aware models beside them, as tables (default),
 * JSON (`--json`) or SVG charts (`--svg FILE`). Bad input exits with code 2 and names the flag.
 */
import { type Command, InvalidArgumentError as CommanderInvalidArgument, Option } from 'commander';
import { createRng } from '../../core/rng.ts';
import {
  ADVISOR_NODES_MAX,
  type Advice,
  advise,
  CONSISTENCY_NEEDS,
  candidateStructure,
  LARGE_CLUSTER_NODES_MIN,
  type ConsistencyNeed,
  ADVISOR_SCALES,
  type ClusterScale,
  ADVISOR_WORKLOADS,
  type WorkloadKind,
} from '../../models/advisor.ts';
import {
  atLeastKOfN,
  availabilityFromMtbf,
  centralAvailability,
  compareAvailability,
  downtimeMinutesPerYear,
  fewerThanKOfN,
  hybridAvailability,
  hybridQuorumAvailability,
  majorityQuorumAvailability,
  parallelAvailability,
  parallelUnavailability,
  replicasForTarget,
  replicationAvailability,
  sameAvailability,
} from '../../models/availability.ts';
import {
  connectivityDensity,
  edgeCount,
  expectedDensity,
  GRAPH_NODES_MAX,
  generateTopology,
  pathStats,
  GRAPH_TOPOLOGIES,
  type GraphTopologyName,
  type GraphTopologyParams,
} from '../../models/connectivity.ts';
import { compareDiscovery, DEFAULT_DISCOVERY_INPUTS, type DiscoveryInputs, discoveryLatency, DISCOVERY_MODELS } from '../../models/discovery.ts';
import { estimateGossipRounds, GOSSIP_ROUNDS_MODES, gossipRoundsAsymptotic, gossipRoundsMeanField, rumorResidue, rumorTraffic } from '../../models/gossip.ts';
import {
  consistentHashIndex,
  leastConnectionsIndex,
  roundRobinSeed,
  seedWeightedArgmax,
  weightedRoundRobinIndex,
  weightedShare,
} from '../../models/loadBalancing.ts';
import { monteCarloAvailability, type NodeReliability, type AvailabilityStructure } from '../../models/monteCarlo.ts';
import {
  flexibleQuorum,
  flexibleQuorumChoices,
  isCommitted,
  type LastLogPosition,
  mostUpToDate,
  possibleLeaders,
  QUORUM_NODES_MAX,
  summarizeQuorum,
} from '../../models/quorum.ts';
import { type ChartSeries, writeLineChart } from '../chart.ts';
import { durationFlag, floatFlag, intFlag, printJson, probabilityFlag, table, UsageError } from '../util.ts';

const NODES_MAX = 1000;

/** A probability or a comma-separated list of probabilities. */
function probabilityListFlag(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.length === 0 || parts.some((p) => p === '')) throw new CommanderInvalidArgument(`${flag} must be a probability in [0, 1] or a comma-separated list of them, got ${JSON.stringify(value)}`);
    return parts.map((p) => {
      const n = Number(p);
      if (!Number.isFinite(n) || n < 0 || n > 1) throw new CommanderInvalidArgument(`${flag} must be a probability in [0, 1], got ${JSON.stringify(p)}`);
      return n;
    });
  };
}

function intListFlag(flag: string, min: number) {
  return (value: string): number[] =>
    value.split(',').map((s) => {
      const t = s.trim();
      const n = Number(t);
      if (!/^\d+$/.test(t) || !Number.isSafeInteger(n) || n < min) {
        throw new CommanderInvalidArgument(`${flag} must be a comma-separated list of integers >= ${min}, got ${JSON.stringify(s)}`);
      }
      return n;
    });
}

function nameListFlag(flag: string) {
  return (value: string): string[] => {
    const names = value.split(',').map((s) => s.trim());
    if (names.some((s) => s === '')) throw new CommanderInvalidArgument(`${flag} must be a comma-separated list of non-empty names, got ${JSON.stringify(value)}`);
    return names;
  };
}

/** Availability printed with enough digits to show its nines; pass the unavailability when known. */
export function formatAvailability(a: number, unavailability?: number): string {
  if (!Number.isFinite(a)) return String(a);
  const u = unavailability ?? 1 - a;
  if (u > 0 && u < 1e-6) return `1 - ${u.toExponential(2)}`;
  if (a >= 1) return '1';
  if (a <= 0) return '0';
  const nines = Math.floor(-Math.log10(1 - a));
  return a.toFixed(Math.min(15, Math.max(4, nines + 3)));
}

function formatDowntime(a: number, unavailability?: number): string {
  const minutes = unavailability === undefined ? downtimeMinutesPerYear(a) : unavailability * 365.25 * 24 * 60;
  if (minutes < 1e-3) return `${(minutes * 60).toExponential(1)} s`;
  if (minutes >= 24 * 60) return `${(minutes / (24 * 60)).toFixed(1)} d`;
  if (minutes >= 60) return `${(minutes / 60).toFixed(1)} h`;
  if (minutes >= 1) return `${minutes.toFixed(1)} min`;
  return `${(minutes * 60).toFixed(1)} s`;
}

let stdoutGuarded = false;

/** `clusterkit model ... | head` closes the pipe early: end quietly instead of crashing on EPIPE. */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

function json(value: unknown): void {
  guardStdout();
  printJson(value);
}

function out(text: string): void {
  guardStdout();
  process.stdout.write(`${text}\n`);
}

/** Expands a single value to `count` copies, or checks that a list has `count` entries. */
function expand(flag: string, values: readonly number[], count: number | undefined, countFlag: string): number[] {
  if (values.length === 1) return sameAvailability(count ?? 1, values[0] ?? 0);
  if (count !== undefined && count !== values.length) {
    throw new UsageError(`${flag} lists ${values.length} availabilities but ${countFlag} is ${count}: give one value or exactly ${count}`);
  }
  return [...values];
}

/** MTBF/MTTR for a node of availability a when only a is known: repairs take one time unit. */
function reliabilityFor(flag: string, a: number, mttr: number): NodeReliability {
  if (a <= 0 || a >= 1) throw new UsageError(`--monte-carlo needs availabilities strictly between 0 and 1 (or --mtbf and --mttr), ${flag} has ${a}`);
  return { mtbf: (a / (1 - a)) * mttr, mttr };
}

interface AvailabilityOpts {
  masters?: number;
  masterAvailability: number[];
  workers?: number;
  workerAvailability: number[];
  workersNeeded?: number;
  mtbf?: number;
  mttr?: number;
  target?: number;
  monteCarlo?: boolean;
  runs: number;
  horizon: number;
  seed: number;
  confidence: number;
  maxWorkers?: number;
  json?: boolean;
  svg?: string;
}

async function availabilityAction(o: AvailabilityOpts): Promise<void> {
  if ((o.mtbf === undefined) !== (o.mttr === undefined)) throw new UsageError('--mtbf and --mttr go together: give both or neither');
  let masterAs = expand('--master-availability', o.masterAvailability, o.masters, '--masters');
  let workerAs = expand('--worker-availability', o.workerAvailability, o.workers ?? (o.workerAvailability.length === 1 ? 10 : undefined), '--workers');
  let fromMtbf: number | undefined;
  if (o.mtbf !== undefined && o.mttr !== undefined) {
    if (o.mtbf <= 0) throw new UsageError(`--mtbf must be a positive duration, got ${o.mtbf} ms`);
    fromMtbf = availabilityFromMtbf(o.mtbf, o.mttr);
    masterAs = sameAvailability(masterAs.length, fromMtbf);
    workerAs = sameAvailability(workerAs.length, fromMtbf);
  }
  if (masterAs.length < 1) throw new UsageError('--masters must be >= 1');
  const needed = o.workersNeeded ?? workerAs.length;
  if (needed > workerAs.length) throw new UsageError(`--workers-needed must be in [0, ${workerAs.length}] (the number of workers), got ${needed}`);
  const rows = compareAvailability({ masterAvailabilities: masterAs, workerAvailabilities: workerAs, workersNeeded: needed });

  let target: { value: number; anyReplicas?: number; majorityReplicas?: number } | undefined;
  if (o.target !== undefined) {
    const a = masterAs[0] ?? 0;
    const anyReplicas = replicasForTarget(a, o.target, 'any');
    const majorityReplicas = replicasForTarget(a, o.target, 'majority');
    if (anyReplicas === undefined && majorityReplicas === undefined) {
      if (o.target === 1 || a === 0) {
        throw new UsageError(`--target ${o.target} is impossible with replicas of availability ${a}: no finite number of replicas reaches it; allowed range [0, 1) (and a > 0)`);
      }
      const bestDown = Math.min(parallelUnavailability(sameAvailability(101, a)), fewerThanKOfN(sameAvailability(101, a), 51));
      const best = formatAvailability(1 - bestDown, bestDown);
      throw new UsageError(`--target ${o.target} is impossible with replicas of availability ${a}: even 101 replicas reach only ${best}; allowed range [0, ${best}]`);
    }
    target = { value: o.target, ...(anyReplicas === undefined ? {} : { anyReplicas }), ...(majorityReplicas === undefined ? {} : { majorityReplicas }) };
  }

  type McRow = { id: string; estimate: number; lower: number; upper: number; closedForm: number; inside: boolean; conclusive: boolean; events: number };
  const monteCarlo: McRow[] = [];
  if (o.monteCarlo) {
    const mttr = o.mttr ?? 1;
    const nodesFor = (as: readonly number[], flag: string) =>
      as.map((a) => (o.mtbf !== undefined && o.mttr !== undefined ? { mtbf: o.mtbf, mttr: o.mttr } : reliabilityFor(flag, a, mttr)));
    const nodes = [...nodesFor(masterAs, '--master-availability'), ...nodesFor(workerAs, '--worker-availability')];
    const m = masterAs.length;
    const w = workerAs.length;
    const structures: [string, AvailabilityStructure][] = [
      ...(m === 1 ? ([['seed-central', { kind: 'hybrid', masters: 1, masterRule: 'all', workersNeeded: w }]] as [string, AvailabilityStructure][]) : []),
      ['seed-hybrid', { kind: 'hybrid', masters: m, masterRule: 'any', workersNeeded: w }],
      ['seed-general', { kind: 'hybrid', masters: m, masterRule: 'all', workersNeeded: w }],
      ['seed-distributed', { kind: 'parallel' }],
      ['quorum-all-workers', { kind: 'hybrid', masters: m, masterRule: 'majority', workersNeeded: w }],
      ['quorum-m-of-n', { kind: 'hybrid', masters: m, masterRule: 'majority', workersNeeded: needed }],
    ];
    const rng = createRng(o.seed);
    // Horizon in units of the mean repair time.
    const horizon = o.horizon * mttr;
    for (const [id, structure] of structures) {
      const r = monteCarloAvailability({ nodes, structure, horizon, runs: o.runs, confidence: o.confidence, rng: rng.fork(id) });
      monteCarlo.push({ id, estimate: r.estimate, lower: r.lower, upper: r.upper, closedForm: r.closedForm, inside: r.closedFormInside, conclusive: r.conclusive, events: r.events });
    }
  }

  if (o.svg) await availabilityChart(o.svg, masterAs, workerAs, needed, o.maxWorkers ?? Math.max(20, workerAs.length));

  if (o.json) {
    json({
      masters: masterAs,
      workers: workerAs,
      workersNeeded: needed,
      ...(fromMtbf === undefined ? {} : { nodeAvailabilityFromMtbf: fromMtbf }),
      models: rows,
      ...(target ? { target } : {}),
      ...(o.monteCarlo ? { monteCarlo: { seed: o.seed, runs: o.runs, confidence: o.confidence, horizonMttr: o.horizon, rows: monteCarlo } } : {}),
    });
    return;
  }
  out(
    `${masterAs.length} master(s) [${summarize(masterAs)}], ${workerAs.length} worker(s) [${summarize(workerAs)}], ${needed} worker(s) needed${fromMtbf === undefined ? '' : `; node availability from MTBF/MTTR: ${formatAvailability(fromMtbf)}`}`,
  );
  out('');
  const mcById = new Map(monteCarlo.map((r) => [r.id, r]));
  const headers = ['model', 'formula', 'source', 'availability', 'downtime/yr', ...(o.monteCarlo ? [`monte carlo (${Math.round(o.confidence * 100)}% CI)`, 'inside'] : []), 'assumes'];
  out(
    table(
      headers,
      rows.map((r) => {
        const mc = mcById.get(r.id);
        const mcCells = o.monteCarlo ? (mc ? [`${formatAvailability(mc.estimate)} [${formatAvailability(mc.lower)}, ${formatAvailability(mc.upper)}]`, insideCell(mc.inside, mc.conclusive)] : ['', '']) : [];
        return [r.model, r.formula, r.source, formatAvailability(r.availability, r.unavailability), formatDowntime(r.availability, r.unavailability), ...mcCells, r.assumption];
      }),
    ),
  );
  out('');
  out("Which applies: the seed's 1 - Π(1 - A) is right only when any one node can serve (read-any replication); a Raft/etcd control plane needs a majority, and Π A_w assumes every worker is needed.");
  if (target) {
    out('');
    out(
      `For --target ${target.value} with replicas at ${masterAs[0]}: ${target.anyReplicas ?? 'more than 101'} replica(s) if any one suffices (seed 04.3.2), ${target.majorityReplicas ?? 'no odd count up to 101'} if a majority is needed (Raft).`,
    );
  }
}

function summarize(as: readonly number[]): string {
  const distinct = [...new Set(as)];
  return distinct.length === 1 ? `each ${distinct[0]}` : as.join(', ');
}

async function availabilityChart(file: string, masterAs: readonly number[], workerAs: readonly number[], needed: number, maxWorkers: number): Promise<void> {
  const am = masterAs[0] ?? 0;
  const aw = workerAs[0] ?? 0;
  const ratio = workerAs.length === 0 ? 1 : needed / workerAs.length;
  const m = masterAs.length;
  const sizes = Array.from({ length: maxWorkers }, (_, i) => i + 1);
  const series: ChartSeries[] = [
    { name: 'centralized, 1 master (seed A_M·ΠA_w)', points: sizes.map((w) => [w, centralAvailability(am, sameAvailability(w, aw))]) },
    { name: `hybrid, ${m} masters (seed (1-Π(1-A_m))·ΠA_w)`, points: sizes.map((w) => [w, hybridAvailability(sameAvailability(m, am), sameAvailability(w, aw))]) },
    { name: 'distributed (seed 1-Π(1-A) over all)', points: sizes.map((w) => [w, replicationAvailability(sameAvailability(m + w, aw))]) },
    { name: `${m} masters quorum, all workers`, points: sizes.map((w) => [w, hybridQuorumAvailability({ masterAvailabilities: sameAvailability(m, am), workerAvailabilities: sameAvailability(w, aw) })]) },
    {
      name: `${m} masters quorum, ${Math.round(ratio * 100)}% of workers`,
      points: sizes.map((w) => [w, hybridQuorumAvailability({ masterAvailabilities: sameAvailability(m, am), workerAvailabilities: sameAvailability(w, aw), workersNeeded: Math.ceil(ratio * w) })]),
    },
  ];
  await writeLineChart(file, { title: `Availability against cluster size (masters ${am}, workers ${aw})`, xTitle: 'workers', yTitle: 'availability', series, yDomain: [0, 1] });
}

interface ConnectivityOpts {
  topology?: GraphTopologyName;
  nodes: number;
  edgeProbability?: number;
  degree?: number;
  neighbours?: number;
  rewireProbability?: number;
  seed: number;
  json?: boolean;
  svg?: string;
}

async function connectivityAction(o: ConnectivityOpts): Promise<void> {
  const params: GraphTopologyParams = {
    ...(o.edgeProbability === undefined ? {} : { edgeProbability: o.edgeProbability }),
    ...(o.degree === undefined ? {} : { degree: o.degree }),
    ...(o.neighbours === undefined ? {} : { neighbours: o.neighbours }),
    ...(o.rewireProbability === undefined ? {} : { rewireProbability: o.rewireProbability }),
  };
  if (o.degree !== undefined && (o.degree >= o.nodes || (o.degree * o.nodes) % 2 !== 0)) {
    throw new UsageError(`--degree must be in [0, ${o.nodes - 1}] with --degree × --nodes even, got ${o.degree} × ${o.nodes}`);
  }
  if (o.neighbours !== undefined && (o.neighbours >= o.nodes || o.neighbours % 2 !== 0)) {
    throw new UsageError(`--neighbours must be an even number in [0, ${o.nodes - 1}], got ${o.neighbours}`);
  }
  const names = o.topology ? [o.topology] : [...GRAPH_TOPOLOGIES];
  const rng = createRng(o.seed);
  const rows = names.map((name) => {
    const g = generateTopology(name, o.nodes, params, rng.fork(name));
    const stats = pathStats(g);
    return {
      topology: name,
      nodes: g.nodeCount,
      edges: edgeCount(g),
      density: connectivityDensity(g),
      expectedDensity: expectedDensity(name, o.nodes, params),
      connected: stats.connected,
      components: stats.components,
      diameter: stats.diameter,
      averagePathLength: stats.averagePathLength,
    };
  });
  if (o.svg) {
    const sizes = [4, 8, 16, 32, 64, 128, 256].filter((n) => n <= Math.max(o.nodes, 16));
    const series: ChartSeries[] = names.map((name) => ({
      name,
      points: sizes.map((n) => [n, pathStats(generateTopology(name, n, {}, rng.fork(`${name}/${n}`))).averagePathLength] as const),
    }));
    await writeLineChart(o.svg, { title: 'Average shortest path against nodes', xTitle: 'nodes', yTitle: 'average path length (hops)', series, xScale: 'log', yScale: 'log' });
  }
  if (o.json) {
    json({ seed: o.seed, formula: 'C = 2|E| / (|V|(|V|-1))', source: '04.2.2, 04.4.4', rows: rows.map((r) => ({ ...r, diameter: Number.isFinite(r.diameter) ? r.diameter : null })) });
    return;
  }
  out(`Seed 04.4.4: C = 2|E| / (|V|(|V|-1)); chain gives 2/n = ${(2 / o.nodes).toPrecision(6)} at n = ${o.nodes}. Random topologies use --seed ${o.seed}.`);
  out('');
  out(
    table(
      ['topology', 'nodes', 'edges', 'C (density)', 'expected C', 'connected', 'components', 'diameter', 'avg path'],
      rows.map((r) => [r.topology, r.nodes, r.edges, r.density, r.expectedDensity, r.connected ? 'yes' : 'NO', r.components, Number.isFinite(r.diameter) ? r.diameter : '∞', r.averagePathLength]),
    ),
  );
  out('');
  out('Density alone does not say whether messages get through: a chain and a star have the same C = 2/n, but diameters n-1 and 2.');
}

interface DiscoveryOpts {
  registerMs: number;
  registryRttMs: number;
  cacheHitRatio: number;
  selectMs: number;
  lbHopMs: number;
  json?: boolean;
  svg?: string;
}

async function discoveryAction(o: DiscoveryOpts): Promise<void> {
  const inputs: DiscoveryInputs = { registerMs: o.registerMs, registryRttMs: o.registryRttMs, cacheHitRatio: o.cacheHitRatio, selectMs: o.selectMs, lbHopMs: o.lbHopMs };
  const rows = compareDiscovery(inputs);
  if (o.svg) {
    const ratios = Array.from({ length: 11 }, (_, i) => i / 10);
    await writeLineChart(o.svg, {
      title: 'Per-request discovery latency against cache hit ratio',
      xTitle: 'cache hit ratio',
      yTitle: 'L_query + L_select (ms)',
      series: DISCOVERY_MODELS.map((m) => ({ name: m, points: ratios.map((c) => [c, discoveryLatency(m, { ...inputs, cacheHitRatio: c }).perRequestMs] as const) })),
    });
  }
  if (o.json) {
    json({ formula: 'L = L_register + L_query + L_select', source: '04.5.4', inputs, rows });
    return;
  }
  out('Seed 04.5.4: L_discovery = L_register + L_query + L_select (register is paid once per instance; a request pays query + select).');
  out('');
  out(
    table(
      ['model', 'path', 'register ms', 'query ms', 'select ms', 'total ms', 'per request ms', 'seed rating', 'computed rating', 'technologies'],
      rows.map((r) => [r.model, r.path, r.registerMs, r.queryMs, r.selectMs, r.totalMs, r.perRequestMs, r.seedTotal, r.computedRating, r.technologies.join(', ')]),
    ),
  );
}

interface GossipOpts {
  nodes: number;
  runs: number;
  seed: number;
  k?: number[];
  json?: boolean;
  svg?: string;
}

async function gossipAction(o: GossipOpts): Promise<void> {
  const rng = createRng(o.seed);
  const rows = GOSSIP_ROUNDS_MODES.map((mode) => estimateGossipRounds(mode, o.nodes, o.runs, rng));
  const ks = o.k ?? [1, 2, 3, 4, 5];
  const residues = ks.map((k) => {
    const s = rumorResidue(k);
    return { k, residue: s, trafficPerSite: rumorTraffic(s) };
  });
  if (o.svg) {
    const sizes = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536];
    await writeLineChart(o.svg, {
      title: 'Gossip rounds to inform every node (seed 04.6.6: R = O(log n))',
      xTitle: 'nodes',
      yTitle: 'rounds',
      xScale: 'log',
      series: GOSSIP_ROUNDS_MODES.flatMap((mode) => [
        { name: `${mode} (asymptotic)`, points: sizes.map((n) => [n, gossipRoundsAsymptotic(mode, n)] as const) },
        { name: `${mode} (mean field)`, points: sizes.map((n) => [n, gossipRoundsMeanField(mode, n)] as const) },
      ]),
    });
  }
  if (o.json) {
    json({ source: '04.6.6', seed: o.seed, rounds: rows, rumorMongering: residues });
    return;
  }
  const formula: Record<(typeof GOSSIP_ROUNDS_MODES)[number], string> = {
    push: 'log2 n + ln n (Pittel)',
    pull: 'log2 n + log2 ln n',
    'push-pull': 'log3 n + ln ln n (Karp et al.)',
  };
  out(`Seed 04.6.6: R = O(log |V|). Rounds to inform all ${o.nodes} nodes from one, random phone-call model${o.runs > 0 ? `, ${o.runs} simulated runs, --seed ${o.seed}` : ''}:`);
  out('');
  out(
    table(
      ['mode', 'formula', 'asymptotic', 'mean field', ...(o.runs > 0 ? ['simulated mean', 'simulated max'] : [])],
      rows.map((r) => [r.mode, formula[r.mode], r.asymptotic, r.meanField, ...(o.runs > 0 ? [r.simulatedMean, r.simulatedMax] : [])]),
    ),
  );
  out('');
  out('Rumor mongering (Demers et al. 1987, push, coin 1/k): residue s solves s = e^{-(k+1)(1-s)}; traffic m = -ln s messages per site.');
  out('');
  out(
    table(
      ['k', 'residue s', 'traffic m'],
      residues.map((r) => [r.k, r.residue, r.trafficPerSite]),
    ),
  );
}

/** `term:index,term:index,...`: each node's last log term and index. */
function logsFlag(flag: string) {
  return (value: string): LastLogPosition[] =>
    value.split(',').map((part) => {
      const m = /^\s*(\d+):(\d+)\s*$/.exec(part);
      if (!m) throw new CommanderInvalidArgument(`${flag} must be a comma-separated list of term:index pairs of non-negative integers, got ${JSON.stringify(part)}`);
      return { lastLogTerm: Number(m[1]), lastLogIndex: Number(m[2]) };
    });
}

interface QuorumOpts {
  logs?: LastLogPosition[];
  voters?: number;
  acks?: number;
  q1?: number;
  q2?: number;
  nodeAvailability: number;
  json?: boolean;
  svg?: string;
}

async function quorumAction(o: QuorumOpts): Promise<void> {
  if (o.logs && o.voters !== undefined && o.logs.length !== o.voters) {
    throw new UsageError(`--logs lists ${o.logs.length} nodes but --voters is ${o.voters}: give one term:index per voter`);
  }
  const n = o.logs?.length ?? o.voters ?? 5;
  if (n > QUORUM_NODES_MAX) throw new UsageError(`--logs must list at most ${QUORUM_NODES_MAX} nodes`);
  const election = o.logs ? { mostUpToDate: mostUpToDate(o.logs).map((i) => i + 1), possibleLeaders: possibleLeaders(o.logs).map((i) => i + 1) } : undefined;
  if (o.acks !== undefined && o.acks > n) throw new UsageError(`--acks must be in [0, ${n}] (the number of voters), got ${o.acks}`);
  if ((o.q1 === undefined) !== (o.q2 === undefined)) throw new UsageError('--q1 and --q2 go together: give both or neither');
  if (o.q1 !== undefined && (o.q1 < 1 || o.q1 > n)) throw new UsageError(`--q1 must be in [1, ${n}], got ${o.q1}`);
  if (o.q2 !== undefined && (o.q2 < 1 || o.q2 > n)) throw new UsageError(`--q2 must be in [1, ${n}], got ${o.q2}`);
  const summary = summarizeQuorum(n);
  const a = o.nodeAvailability;
  const majorityAvailability = majorityQuorumAvailability(sameAvailability(n, a));
  const seedAnyAvailability = parallelAvailability(sameAvailability(n, a));
  const committed = o.acks === undefined ? undefined : isCommitted(o.acks, n);
  const choices = flexibleQuorumChoices(n, a);
  let chosen: { q1: number; q2: number; intersects: boolean; electionAvailability?: number; replicationAvailability?: number } | undefined;
  if (o.q1 !== undefined && o.q2 !== undefined) {
    chosen =
      o.q1 + o.q2 > n
        ? flexibleQuorum(n, o.q1, o.q2, a)
        : { q1: o.q1, q2: o.q2, intersects: false, electionAvailability: atLeastKOfN(sameAvailability(n, a), o.q1), replicationAvailability: atLeastKOfN(sameAvailability(n, a), o.q2) };
  }
  if (o.svg) {
    const sizes = Array.from({ length: 15 }, (_, i) => i + 1);
    await writeLineChart(o.svg, {
      title: `Availability of a group of n voters at ${a} each`,
      xTitle: 'voters',
      yTitle: 'availability',
      series: [
        { name: 'majority quorum (Raft/Paxos)', points: sizes.map((v) => [v, majorityQuorumAvailability(sameAvailability(v, a))] as const) },
        { name: 'any one (seed 1-Π(1-A))', points: sizes.map((v) => [v, parallelAvailability(sameAvailability(v, a))] as const) },
      ],
    });
  }
  if (o.json) {
    json({
      source: '04.6.4, 04.6.5',
      ...summary,
      nodeAvailability: a,
      majorityAvailability,
      seedAnyOneAvailability: seedAnyAvailability,
      ...(committed === undefined ? {} : { acks: o.acks, committed }),
      ...(chosen ? { flexible: chosen } : {}),
      ...(election ? { election } : {}),
      flexibleChoices: choices,
    });
    return;
  }
  out(`Seed 04.6.4: committed ⇔ |{n_i has log}| > |N|/2. ${n} voters, each up with probability ${a}.`);
  out('');
  out(
    table(
      ['voters', 'majority', 'tolerated failures', 'availability (majority)', 'seed 1-Π(1-A) (any one)', ...(committed === undefined ? [] : [`${o.acks} acks commit?`])],
      [[n, summary.majority, summary.toleratedFailures, formatAvailability(majorityAvailability), formatAvailability(seedAnyAvailability), ...(committed === undefined ? [] : [committed ? 'yes' : 'no'])]],
    ),
  );
  if (summary.sameToleranceAsSmaller) out(`An even group of ${n} tolerates no more failures than ${n - 1} voters and needs a larger majority.`);
  out('');
  out('Flexible Paxos (Howard et al. 2016): election quorum Q1 and replication quorum Q2 must intersect, |Q1| + |Q2| > N.');
  out('');
  out(
    table(
      ['q1 (election)', 'q2 (replication)', 'election survives', 'replication survives', 'election availability', 'replication availability'],
      choices.map((c) => [c.q1, c.q2, `${c.electionFailuresTolerated} down`, `${c.replicationFailuresTolerated} down`, formatAvailability(c.electionAvailability ?? 0), formatAvailability(c.replicationAvailability ?? 0)]),
    ),
  );
  if (election) {
    out('');
    out(`Seed 04.6.4: Leader = argmax {term, log_index}: node(s) ${election.mostUpToDate.join(', ')} (numbered from 1) have the most up-to-date log.`);
    out(
      `Raft §5.4.1: a voter accepts a candidate whose last log term is later, or equal with an index at least as long; node(s) ${election.possibleLeaders.join(', ')} can collect a majority and win.`,
    );
  }
  if (chosen) {
    out('');
    out(
      chosen.intersects
        ? `q1 = ${chosen.q1}, q2 = ${chosen.q2}: intersect (${chosen.q1} + ${chosen.q2} > ${n}): safe.`
        : `q1 = ${chosen.q1}, q2 = ${chosen.q2}: do NOT intersect (${chosen.q1} + ${chosen.q2} <= ${n}): a new leader can miss committed entries; unsafe.`,
    );
  }
}

interface LbOpts {
  instances: number;
  requests: number;
  weights?: number[];
  connections?: number[];
  keys?: string[];
  names?: string[];
  json?: boolean;
}

function lbAction(o: LbOpts): void {
  const names = o.names ?? Array.from({ length: o.instances }, (_, i) => `instance-${i + 1}`);
  if (new Set(names).size !== names.length) throw new UsageError('--names must be distinct');
  const n = names.length;
  if (o.weights && o.weights.length !== n) throw new UsageError(`--weights must list one weight per instance (${n}), got ${o.weights.length}`);
  if (o.connections && o.connections.length !== n) throw new UsageError(`--connections must list one count per instance (${n}), got ${o.connections.length}`);
  if (o.weights?.every((w) => w === 0)) throw new UsageError('--weights must not all be zero');
  const requests = Array.from({ length: o.requests }, (_, i) => i);
  const rr = requests.map((i) => roundRobinSeed(i, n));
  const wrr = o.weights ? requests.map((i) => weightedRoundRobinIndex(i, o.weights ?? []) + 1) : undefined;
  const shares = o.weights ? weightedShare(o.weights) : undefined;
  const seedArgmax = o.weights ? seedWeightedArgmax(o.weights) + 1 : undefined;
  const lc = o.connections ? leastConnectionsIndex(o.connections) + 1 : undefined;
  const ch = (o.keys ?? []).map((key) => ({ key, instance: consistentHashIndex(key, names) + 1 }));
  if (o.json) {
    json({
      source: '04.7.4',
      instances: names,
      roundRobin: rr,
      ...(wrr ? { weightedRoundRobin: wrr, weightedShare: shares, seedWeightedArgmax: seedArgmax } : {}),
      ...(lc === undefined ? {} : { leastConnections: lc }),
      consistentHash: ch,
    });
    return;
  }
  out(`Seed 04.7.4 over ${n} instances (numbered from 1 as in the seed): ${names.map((s, i) => `${i + 1}=${s}`).join(', ')}`);
  out('');
  out(
    table(
      ['request i', 'round robin (i mod n)+1', ...(wrr ? ['smooth weighted RR'] : [])],
      requests.map((i) => [i, rr[i], ...(wrr ? [wrr[i]] : [])]),
    ),
  );
  if (shares) {
    out('');
    out(
      table(
        ['instance', 'weight', 'share W_j/ΣW'],
        names.map((s, j) => [s, o.weights?.[j], shares[j]]),
      ),
    );
    out(`The seed's argmax_j W_j/ΣW taken literally always picks instance ${seedArgmax}; weighted round robin gives each instance its share instead.`);
  }
  if (lc !== undefined) {
    out('');
    out(`Least connections argmin_j C_j over [${o.connections?.join(', ')}]: instance ${lc} (${names[lc - 1]}).`);
  }
  if (ch.length > 0) {
    out('');
    out(
      table(
        ['key', 'argmin_j hash(k, j)'],
        ch.map((c) => [c.key, `${c.instance} (${names[c.instance - 1]})`]),
      ),
    );
  }
}

interface AdviseOpts {
  monteCarlo?: boolean;
  runs: number;
  horizon: number;
  seed: number;
  nodes: number;
  target: number;
  consistency: ConsistencyNeed;
  workload: WorkloadKind;
  scale?: ClusterScale;
  latencyBudgetMs?: number;
  nodeAvailability: number;
  capacity: number;
  json?: boolean;
}

function adviseAction(o: AdviseOpts): void {
  if (o.target >= 1) throw new UsageError(`--target must be in (0, 1): no cluster is up with probability 1, got ${o.target}`);
  if (o.target <= 0) throw new UsageError(`--target must be in (0, 1), got ${o.target}`);
  const advice = advise({
    nodes: o.nodes,
    targetAvailability: o.target,
    consistency: o.consistency,
    workload: o.workload,
    nodeAvailability: o.nodeAvailability,
    capacityNeeded: o.capacity,
    ...(o.scale === undefined ? {} : { scale: o.scale }),
    ...(o.latencyBudgetMs === undefined ? {} : { latencyBudgetMs: o.latencyBudgetMs }),
  });
  if (!advice.topology) {
    throw new UsageError(
      `--target ${o.target} is impossible with --nodes ${o.nodes} at --node-availability ${o.nodeAvailability} and --capacity ${o.capacity}: the best topology reaches ${formatAvailability(advice.bestAvailability)}; allowed range (0, ${formatAvailability(advice.bestAvailability)}]`,
    );
  }
  const monteCarlo = o.monteCarlo ? adviceMonteCarlo(advice, o) : undefined;
  if (o.json) {
    json(monteCarlo ? { ...advice, monteCarlo: { seed: o.seed, runs: o.runs, horizonMttr: o.horizon, rows: monteCarlo } } : advice);
    return;
  }
  printAdvice(advice, advice.topology, monteCarlo);
}

interface CandidateCheck {
  readonly kind: string;
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
  readonly inside: boolean;
  readonly conclusive: boolean;
}

/** Simulates every candidate (identical machines, MTTR one time unit) to check its closed form. */
function adviceMonteCarlo(advice: Advice, o: AdviseOpts): CandidateCheck[] {
  const a = advice.requirements.nodeAvailability;
  const node = reliabilityFor('--node-availability', a, 1);
  const rng = createRng(o.seed);
  return advice.candidates.map((c) => {
    const { structure, nodeCount } = candidateStructure(c, advice.requirements.consistency);
    const r = monteCarloAvailability({
      nodes: Array.from({ length: nodeCount }, () => node),
      structure,
      horizon: o.horizon,
      runs: o.runs,
      rng: rng.fork(c.kind),
    });
    return { kind: c.kind, estimate: r.estimate, lower: r.lower, upper: r.upper, inside: r.closedFormInside, conclusive: r.conclusive };
  });
}

function printAdvice(advice: Advice, topology: NonNullable<Advice['topology']>, monteCarlo: readonly CandidateCheck[] | undefined): void {
  const mc = new Map((monteCarlo ?? []).map((m) => [m.kind, m]));
  const r = advice.requirements;
  out(
    `Requirements: ${r.nodes} machines at ${r.nodeAvailability}, target ${r.targetAvailability}, ${r.consistency} consistency, ${r.workload} workload, ${r.scale} scale, ${Math.round(r.capacityNeeded * 100)}% of workload machines needed${r.latencyBudgetMs === undefined ? '' : `, latency budget ${r.latencyBudgetMs} ms`}.`,
  );
  out('');
  out('Candidates (availability is quorum-aware; the seed column uses the seed formula for the same machines):');
  out(
    table(
      [
        'topology',
        'seed model',
        'masters',
        'voters',
        'workers (needed)',
        'availability',
        ...(monteCarlo ? ['monte carlo (95% CI)', 'inside'] : []),
        'seed formula',
        'meets target',
        'technologies',
      ],
      advice.candidates.map((c) => [
        c.kind === topology.kind ? `${c.kind} *` : c.kind,
        c.seedModel,
        c.dedicatedMasters,
        c.controlPlaneVoters,
        `${c.workers} (${c.workersNeeded})`,
        formatAvailability(c.availability),
        ...(monteCarlo ? mcCells(mc.get(c.kind)) : []),
        formatAvailability(c.seedAvailability),
        c.meetsTarget ? (c.suitable ? 'yes' : 'yes (ill-suited)') : 'no',
        c.technologies.join('; '),
      ]),
    ),
  );
  const section = (title: string, model: string, tech: readonly string[], reasons: readonly string[]) => {
    out('');
    out(`${title}: ${model}`);
    out(`  use: ${tech.join(', ')}`);
    for (const reason of reasons) out(`  - ${reason}`);
  };
  section('Topology', `${topology.kind} — ${topology.seedModel}`, topology.technologies, advice.topologyReasons);
  section('Consistency', advice.consistency.model, advice.consistency.technologies, advice.consistency.reasons);
  section('Discovery', advice.discovery.model, advice.discovery.technologies, advice.discovery.reasons);
  section('Load balancing', advice.loadBalancing.model, advice.loadBalancing.technologies, advice.loadBalancing.reasons);
  if (advice.warnings.length > 0) {
    out('');
    out('Warnings:');
    for (const w of advice.warnings) out(`  ! ${w}`);
  }
}

function insideCell(inside: boolean, conclusive: boolean): string {
  if (!conclusive) return 'no outage seen';
  return inside ? 'yes' : 'NO';
}

function mcCells(m: CandidateCheck | undefined): string[] {
  if (!m) return ['', ''];
  return [`${formatAvailability(m.estimate)} [${formatAvailability(m.lower)}, ${formatAvailability(m.upper)}]`, insideCell(m.inside, m.conclusive)];
}

function withOutputFlags(cmd: Command, svg = true): Command {
  cmd.option('--json', 'print JSON instead of tables');
  if (svg) cmd.option('--svg <file>', 'also write an SVG chart to this file');
  return cmd;
}

export function registerModels(program: Command): void {
  const model = program.command('model').description("the seed's formulas beside quorum-aware models, Monte Carlo checks and charts");

  withOutputFlags(
    model
      .command('availability')
      .description('cluster availability: seed 04.2/04.3 forms, majority quorum, m-of-n workers, MTBF/MTTR, Monte Carlo')
      .option('--masters <n>', 'number of masters (control-plane voters)', intFlag('--masters', { min: 1, max: NODES_MAX }))
      .option('--master-availability <p[,p...]>', 'availability of each master, one value or one per master', probabilityListFlag('--master-availability'), [0.99])
      .option('--workers <n>', 'number of workers (default 10)', intFlag('--workers', { min: 0, max: NODES_MAX }))
      .option('--worker-availability <p[,p...]>', 'availability of each worker, one value or one per worker', probabilityListFlag('--worker-availability'), [0.95])
      .option('--workers-needed <m>', 'workers that must be up to carry the load (default: all, the seed assumption)', intFlag('--workers-needed', { min: 0, max: NODES_MAX }))
      .option('--mtbf <duration>', 'mean time between failures of every node, e.g. 720h (with --mttr)', durationFlag('--mtbf'))
      .option('--mttr <duration>', 'mean time to repair of every node, e.g. 4h (with --mtbf)', durationFlag('--mttr'))
      .option('--target <p>', 'also compute the replicas needed for this availability', probabilityFlag('--target'))
      .option('--monte-carlo', 'check every model by simulating failures and repairs')
      .option('--runs <n>', 'Monte Carlo replications', intFlag('--runs', { min: 2, max: 10_000 }), 20)
      .option('--horizon <n>', 'simulated time per replication, in mean repair times', floatFlag('--horizon', { min: 1, max: 1e7 }), 20_000)
      .option('--confidence <p>', 'confidence level of the Monte Carlo interval, in (0, 1)', floatFlag('--confidence', { min: 0.5, max: 0.9999 }), 0.95)
      .option('--seed <n>', 'seed of the Monte Carlo simulation', intFlag('--seed', { min: 0 }), 1)
      .option('--max-workers <n>', 'largest cluster drawn by --svg', intFlag('--max-workers', { min: 1, max: NODES_MAX })),
  ).action(async (opts: AvailabilityOpts) => {
    await availabilityAction(opts);
  });

  withOutputFlags(
    model
      .command('connectivity')
      .description('seed 04.4.4 density C = 2|E|/(|V|(|V|-1)) with connectedness, diameter and path length')
      .addOption(new Option('--topology <name>', 'one topology (default: all)').choices(GRAPH_TOPOLOGIES))
      .option('--nodes <n>', 'number of nodes', intFlag('--nodes', { min: 1, max: GRAPH_NODES_MAX }), 20)
      .option('--edge-probability <p>', 'edge probability for random (default 2 ln(n)/n)', probabilityFlag('--edge-probability'))
      .option('--degree <d>', 'degree for regular (default 4)', intFlag('--degree', { min: 0, max: GRAPH_NODES_MAX }))
      .option('--neighbours <k>', 'ring neighbours for small-world, even (default 4)', intFlag('--neighbours', { min: 0, max: GRAPH_NODES_MAX }))
      .option('--rewire-probability <p>', 'rewiring probability for small-world (default 0.1)', probabilityFlag('--rewire-probability'))
      .option('--seed <n>', 'seed for random topologies', intFlag('--seed', { min: 0 }), 1),
  ).action(async (opts: ConnectivityOpts) => {
    await connectivityAction(opts);
  });

  withOutputFlags(
    model
      .command('discovery')
      .description("seed 04.5.4 L = L_register + L_query + L_select for client-side, server-side and registry discovery")
      .option('--register-ms <ms>', 'registration latency (a consensus write for etcd/Consul)', floatFlag('--register-ms', { min: 0 }), DEFAULT_DISCOVERY_INPUTS.registerMs)
      .option('--registry-rtt-ms <ms>', 'round trip to the registry including its service time', floatFlag('--registry-rtt-ms', { min: 0 }), DEFAULT_DISCOVERY_INPUTS.registryRttMs)
      .option('--cache-hit-ratio <p>', 'fraction of lookups served from a cache', probabilityFlag('--cache-hit-ratio'), DEFAULT_DISCOVERY_INPUTS.cacheHitRatio)
      .option('--select-ms <ms>', 'time to pick an instance', floatFlag('--select-ms', { min: 0 }), DEFAULT_DISCOVERY_INPUTS.selectMs)
      .option('--lb-hop-ms <ms>', 'extra hop through a load balancer (server-side)', floatFlag('--lb-hop-ms', { min: 0 }), DEFAULT_DISCOVERY_INPUTS.lbHopMs),
  ).action(async (opts: DiscoveryOpts) => {
    await discoveryAction(opts);
  });

  withOutputFlags(
    model
      .command('gossip')
      .description('seed 04.6.6 R = O(log n): push, pull, push-pull rounds and Demers rumor-mongering residue')
      .option('--nodes <n>', 'number of nodes', intFlag('--nodes', { min: 1, max: 1_000_000 }), 1000)
      .option('--runs <n>', 'simulated runs per mode (0: formulas only)', intFlag('--runs', { min: 0, max: 10_000 }), 20)
      .option('--seed <n>', 'seed of the simulation', intFlag('--seed', { min: 0 }), 1)
      .option('--k <k[,k...]>', 'rumor-mongering stop parameters (default 1,2,3,4,5)', intListFlag('--k', 1)),
  ).action(async (opts: GossipOpts) => {
    if (opts.nodes * opts.runs > 20_000_000) throw new UsageError(`--nodes × --runs must be at most 20000000, got ${opts.nodes * opts.runs}`);
    await gossipAction(opts);
  });

  withOutputFlags(
    model
      .command('quorum')
      .description('seed 04.6.4/04.6.5 majority commit rule, tolerated failures, Flexible Paxos intersection')
      .option('--voters <n>', 'number of voters (default 5, or the number of --logs)', intFlag('--voters', { min: 1, max: QUORUM_NODES_MAX }))
      .option('--logs <term:index,...>', "each voter's last log term and index: who can win an election", logsFlag('--logs'))
      .option('--acks <n>', 'check whether this many acknowledgements commit', intFlag('--acks', { min: 0, max: QUORUM_NODES_MAX }))
      .option('--q1 <n>', 'Flexible Paxos election quorum (with --q2)', intFlag('--q1', { min: 1, max: QUORUM_NODES_MAX }))
      .option('--q2 <n>', 'Flexible Paxos replication quorum (with --q1)', intFlag('--q2', { min: 1, max: QUORUM_NODES_MAX }))
      .option('--node-availability <p>', 'availability of each voter', probabilityFlag('--node-availability'), 0.99),
  ).action(async (opts: QuorumOpts) => {
    await quorumAction(opts);
  });

  withOutputFlags(
    model
      .command('lb')
      .description('seed 04.7.4 load-balancing formulas: round robin, weighted, least connections, consistent hashing')
      .option('--instances <n>', 'number of instances (or give --names)', intFlag('--instances', { min: 1, max: NODES_MAX }), 3)
      .option('--names <a,b,...>', 'instance names (for consistent hashing)', nameListFlag('--names'))
      .option('--requests <n>', 'requests to show', intFlag('--requests', { min: 1, max: 10_000 }), 7)
      .option('--weights <w,...>', 'integer weights, one per instance', intListFlag('--weights', 0))
      .option('--connections <c,...>', 'open connections, one per instance', intListFlag('--connections', 0))
      .option('--keys <k,...>', 'request keys to place by consistent hashing', nameListFlag('--keys')),
    false,
  ).action((opts: LbOpts) => {
    lbAction(opts);
  });

  withOutputFlags(
    program
      .command('advise')
      .description('recommend topology, consistency, discovery and load balancing (seed 04.8) with computed availability')
      .requiredOption('--nodes <n>', 'machines available', intFlag('--nodes', { min: 1, max: ADVISOR_NODES_MAX }))
      .option('--target <p>', 'target availability, in (0, 1)', floatFlag('--target', { min: 0, max: 1 }), 0.999)
      .addOption(new Option('--consistency <need>', 'consistency the workload needs').choices(CONSISTENCY_NEEDS).default('strong'))
      .addOption(new Option('--workload <kind>', 'what runs on the cluster').choices(ADVISOR_WORKLOADS).default('container'))
      .addOption(new Option('--scale <scale>', `cluster scale (default: large above ${LARGE_CLUSTER_NODES_MIN} machines)`).choices(ADVISOR_SCALES))
      .option('--latency-budget-ms <ms>', 'budget for discovery and balancing per request', floatFlag('--latency-budget-ms', { min: 0 }))
      .option('--node-availability <p>', 'availability of one machine', probabilityFlag('--node-availability'), 0.99)
      .option('--capacity <fraction>', 'fraction of workload machines that must be up, in (0, 1]', floatFlag('--capacity', { min: 0, max: 1, minExclusive: true }), 0.8)
      .option('--monte-carlo', "check every candidate's availability by simulating failures and repairs")
      .option('--runs <n>', 'Monte Carlo replications', intFlag('--runs', { min: 2, max: 10_000 }), 20)
      .option('--horizon <n>', 'simulated time per replication, in mean repair times', floatFlag('--horizon', { min: 1, max: 1e7 }), 20_000)
      .option('--seed <n>', 'seed of the Monte Carlo simulation', intFlag('--seed', { min: 0 }), 1),
    false,
  ).action((opts: AdviseOpts) => {
    adviseAction(opts);
  });
}
