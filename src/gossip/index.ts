/**
 * Public surface of `gossip/`: epidemic dissemination (rumor mongering, anti-entropy), the
 * round-synchronous driver, the models and the experiments. See docs/gossip.md.
 */
export type { AntiEntropyConfig, AntiEntropyMessage, AntiEntropyStats, Reconcilable } from './anti-entropy.ts';
export { ANTI_ENTROPY_DEFAULTS, AntiEntropy } from './anti-entropy.ts';
export type { GossipMode, RumorConfig, StopRule } from './config.ts';
export { RUMOR_DEFAULTS, validateRumorConfig } from './config.ts';
export type { ResidueRow, RoundsRow } from './experiments.ts';
export { measureResidue, measureRounds } from './experiments.ts';
export { demersResidue, roundsLeadingTerms, roundsMeanField } from './model.ts';
export type { RoundRunOptions, RoundRunResult } from './rounds.ts';
export { runRumorRounds, summarize as summarizeRounds } from './rounds.ts';
export type { Outgoing as GossipOutgoing, PeerSource, Rumor, RumorMessage, RumorMongerOptions, RumorStats } from './rumor.ts';
export { RumorMonger } from './rumor.ts';
