/**
 * Quorum arithmetic for Raft and Paxos.
 *
 * Implements the seed's Raft commit condition `committed ⇔ |{n_i has log}| > |N|/2` (04.6.4) and
 * Paxos' majority voting (04.6.5): the majority size, how many failures a group tolerates, and
 * whether a given number of acknowledgements commits. Beyond the seed: Flexible Paxos (Howard,
 * Malkhi & Spiegelman, 2016), where only phase-1 (leader election) and phase-2 (replication)
 * quorums must intersect, `|Q1| + |Q2| > N`, so a smaller replication quorum can be bought
 * with a larger election quorum.
 *
 * Counts only: weighted votes, joint consensus during membership changes and grid quorums are
 * left out (the Raft module owns membership changes).
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { atLeastKOfN, checkCount, majorityOf, sameAvailability } from './availability.ts';

/** Largest group size these helpers accept. */
export const QUORUM_NODES_MAX = 1001;

/** Seed 04.6.4: a log entry is committed when more than half of the voters hold it. */
export function isCommitted(acks: number, voters: number): boolean {
  checkCount('voters', voters, 1, QUORUM_NODES_MAX);
  checkCount('acks', acks, 0, voters);
  return acks > voters / 2;
}

/** Failures a majority-quorum group of n voters survives while still committing: `⌊(n-1)/2⌋`. */
export function toleratedFailures(voters: number): number {
  checkCount('voters', voters, 1, QUORUM_NODES_MAX);
  return voters - majorityOf(voters);
}

/** Two quorum systems over N nodes always intersect iff `q1 + q2 > N` (pigeonhole). */
export function quorumsIntersect(voters: number, q1: number, q2: number): boolean {
  checkCount('voters', voters, 1, QUORUM_NODES_MAX);
  checkCount('q1', q1, 1, voters);
  checkCount('q2', q2, 1, voters);
  return q1 + q2 > voters;
}

export interface QuorumSummary {
  readonly voters: number;
  readonly majority: number;
  readonly toleratedFailures: number;
  /** The even-sized group's weakness: n = 2f+2 tolerates no more than n = 2f+1. */
  readonly sameToleranceAsSmaller: boolean;
}

export function summarizeQuorum(voters: number): QuorumSummary {
  const majority = majorityOf(voters);
  return {
    voters,
    majority,
    toleratedFailures: voters - majority,
    sameToleranceAsSmaller: voters > 1 && voters % 2 === 0,
  };
}

export interface FlexibleQuorum {
  readonly voters: number;
  /** Phase-1 (election / prepare) quorum size. */
  readonly q1: number;
  /** Phase-2 (replication / accept) quorum size. */
  readonly q2: number;
  readonly intersects: boolean;
  /** Failures tolerated while still electing a leader: N - q1. */
  readonly electionFailuresTolerated: number;
  /** Failures tolerated while still replicating under a stable leader: N - q2. */
  readonly replicationFailuresTolerated: number;
  /** Availability of phase 1 with identical nodes of the given availability. */
  readonly electionAvailability?: number;
  /** Availability of phase 2 with identical nodes of the given availability. */
  readonly replicationAvailability?: number;
}

/** Flexible Paxos: describes one (q1, q2) choice; throws if they do not intersect. */
export function flexibleQuorum(voters: number, q1: number, q2: number, nodeAvailability?: number): FlexibleQuorum {
  if (!quorumsIntersect(voters, q1, q2)) {
    throw new InvalidArgumentError(`q1 + q2 must exceed the number of voters (${voters}) for the quorums to intersect, got ${q1} + ${q2}`);
  }
  return describeFlexible(voters, q1, q2, nodeAvailability);
}

function describeFlexible(voters: number, q1: number, q2: number, nodeAvailability: number | undefined): FlexibleQuorum {
  const base = {
    voters,
    q1,
    q2,
    intersects: q1 + q2 > voters,
    electionFailuresTolerated: voters - q1,
    replicationFailuresTolerated: voters - q2,
  };
  if (nodeAvailability === undefined) return base;
  const nodes = sameAvailability(voters, nodeAvailability);
  return { ...base, electionAvailability: atLeastKOfN(nodes, q1), replicationAvailability: atLeastKOfN(nodes, q2) };
}

/** Every minimal intersecting choice: for each q2 from 1 to N, the smallest q1 = N - q2 + 1. */
export function flexibleQuorumChoices(voters: number, nodeAvailability?: number): FlexibleQuorum[] {
  checkCount('voters', voters, 1, QUORUM_NODES_MAX);
  const out: FlexibleQuorum[] = [];
  for (let q2 = 1; q2 <= voters; q2++) out.push(describeFlexible(voters, voters - q2 + 1, q2, nodeAvailability));
  return out;
}

/** The last entry of a node's log: what Raft compares in an election. */
export interface LastLogPosition {
  readonly lastLogTerm: number;
  readonly lastLogIndex: number;
}

/**
 * Raft §5.4.1: a voter grants its vote only if the candidate's log is at least as up to date as
 * its own: a later last term wins; with equal last terms, the longer log wins.
 */
export function isAtLeastAsUpToDate(candidate: LastLogPosition, voter: LastLogPosition): boolean {
  if (candidate.lastLogTerm !== voter.lastLogTerm) return candidate.lastLogTerm > voter.lastLogTerm;
  return candidate.lastLogIndex >= voter.lastLogIndex;
}

/**
 * Seed 04.6.4 writes the election as `Leader = argmax_i {term_i, log_index_i}`. Read
 * lexicographically on (last log term, last log index) this is the most up-to-date log; Raft
 * does not elect that node directly, but it is the one every voter would accept. Returns the
 * indices of all nodes tied at the maximum.
 */
export function mostUpToDate(logs: readonly LastLogPosition[]): number[] {
  if (logs.length === 0) throw new InvalidArgumentError('logs must describe at least one node');
  let best: number[] = [0];
  logs.forEach((log, i) => {
    if (i === 0) return;
    const top = logs[best[0] ?? 0] as LastLogPosition;
    if (isAtLeastAsUpToDate(log, top) && isAtLeastAsUpToDate(top, log)) best.push(i);
    else if (isAtLeastAsUpToDate(log, top)) best = [i];
  });
  return best;
}

/**
 * Which nodes could win an election if all nodes were up: those whose log at least a majority
 * (counting their own vote) would accept. Any of them may win, not only the argmax: Raft needs a
 * majority of votes, not the single most up-to-date log.
 */
export function possibleLeaders(logs: readonly LastLogPosition[]): number[] {
  const majority = Math.floor(logs.length / 2) + 1;
  const out: number[] = [];
  logs.forEach((candidate, i) => {
    const votes = logs.filter((voter) => isAtLeastAsUpToDate(candidate, voter)).length;
    if (votes >= majority) out.push(i);
  });
  return out;
}
