/**
 * Configuration of a Multi-Paxos replica, every field with its unit, plus the quorum system:
 * majorities by default, or Flexible Paxos (Howard, Malkhi, Spiegelman 2016) with a phase-1
 * quorum Q1 and a phase-2 quorum Q2 that need only intersect each other: |Q1| + |Q2| > N
 * (checked with models/quorum.ts). A small Q2 makes every commit cheaper; the price is a larger
 * Q1 at leader changes.
 */
import { ConfigError } from '../../core/errors.ts';
import type { NodeId } from '../../core/ids.ts';
import { quorumsIntersect } from '../../models/quorum.ts';

export type QuorumConfig = { kind: 'majority' } | { kind: 'flexible'; q1: number; q2: number };

export interface PaxosConfig {
  /** Every acceptor (and learner) of the group, this node included. */
  nodes: readonly NodeId[];
  quorum: QuorumConfig;
  /** A leader sends a heartbeat (with its commit point) every this many ticks. */
  heartbeatTicks: number;
  /**
   * A follower that hears nothing from a leader for this many ticks, plus a random 0..this
   * extra, suspects it and runs phase 1 (the lease-like failure detector).
   */
  leaderTimeoutTicks: number;
  /** A candidate whose phase 1 got no quorum retries after this many ticks (plus jitter). */
  prepareRetryTicks: number;
  /** At most this many client commands are packed into one slot (batching). */
  batchCommandsMax: number;
  /** At most this many slots are in phase 2 (proposed, not yet chosen) at once. */
  inflightSlotsMax: number;
  /** At most this many commands wait for a slot; `propose` refuses more (definite error). */
  proposalQueueMax: number;
  /** At most this many slots per catch-up reply. */
  catchupSlotsMax: number;
  /** At most this many reads wait for their barrier. */
  readQueueMax: number;
  /**
   * A leader that has not heard from enough replicas to form a phase-2 quorum (itself included)
   * in a window of `leaderTimeoutTicks` steps down (so at most 2 × that after it was cut off), so clients stop waiting on a leader cut off from the
   * group (etcd's CheckQuorum). Safety does not depend on it.
   */
  checkQuorum: boolean;
}

export const DEFAULT_PAXOS_CONFIG: Omit<PaxosConfig, 'nodes'> = {
  quorum: { kind: 'majority' },
  heartbeatTicks: 2,
  leaderTimeoutTicks: 10,
  prepareRetryTicks: 6,
  batchCommandsMax: 16,
  inflightSlotsMax: 32,
  proposalQueueMax: 1024,
  catchupSlotsMax: 64,
  readQueueMax: 1024,
  checkQuorum: true,
};

export interface QuorumSizes {
  /** Phase-1 (prepare/promise) quorum size. */
  q1: number;
  /** Phase-2 (accept/accepted) quorum size. */
  q2: number;
}

/** Quorum sizes for N nodes; throws ConfigError when Flexible Paxos quorums do not intersect. */
export function quorumSizes(n: number, quorum: QuorumConfig): QuorumSizes {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`paxos needs at least one node, got ${n}`);
  if (quorum.kind === 'majority') {
    const m = Math.floor(n / 2) + 1;
    return { q1: m, q2: m };
  }
  const { q1, q2 } = quorum;
  for (const [name, q] of [
    ['q1', q1],
    ['q2', q2],
  ] as const) {
    if (!Number.isInteger(q) || q < 1 || q > n) throw new ConfigError(`paxos quorum ${name} must be an integer in 1..${n}, got ${q}`);
  }
  if (!quorumsIntersect(n, q1, q2)) {
    throw new ConfigError(`flexible paxos needs |Q1| + |Q2| > N so every phase-1 quorum meets every phase-2 quorum; got q1=${q1} + q2=${q2} <= N=${n}`);
  }
  return { q1, q2 };
}

function positiveInt(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`paxos ${name} must be an integer in 1..${max}, got ${v}`);
}

/** Fills defaults and checks every field (and the quorum intersection). */
export function validatePaxosConfig(partial: Partial<PaxosConfig> & { nodes: readonly NodeId[] }): PaxosConfig {
  const c: PaxosConfig = { ...DEFAULT_PAXOS_CONFIG, ...partial };
  if (new Set(c.nodes).size !== c.nodes.length) throw new ConfigError(`paxos nodes must be distinct, got ${c.nodes.join(',')}`);
  quorumSizes(c.nodes.length, c.quorum);
  positiveInt('heartbeatTicks', c.heartbeatTicks, 1_000_000);
  positiveInt('leaderTimeoutTicks', c.leaderTimeoutTicks, 1_000_000);
  positiveInt('prepareRetryTicks', c.prepareRetryTicks, 1_000_000);
  positiveInt('batchCommandsMax', c.batchCommandsMax, 1_000_000);
  positiveInt('inflightSlotsMax', c.inflightSlotsMax, 1_000_000);
  positiveInt('proposalQueueMax', c.proposalQueueMax, 10_000_000);
  positiveInt('catchupSlotsMax', c.catchupSlotsMax, 1_000_000);
  positiveInt('readQueueMax', c.readQueueMax, 10_000_000);
  if (typeof c.checkQuorum !== 'boolean') throw new ConfigError(`paxos checkQuorum must be true or false, got ${JSON.stringify(c.checkQuorum)}`);
  if (c.leaderTimeoutTicks <= c.heartbeatTicks) {
    throw new ConfigError(`paxos leaderTimeoutTicks (${c.leaderTimeoutTicks}) must exceed heartbeatTicks (${c.heartbeatTicks}), or followers depose a live leader`);
  }
  return c;
}
