/** SWIM membership with Lifeguard: public surface of the module. */
export { Awareness } from './awareness.ts';
export { BroadcastQueue } from './broadcast.ts';
export type { CodecLimits, DecodeResult, RejectReason } from './codec.ts';
export { decodePacket, encodePacket, REJECT_REASONS } from './codec.ts';
export type { SwimConfig, SwimPreset } from './config.ts';
export {
  fastConfig,
  lanConfig,
  localConfig,
  presetConfig,
  pushPullIntervalFor,
  retransmitLimit,
  SWIM_PRESETS,
  suspicionBoundsMs,
  swimConfig,
  validateSwimConfig,
  wanConfig,
} from './config.ts';
export type { Channel, MemberView, Outgoing, SwimEvent, SwimEventType, SwimMemberOptions, SwimStats } from './member.ts';
export { SwimMember } from './member.ts';
export type { MemberRecord, MemberState, SwimBody, SwimPacket, SwimUpdate } from './messages.ts';
export { Suspicion, suspicionTimeoutMs } from './suspicion.ts';
