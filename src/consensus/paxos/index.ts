/**
 * Paxos (seed 04.6.5): single-decree roles, the Multi-Paxos replica, ballots and quorum
 * configuration (majority or Flexible Paxos).
 */
export type { Ballot } from './ballot.ts';
export { ballotEquals, ballotString, compareBallots, nextBallot, ZERO_BALLOT } from './ballot.ts';
export type { PaxosConfig, QuorumConfig, QuorumSizes } from './config.ts';
export { DEFAULT_PAXOS_CONFIG, quorumSizes, validatePaxosConfig } from './config.ts';
export type {
  AcceptedSlot,
  PaxosDurableState,
  PaxosMsg,
  PaxosOptions,
  PaxosOutgoing,
  PaxosPersist,
  PaxosReady,
  PaxosRole,
  PaxosValue,
  SlotValue,
} from './multi.ts';
export { MultiPaxos, valueKey } from './multi.ts';
export type { AcceptorReady, AcceptorState, ProposerPhase, SingleOutgoing, SingleMsg } from './single.ts';
export { Acceptor, Learner, Proposer } from './single.ts';
