/**
 * Public surface of the Raft core: the sans-IO `Raft` state machine, its config, storage
 * interface with the in-memory implementation, quorum helpers and message types.
 */
export type { RaftConfig, ReadOnlyOption } from './config.ts';
export { DEFAULT_RAFT_CONFIG, resolveRaftConfig, validateRaftConfig } from './config.ts';
export { RaftLog } from './log.ts';
export type { ProgressState, SnapshotTransfer } from './progress.ts';
export { Inflights, Progress } from './progress.ts';
export type { VoteResult } from './quorum.ts';
export { hasJointQuorum, jointCommitted, jointVoteResult, majorityCommitted, majoritySize, majorityVoteResult } from './quorum.ts';
export type { OutboundMessage, ProgressStatus, RaftOptions, RaftStatus, Ready } from './raft.ts';
export { nextConfig, Raft, RaftLogLostError } from './raft.ts';
export type { RaftStorage } from './storage.ts';
export { MemoryStorage } from './storage.ts';
export type {
  ConfChange,
  ConfChangeItem,
  ConfState,
  Entry,
  HardState,
  Message,
  MessageType,
  ReadState,
  Role,
  Snapshot,
  SnapshotMetadata,
  SoftState,
} from './types.ts';
export { cloneConfState, emptyConfState, entrySizeBytes, NONE } from './types.ts';
