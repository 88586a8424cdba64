/**
 * Quorum arithmetic, free of any Raft state: the committed index of a majority configuration
 * (the largest index acknowledged by a majority, §5.3) and of a joint configuration (the
 * smaller of the two majorities, thesis §4.3), and election outcomes for both. Seed 04.6.4's
 * commit condition |{n | n has the entry}| > |N|/2 is `majorityCommitted`.
 *
 * Leaves out: the current-term rule of §5.4.2 (the caller checks the entry's term).
 */
import type { NodeId } from '../../core/ids.ts';

export type VoteResult = 'won' | 'lost' | 'pending';

/** Size of a majority of n voters. */
export function majoritySize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * Largest index that a majority of `voters` have acknowledged. An empty configuration commits
 * everything (Infinity), so that a joint configuration with an empty half reduces to the other.
 */
export function majorityCommitted(voters: readonly NodeId[], acked: (id: NodeId) => number): number {
  if (voters.length === 0) return Number.POSITIVE_INFINITY;
  const xs = voters.map((v) => acked(v)).sort((a, b) => b - a);
  return xs[majoritySize(voters.length) - 1] ?? 0;
}

export function jointCommitted(incoming: readonly NodeId[], outgoing: readonly NodeId[], acked: (id: NodeId) => number): number {
  const c = Math.min(majorityCommitted(incoming, acked), majorityCommitted(outgoing, acked));
  return c === Number.POSITIVE_INFINITY ? 0 : c;
}

/** Election outcome in one majority configuration; `votes` maps voter -> granted. */
export function majorityVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const v of voters) {
    const g = votes.get(v);
    if (g === undefined) missing++;
    else if (g) granted++;
  }
  const q = majoritySize(voters.length);
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}

/** A joint election needs both majorities. */
export function jointVoteResult(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVoteResult(incoming, votes);
  const b = majorityVoteResult(outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

/** True when the set of nodes `acks` contains a quorum of the (possibly joint) configuration. */
export function hasJointQuorum(incoming: readonly NodeId[], outgoing: readonly NodeId[], acks: ReadonlySet<NodeId>): boolean {
  const votes = new Map<NodeId, boolean>();
  for (const v of [...incoming, ...outgoing]) votes.set(v, acks.has(v));
  return jointVoteResult(incoming, outgoing, votes) === 'won';
}
