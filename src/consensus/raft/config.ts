/**
 * Raft core configuration: every field with its unit and default, and `validateRaftConfig`,
 * which checks fields against each other (hashicorp/raft's ValidateConfig, memberlist's
 * documented config). Time is counted in ticks: the host calls `tick()` every `tickMs`
 * milliseconds of its own choosing (the core never reads a clock).
 *
 * Leaves out: storage and transport settings (they belong to the host).
 */
import { ConfigError } from '../../core/errors.ts';

export type ReadOnlyOption = 'safe' | 'lease-based';

export interface RaftConfig {
  /**
   * Minimum election timeout, ticks. A follower that hears nothing from a leader for a random
   * time in [electionTimeoutTicks, electionTimeoutTicks + electionTimeoutRandomTicks] starts an
   * election (§5.2). Default 10.
   */
  electionTimeoutTicks: number;
  /** Width of the randomization window added to the election timeout, ticks. Default = electionTimeoutTicks. */
  electionTimeoutRandomTicks: number;
  /** Leader heartbeat interval, ticks. Must be < electionTimeoutTicks. Default 1. */
  heartbeatTicks: number;
  /** Run a PreVote round before incrementing the term (thesis §9.6). Default true. */
  preVote: boolean;
  /**
   * A leader steps down when it has not heard from a quorum within an election timeout, and
   * followers that heard from a leader within the minimum election timeout refuse votes
   * (thesis §6.2, §9.6). Default true.
   */
  checkQuorum: boolean;
  /**
   * 'safe': ReadIndex confirms leadership with a heartbeat round (thesis §6.4).
   * 'lease-based': the leader answers from its lease without a round trip (thesis §6.4.1);
   * requires checkQuorum, and assumes tick rates on all servers differ by less than
   * `leaseMarginTicks` over one election timeout (bounded clock drift). Default 'safe'.
   */
  readOnlyOption: ReadOnlyOption;
  /** Safety margin subtracted from the lease (electionTimeoutTicks - margin), ticks. Default 2. */
  leaseMarginTicks: number;
  /** Maximum bytes of entries in one append message (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsgBytes: number;
  /** Maximum append messages in flight to one follower in replicate state. Default 256. */
  maxInflightMsgs: number;
  /** Maximum bytes of proposed-but-uncommitted entries on a leader; 0 = unlimited. Default 64 MiB. */
  maxUncommittedEntriesBytes: number;
  /** Maximum bytes of committed entries handed out in one Ready. Default 64 MiB. */
  maxCommittedSizePerReadyBytes: number;
  /** Bytes per InstallSnapshot chunk. Default 1 MiB. */
  snapshotChunkBytes: number;
  /** Maximum pending ReadIndex requests on a leader. Default 4096. */
  maxPendingReads: number;
  /** Followers drop proposals instead of forwarding them to the leader. Default false. */
  disableProposalForwarding: boolean;
  /**
   * Batch proposals: appends to followers are built when the host drains `ready()`, so all
   * proposals since the last drain travel in one message. Off: every proposal is sent at once.
   * Default true.
   */
  batchAppends: boolean;
}

export const DEFAULT_RAFT_CONFIG: Readonly<RaftConfig> = Object.freeze({
  electionTimeoutTicks: 10,
  electionTimeoutRandomTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  readOnlyOption: 'safe',
  leaseMarginTicks: 2,
  maxSizePerMsgBytes: 1 << 20,
  maxInflightMsgs: 256,
  maxUncommittedEntriesBytes: 64 << 20,
  maxCommittedSizePerReadyBytes: 64 << 20,
  snapshotChunkBytes: 1 << 20,
  maxPendingReads: 4096,
  disableProposalForwarding: false,
  batchAppends: true,
});

/** Fills defaults (electionTimeoutRandomTicks defaults to the chosen electionTimeoutTicks) and validates. */
export function resolveRaftConfig(partial: Partial<RaftConfig> = {}): RaftConfig {
  const electionTimeoutTicks = partial.electionTimeoutTicks ?? DEFAULT_RAFT_CONFIG.electionTimeoutTicks;
  const cfg: RaftConfig = {
    ...DEFAULT_RAFT_CONFIG,
    electionTimeoutRandomTicks: electionTimeoutTicks,
    ...partial,
  };
  validateRaftConfig(cfg);
  return cfg;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${v}`);
}

function nonNegativeInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`${name} must be a non-negative integer, got ${v}`);
}

export function validateRaftConfig(c: RaftConfig): void {
  positiveInt('electionTimeoutTicks', c.electionTimeoutTicks);
  nonNegativeInt('electionTimeoutRandomTicks', c.electionTimeoutRandomTicks);
  positiveInt('heartbeatTicks', c.heartbeatTicks);
  positiveInt('maxSizePerMsgBytes', c.maxSizePerMsgBytes);
  positiveInt('maxInflightMsgs', c.maxInflightMsgs);
  nonNegativeInt('maxUncommittedEntriesBytes', c.maxUncommittedEntriesBytes);
  positiveInt('maxCommittedSizePerReadyBytes', c.maxCommittedSizePerReadyBytes);
  positiveInt('snapshotChunkBytes', c.snapshotChunkBytes);
  positiveInt('maxPendingReads', c.maxPendingReads);
  nonNegativeInt('leaseMarginTicks', c.leaseMarginTicks);
  if (c.electionTimeoutTicks <= c.heartbeatTicks) {
    throw new ConfigError(
      `electionTimeoutTicks (${c.electionTimeoutTicks}) must be greater than heartbeatTicks (${c.heartbeatTicks}); ten times is typical`,
    );
  }
  if (c.readOnlyOption !== 'safe' && c.readOnlyOption !== 'lease-based') {
    throw new ConfigError(`readOnlyOption must be 'safe' or 'lease-based', got ${JSON.stringify(c.readOnlyOption)}`);
  }
  if (c.readOnlyOption === 'lease-based') {
    if (!c.checkQuorum) throw new ConfigError("readOnlyOption 'lease-based' requires checkQuorum: true");
    if (c.leaseMarginTicks >= c.electionTimeoutTicks) {
      throw new ConfigError(
        `leaseMarginTicks (${c.leaseMarginTicks}) must be less than electionTimeoutTicks (${c.electionTimeoutTicks}) for a lease to exist`,
      );
    }
  }
}
