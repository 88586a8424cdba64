/**
 * Paxos ballot numbers ("Paxos Made Simple" §2.2: proposals are numbered from disjoint sets per
 * proposer): a ballot is (round, node), ordered by round, then by node id, so two proposers never
 * use the same ballot. `ZERO_BALLOT` (round 0, empty node id) is below every ballot a proposer
 * can use.
 */
import { compareNodeIds, type NodeId } from '../../core/ids.ts';

export interface Ballot {
  readonly round: number;
  readonly node: NodeId;
}

export const ZERO_BALLOT: Ballot = { round: 0, node: '' };

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round - b.round;
  return compareNodeIds(a.node, b.node);
}

export function ballotEquals(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.node === b.node;
}

/** The smallest ballot of `node` that is above `seen`. */
export function nextBallot(seen: Ballot, node: NodeId): Ballot {
  const b = { round: seen.round, node };
  return compareBallots(b, seen) > 0 ? b : { round: seen.round + 1, node };
}

export function ballotString(b: Ballot): string {
  return `${b.round}.${b.node || '-'}`;
}
