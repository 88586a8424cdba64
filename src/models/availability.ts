/**
 * Steady-state availability of cluster topologies.
 *
 * Implements the seed's closed forms (section numbers of the seed document, 04.x):
 * master–slave / centralized `A_M · Π A_wi` (04.2.1, 04.3.1), replication / distributed
 * `1 - Π(1 - A_i)` (04.2.4, 04.3.2), hybrid `(1 - Π(1 - A_mi)) · Π A_wj` (04.3.3) and the
 * general form `Π A_mi · Π A_nj` (04.3.4); and, beyond the seed, exact k-of-n availability for
 * heterogeneous nodes (Poisson-binomial dynamic programming), majority-quorum availability for
 * Raft/Paxos/etcd clusters, hybrid clusters that need a master quorum and m of n workers, and
 * availability from MTBF/MTTR.
 *
 * Every model assumes nodes fail independently and that the quoted per-node availability is a
 * long-run fraction of time up. Correlated failures (a shared rack, a bad deploy), partial
 * failures (slow or flapping nodes) and the time a cluster needs to re-elect a leader are left
 * out; see docs/models.md.
 */
import { InvalidArgumentError } from '../core/errors.ts';

/** Throws InvalidArgumentError unless `p` is a probability. */
export function checkProbability(name: string, p: number): void {
  if (!Number.isFinite(p) || p < 0 || p > 1) {
    throw new InvalidArgumentError(`${name} must be a probability in [0, 1], got ${p}`);
  }
}

function checkProbabilities(name: string, ps: readonly number[]): void {
  ps.forEach((p, i) => {
    checkProbability(`${name}[${i}]`, p);
  });
}

/** Throws InvalidArgumentError unless `n` is an integer in [min, max]. */
export function checkCount(name: string, n: number, min = 0, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${n}`);
  }
}

/** `n` copies of the same availability. */
export function sameAvailability(n: number, availability: number): number[] {
  checkCount('n', n);
  checkProbability('availability', availability);
  return new Array<number>(n).fill(availability);
}

/** All components required (a series system): `Π A_i`. The empty product is 1. */
export function seriesAvailability(availabilities: readonly number[]): number {
  checkProbabilities('availabilities', availabilities);
  let product = 1;
  for (const a of availabilities) product *= a;
  return product;
}

/**
 * At least one component up (a parallel system): `1 - Π(1 - A_i)`. The product of the
 * unavailabilities is computed directly, so results close to 1 keep their precision.
 */
export function parallelAvailability(availabilities: readonly number[]): number {
  return 1 - parallelUnavailability(availabilities);
}

/** `Π(1 - A_i)`: the probability that every component is down. */
export function parallelUnavailability(availabilities: readonly number[]): number {
  checkProbabilities('availabilities', availabilities);
  let product = 1;
  for (const a of availabilities) product *= 1 - a;
  return product;
}

/** Seed 04.2.1 / 04.3.1: centralized (master–slave) cluster, `A_M · Π A_wi`. Every worker required. */
export function centralAvailability(masterAvailability: number, workerAvailabilities: readonly number[]): number {
  checkProbability('masterAvailability', masterAvailability);
  return masterAvailability * seriesAvailability(workerAvailabilities);
}

/** Seed 04.2.4 / 04.3.2: replication / distributed cluster, `1 - Π(1 - A_i)`: any one copy suffices. */
export function replicationAvailability(replicaAvailabilities: readonly number[]): number {
  return parallelAvailability(replicaAvailabilities);
}

/** Seed 04.3.3: hybrid cluster, `(1 - Π(1 - A_mi)) · Π A_wj`: any one master, every worker. */
export function hybridAvailability(masterAvailabilities: readonly number[], workerAvailabilities: readonly number[]): number {
  return parallelAvailability(masterAvailabilities) * seriesAvailability(workerAvailabilities);
}

/** Seed 04.3.4: general cluster model, `Π A_mi · Π A_nj`: every manager and every node required. */
export function generalClusterAvailability(managerAvailabilities: readonly number[], nodeAvailabilities: readonly number[]): number {
  return seriesAvailability(managerAvailabilities) * seriesAvailability(nodeAvailabilities);
}

/**
 * Poisson-binomial distribution of the number of nodes up: `pmf[j]` is the probability that
 * exactly j of the nodes are up, for independent nodes with the given availabilities.
 * O(n²) dynamic programming; exact up to floating-point rounding (all terms are non-negative,
 * so small tail probabilities keep their relative precision).
 */
export function upCountDistribution(availabilities: readonly number[]): number[] {
  checkProbabilities('availabilities', availabilities);
  let pmf = [1];
  for (const a of availabilities) {
    const next = new Array<number>(pmf.length + 1).fill(0);
    for (let j = 0; j < pmf.length; j++) {
      const p = pmf[j] ?? 0;
      next[j] = (next[j] ?? 0) + p * (1 - a);
      next[j + 1] = (next[j + 1] ?? 0) + p * a;
    }
    pmf = next;
  }
  return pmf;
}

function tails(availabilities: readonly number[], k: number): { below: number; atLeast: number } {
  checkCount('k', k, 0, availabilities.length);
  const pmf = upCountDistribution(availabilities);
  let below = 0;
  let atLeast = 0;
  pmf.forEach((p, j) => {
    if (j < k) below += p;
    else atLeast += p;
  });
  return { below, atLeast };
}

/** Probability that at least `k` of the nodes are up (exact, heterogeneous nodes). */
export function atLeastKOfN(availabilities: readonly number[], k: number): number {
  const { below, atLeast } = tails(availabilities, k);
  // Use the smaller tail: it is the one computed without cancellation.
  return below < atLeast ? 1 - below : atLeast;
}

/** Probability that fewer than `k` of the nodes are up: the unavailability of a k-of-n system. */
export function fewerThanKOfN(availabilities: readonly number[], k: number): number {
  const { below, atLeast } = tails(availabilities, k);
  return below < atLeast ? below : 1 - atLeast;
}

/** Smallest majority of n voters: `⌊n/2⌋ + 1`. */
export function majorityOf(n: number): number {
  checkCount('n', n, 1);
  return Math.floor(n / 2) + 1;
}

/**
 * Availability of a majority-quorum group (Raft, Multi-Paxos, etcd, ZooKeeper, Consul servers):
 * it can commit only while more than half of its voters are up (seed 04.6.4's commit condition).
 */
export function majorityQuorumAvailability(voterAvailabilities: readonly number[]): number {
  return atLeastKOfN(voterAvailabilities, majorityOf(voterAvailabilities.length));
}

export interface HybridQuorumSpec {
  /** Availability of each control-plane voter (e.g. etcd members on the masters). */
  readonly masterAvailabilities: readonly number[];
  /** Availability of each worker. */
  readonly workerAvailabilities: readonly number[];
  /** How many workers must be up to carry the load; defaults to all of them (the seed's assumption). */
  readonly workersNeeded?: number;
  /**
   * How many masters must be up: `'majority'` (a Raft/etcd control plane, the default) or `'any'`
   * (the seed's 04.3.3 assumption: stateless masters behind a shared store that never fails).
   */
  readonly masterRule?: 'majority' | 'any';
}

/** Hybrid cluster needing a master quorum and at least m of n workers. */
export function hybridQuorumAvailability(spec: HybridQuorumSpec): number {
  const masters = spec.masterAvailabilities;
  const workers = spec.workerAvailabilities;
  const needed = spec.workersNeeded ?? workers.length;
  checkCount('workersNeeded', needed, 0, workers.length);
  const rule = spec.masterRule ?? 'majority';
  const controlPlane = rule === 'majority' ? majorityQuorumAvailability(masters) : parallelAvailability(masters);
  return controlPlane * atLeastKOfN(workers, needed);
}

export interface StackedQuorumSpec {
  /** Machines that hold a copy of the replicated store and also run workloads. */
  readonly voterAvailabilities: readonly number[];
  /** Machines that only run workloads. */
  readonly otherAvailabilities: readonly number[];
  /** Machines (voters included) that must be up to carry the load. */
  readonly nodesNeeded: number;
  /** `'majority'` for a Raft store, `'any'` for a gossip-replicated one. */
  readonly voterRule: 'majority' | 'any';
}

/**
 * A stacked control plane (every machine runs workloads; the store lives on some of them):
 * `P(voters up meet the rule AND machines up ≥ m)`. The two events share the voters, so this is
 * not the product of their probabilities; it is summed exactly over the joint distribution of
 * up voters and up others.
 */
export function stackedQuorumAvailability(spec: StackedQuorumSpec): number {
  const voters = spec.voterAvailabilities;
  const total = voters.length + spec.otherAvailabilities.length;
  checkCount('nodesNeeded', spec.nodesNeeded, 0, total);
  const quorum = spec.voterRule === 'majority' ? majorityOf(voters.length) : Math.min(1, voters.length);
  const voterPmf = upCountDistribution(voters);
  const otherPmf = upCountDistribution(spec.otherAvailabilities);
  let sum = 0;
  voterPmf.forEach((pv, upVoters) => {
    if (upVoters < quorum) return;
    otherPmf.forEach((po, upOthers) => {
      if (upVoters + upOthers >= spec.nodesNeeded) sum += pv * po;
    });
  });
  return Math.min(1, sum);
}

/** Steady-state availability of a node that fails and is repaired: `MTBF / (MTBF + MTTR)`. */
export function availabilityFromMtbf(mtbf: number, mttr: number): number {
  if (!Number.isFinite(mtbf) || mtbf <= 0) throw new InvalidArgumentError(`mtbf must be a positive duration, got ${mtbf}`);
  if (!Number.isFinite(mttr) || mttr < 0) throw new InvalidArgumentError(`mttr must be a non-negative duration, got ${mttr}`);
  return mtbf / (mtbf + mttr);
}

/** Number of nines of an availability: `-log10(1 - A)` (Infinity for A = 1). */
export function nines(availability: number): number {
  checkProbability('availability', availability);
  return -Math.log10(1 - availability);
}

/** Expected downtime per year, in minutes, for an availability. */
export function downtimeMinutesPerYear(availability: number): number {
  checkProbability('availability', availability);
  return (1 - availability) * 365.25 * 24 * 60;
}

export type ReplicaRule = 'any' | 'majority';

/**
 * Smallest number of identical replicas (odd counts only for `'majority'`, since an even count
 * tolerates no more failures than the odd count below it) that reaches `target`, or undefined
 * if no count up to `replicasMax` does. Under `'majority'` with node availability ≤ 0.5, adding
 * replicas lowers availability, so no count helps.
 */
export function replicasForTarget(nodeAvailability: number, target: number, rule: ReplicaRule, replicasMax = 101): number | undefined {
  checkProbability('nodeAvailability', nodeAvailability);
  checkProbability('target', target);
  checkCount('replicasMax', replicasMax, 1, 10_001);
  const step = rule === 'majority' ? 2 : 1;
  for (let n = 1; n <= replicasMax; n += step) {
    const nodes = sameAvailability(n, nodeAvailability);
    // Compare unavailabilities: 1 - A rounds to 0 long before A's complement does.
    const down = rule === 'majority' ? fewerThanKOfN(nodes, majorityOf(n)) : parallelUnavailability(nodes);
    if (down <= 1 - target) return n;
  }
  return undefined;
}

/** One line of an availability comparison: which model, which formula, and why it applies. */
export interface AvailabilityRow {
  readonly id: string;
  readonly model: string;
  readonly formula: string;
  /** Seed section the formula comes from, or `beyond seed`. */
  readonly source: string;
  readonly availability: number;
  /** 1 - availability, computed without cancellation (keeps the nines of A close to 1). */
  readonly unavailability: number;
  /** What the model assumes about the system: when it is the right one. */
  readonly assumption: string;
}

export interface ClusterSpec {
  readonly masterAvailabilities: readonly number[];
  readonly workerAvailabilities: readonly number[];
  /** Workers that must be up; defaults to all (the seed's assumption). */
  readonly workersNeeded?: number;
}

/**
 * The seed's formulas and the quorum-aware ones side by side for one cluster, so a user sees how
 * far apart they are and which assumption each makes.
 */
export function compareAvailability(spec: ClusterSpec): AvailabilityRow[] {
  const masters = spec.masterAvailabilities;
  const workers = spec.workerAvailabilities;
  const needed = spec.workersNeeded ?? workers.length;
  checkCount('workersNeeded', needed, 0, workers.length);
  const rows: AvailabilityRow[] = [];
  // Unavailabilities of the parts, each computed directly so rows near 1 keep their precision.
  const workersAll = seriesAvailability(workers);
  const mastersAnyDown = parallelUnavailability(masters);
  const quorumDown = fewerThanKOfN(masters, majorityOf(masters.length));
  const workersShort = fewerThanKOfN(workers, needed);
  const row = (r: Omit<AvailabilityRow, 'availability'>): AvailabilityRow => ({ ...r, availability: 1 - r.unavailability });
  if (masters.length === 1) {
    rows.push(
      row({
        id: 'seed-central',
        model: 'centralized (seed)',
        formula: 'A_M · Π A_wi',
        source: '04.2.1, 04.3.1',
        unavailability: 1 - centralAvailability(masters[0] ?? 0, workers),
        assumption: 'one master and every worker must be up',
      }),
    );
  }
  rows.push(
    row({
      id: 'seed-hybrid',
      model: 'hybrid (seed)',
      formula: '(1 - Π(1 - A_mi)) · Π A_wj',
      source: '04.3.3',
      unavailability: 1 - workersAll + mastersAnyDown * workersAll,
      assumption: 'any one master suffices and every worker must be up',
    }),
    row({
      id: 'seed-general',
      model: 'general (seed)',
      formula: 'Π A_mi · Π A_nj',
      source: '04.3.4',
      unavailability: 1 - generalClusterAvailability(masters, workers),
      assumption: 'every manager and every node must be up',
    }),
    row({
      id: 'seed-distributed',
      model: 'distributed (seed)',
      formula: '1 - Π(1 - A_i) over all nodes',
      source: '04.2.4, 04.3.2',
      unavailability: parallelUnavailability([...masters, ...workers]),
      assumption: 'any single node can serve everything (read-any replication); wrong for a quorum system',
    }),
    row({
      id: 'quorum-all-workers',
      model: 'master quorum, all workers',
      formula: 'P(up masters > |M|/2) · Π A_wj',
      source: 'beyond seed (04.6.4 commit rule)',
      unavailability: 1 - workersAll + quorumDown * workersAll,
      assumption: 'masters run a Raft/etcd control plane that needs a majority; every worker needed',
    }),
    row({
      id: 'quorum-m-of-n',
      model: `master quorum, ${needed} of ${workers.length} workers`,
      formula: 'P(up masters > |M|/2) · P(up workers ≥ m)',
      source: 'beyond seed (Poisson-binomial)',
      unavailability: quorumDown + workersShort - quorumDown * workersShort,
      assumption: 'a majority of masters and at least m workers must be up',
    }),
    row({
      id: 'control-plane-quorum',
      model: 'control plane only (majority)',
      formula: 'P(up masters > |M|/2)',
      source: 'beyond seed (04.6.4 commit rule)',
      unavailability: quorumDown,
      assumption: 'the cluster can accept changes (schedule, write config) while a master majority is up',
    }),
  );
  return rows;
}
